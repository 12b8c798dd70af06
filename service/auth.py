"""API keys, scopes and per-key rate limits.

Contract:

- A key is ``bf_<id>_<secret>``: ``id`` (12 hex characters) is public and names the key in logs and the
  audit log; ``secret`` is 32 random bytes (URL-safe base64). Only the SHA-256 of the secret is stored:
  a random secret of that length needs no slow password hash, and a leaked database gives no usable
  key. Verification compares hashes in constant time.
- Scopes (:data:`SCOPES`): ``campaign:run``, ``check``, ``brands:write``, ``review``, ``admin``;
  ``admin`` holds every scope. A request with no valid key is 401; a valid key without the route's
  scope is 403.
- Rate limits are a token bucket per key in this process (``rate_per_minute`` tokens, refilled
  continuously): with N replicas a key gets up to N times its rate, which docs/service.md states. The cap
  on a key's queued and running jobs is counted in the database, so it holds across replicas.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from service.store import KeyRecord, Store

SCOPES: tuple[str, ...] = ("campaign:run", "check", "brands:write", "review", "admin")
_KEY_FORMAT = re.compile(r"bf_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})")
DEFAULT_RATE_PER_MINUTE = 120
DEFAULT_MAX_ACTIVE_JOBS = 4


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    """A key just created: ``token`` is shown once and never stored."""

    record: KeyRecord
    token: str


def check_scopes(scopes: Sequence[str]) -> list[str]:
    """``scopes`` validated (ValueError naming the unknown one and the valid ones), sorted, unique."""
    if not scopes:
        raise ValueError(f"give at least one scope; valid scopes: {', '.join(SCOPES)}")
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; valid scopes: {', '.join(SCOPES)}")
    return sorted(set(scopes))


def create_key(
    store: Store,
    name: str,
    scopes: list[str],
    *,
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
    max_active_jobs: int = DEFAULT_MAX_ACTIVE_JOBS,
) -> NewKey:
    """Create and store a key; the returned token is the only copy of its secret."""
    if not name.strip() or len(name) > 200:
        raise ValueError("a key needs a name of 1 to 200 characters")
    if not 1 <= rate_per_minute <= 100_000:
        raise ValueError("rate_per_minute must be between 1 and 100000")
    if not 1 <= max_active_jobs <= 1000:
        raise ValueError("max_active_jobs must be between 1 and 1000")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = KeyRecord(
        id=key_id,
        name=name.strip(),
        secret_hash=hash_secret(secret),
        scopes=frozenset(check_scopes(scopes)),
        rate_per_minute=rate_per_minute,
        max_active_jobs=max_active_jobs,
        created_at=time.time(),
        revoked_at=None,
    )
    store.add_key(record)
    return NewKey(record, f"bf_{key_id}_{secret}")


def verify_token(store: Store, token: str) -> KeyRecord | None:
    """The live key ``token`` belongs to, or None (malformed, unknown, wrong secret, revoked)."""
    match = _KEY_FORMAT.fullmatch(token.strip())
    if match is None:
        return None
    record = store.get_key(match.group(1))
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.secret_hash, hash_secret(match.group(2))):
        return None
    return record


def has_scope(record: KeyRecord, scope: str) -> bool:
    return "admin" in record.scopes or scope in record.scopes


def clock() -> float:
    """The rate limiters' clock (seconds): a test that counts refused tries stops it, so what it counts
    does not depend on how fast the machine runs the tries."""
    return time.monotonic()


class RateLimiter:
    """Token buckets per key id, refilled at ``rate_per_minute / 60`` per second (of :func:`clock`) up to
    ``rate_per_minute``."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, rate_per_minute: int, spend: bool = True) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until the next token. With ``spend=False``
        only say whether one is there."""
        now = clock()
        per_second = rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(rate_per_minute), now))
            tokens = min(float(rate_per_minute), tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0 if spend else tokens, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / per_second
