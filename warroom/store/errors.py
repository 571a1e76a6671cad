"""What the store raises. StoreError's message is one line a responder can act on."""

from __future__ import annotations


class StoreError(Exception):
    pass


class ReadOnlyStore(StoreError):
    pass


class IncidentNotFound(StoreError):
    pass


class DamagedIncident(StoreError):
    """An incident's files cannot be read (truncated, garbage, not a TinyDB file)."""
