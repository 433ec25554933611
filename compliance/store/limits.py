"""The one table of text limits: the YAML schema (documents.py), the audit trail and the
database columns (tables.py) all read their lengths from here, so a value that validates
always fits its column (PostgreSQL refuses what SQLite would quietly store)."""

from __future__ import annotations

ID_LEN = 100             # ids, category keys, certification names, price providers
ID_BODY = r"[a-z0-9][a-z0-9._-]*"  # an id: lower case, digits, '.', '_', '-'; starts with a letter or digit
ID_PATTERN = rf"^{ID_BODY}$"
NAME_LEN = 200           # names, services, regions, owners, versions, models, tags
TEXT_LEN = 2000          # descriptions, notes, URLs, documents, evidence
COUNTRY_LEN = 2          # ISO 3166 alpha-2
ACTOR_LEN = 200          # who made a change (audit event)
REASON_LEN = 2000        # why (audit event)
ACTION_LEN = 40          # audit event action and entity kind
HASH_LEN = 64            # a SHA-256 or HMAC-SHA256 in hex


def text_problem(value: str, limit: int) -> str | None:
    """Why `value` cannot be stored (too long, or a NUL character PostgreSQL refuses), or None."""
    if "\x00" in value:
        return "must not contain a NUL character"
    if len(value) > limit:
        return f"is {len(value):,} characters long; at most {limit:,} are allowed"
    return None
