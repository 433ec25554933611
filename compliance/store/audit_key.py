"""The audit key: a secret kept outside the database that signs each audit event (HMAC-SHA256).

Configured like the other secrets, in the environment of the process that writes or verifies:
`COMPLIANCE_AUDIT_KEY` (the key itself, at least 16 characters) or `COMPLIANCE_AUDIT_KEY_FILE`
(a file holding it, e.g. a mounted secret). Without either, the log keeps its public hash chain
only, which anyone with write access to the database can recompute (see docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from compliance.problems import ComplianceError

KEY_ENV = "COMPLIANCE_AUDIT_KEY"
KEY_FILE_ENV = "COMPLIANCE_AUDIT_KEY_FILE"
MIN_KEY_CHARS = 16
MAX_KEY_FILE_BYTES = 64 * 1024


def audit_key() -> bytes | None:
    """The configured key, None when none is configured; a configured but unusable key is an error."""
    value = os.environ.get(KEY_ENV)
    source = KEY_ENV
    path = os.environ.get(KEY_FILE_ENV)
    if value is not None and path:
        raise ComplianceError(f"set {KEY_ENV} or {KEY_FILE_ENV}, not both")
    if path:
        source = f"{KEY_FILE_ENV} ({path})"
        try:
            from compliance.yamlsource import read_limited

            value = read_limited(Path(path), MAX_KEY_FILE_BYTES).decode("utf-8").strip()
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ComplianceError(f"the audit key file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
                                  ) from None
    if value is None:
        return None
    value = value.strip()
    if len(value) < MIN_KEY_CHARS:
        raise ComplianceError(f"the audit key from {source} is shorter than {MIN_KEY_CHARS} characters; use a "
                              "long random secret (`python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return value.encode("utf-8")


def event_mac(key: bytes, event_hash: str) -> str:
    """HMAC-SHA256 of an event's chained hash: only a key holder can make one."""
    return hmac.new(key, event_hash.encode("ascii"), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)
