"""Connectors: one module per export format, each turning a file into canonical rows.

A connector never raises on a bad record: it rejects the record with the reason,
so that for every file, records read = rows loaded + rows quarantined.
"""

from contactqa.sources.base import CONNECTORS, IngestContext, ParsedFile, Reject, parse_file

__all__ = ["CONNECTORS", "IngestContext", "ParsedFile", "Reject", "parse_file"]
