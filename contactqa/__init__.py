"""contactqa: open quality monitoring for contact centres."""
__version__ = "0.1.0"
