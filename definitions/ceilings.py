"""The most a definition may allow (its ``limits:`` and a field's ``max_length``/``max_items`` stay
at or below these): the engine refuses anything bigger before it reads a definition at all.
Kept apart from the schema (``definitions.schema`` re-exports them) so that checking a
command's input does not import pydantic."""

from __future__ import annotations

CEILING_TEXT = 1_000_000  # characters of one text value or comment
CEILING_ITEMS = 10_000  # entries of one list
CEILING_PAYLOAD_BYTES = 4 * 1024 * 1024  # one payload as canonical JSON (UTF-8)
