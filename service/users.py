"""Studio users, their roles, and sign-in sessions.

Contract:

- A user has a name, a role — ``marketer`` (edits, approves, rejects and sends back copy), ``legal``
  (the same, but approves only once a piece has no compliance finding left; service/review.py) or
  ``admin`` (everything, and manages users) — and a password stored only as a salted scrypt hash.
- Signing in creates a session: a random token (the studio's cookie: HttpOnly, SameSite=Strict) stored
  as its SHA-256, with a CSRF token that every studio form carries, valid for :data:`SESSION_SECONDS`.
  Disabling a user ends their sessions at once. A wrong name and a wrong password are the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from core.errors import InputError
from service.store import Store, sessions, users

Role = Literal["marketer", "legal", "admin"]
ROLES: tuple[Role, ...] = ("marketer", "legal", "admin")
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# scrypt at n=2**14, r=8: 16 MiB and ~50 ms a check on this CPU; the salt is 16 random bytes.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT, dklen=32)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        again = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(again.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: float
    disabled_at: float | None


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float


def _user(row: Any) -> User:
    return User(row["name"], row["role"], row["created_at"], row["disabled_at"])


class Users:
    """The ``users`` and ``sessions`` tables of a :class:`~service.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def create(self, name: str, role: str, password: str) -> User:
        if not _NAME.match(name):
            raise InputError(
                "a user name is 1 to 64 lowercase letters, digits, '.', '_' or '-'", field="name"
            )
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")
        if len(password) < MIN_PASSWORD:
            raise InputError(f"a password needs at least {MIN_PASSWORD} characters", field="password")
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    users.insert().values(
                        name=name, role=role, password_hash=hash_password(password), created_at=now
                    )
                )
        except sa.exc.IntegrityError:
            raise InputError(f"a user {name!r} exists already", field="name") from None
        return User(name, role, now, None)  # type: ignore[arg-type]

    def get(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.name == name)).mappings().first()
        return _user(row) if row else None

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(users.select().order_by(users.c.name)).mappings()]

    def disable(self, name: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                users.update()
                .where(users.c.name == name, users.c.disabled_at.is_(None))
                .values(disabled_at=time.time())
            )
            conn.execute(sessions.delete().where(sessions.c.user == name))
        return bool(done.rowcount)

    def sign_in(self, name: str, password: str) -> tuple[str, Session] | None:
        """A new session token and its session, or None for a wrong name, password or a disabled user."""
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.name == name)).mappings().first()
        if row is None:
            verify_password(password, hash_password("not a user"))  # the same time as a wrong password
            return None
        if not verify_password(password, row["password_hash"]) or row["disabled_at"] is not None:
            return None
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), time.time()
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < now))
            conn.execute(
                sessions.insert().values(
                    token_hash=_token_hash(token),
                    user=name,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + SESSION_SECONDS,
                )
            )
        return token, Session(_user(row), csrf, now + SESSION_SECONDS)

    def session(self, token: str) -> Session | None:
        """The live session of ``token`` (None when unknown, expired, or its user is disabled)."""
        if not token or len(token) > 200:
            return None
        query = (
            sa.select(sessions.c.csrf, sessions.c.expires_at, users)
            .join(users, users.c.name == sessions.c.user)
            .where(sessions.c.token_hash == _token_hash(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["expires_at"] < time.time() or row["disabled_at"] is not None:
            return None
        return Session(_user(row), row["csrf"], row["expires_at"])

    def sign_out(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))
