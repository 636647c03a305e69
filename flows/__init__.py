"""Prefect flows: thin entry points that wire the contactqa package's functions into a pipeline."""
