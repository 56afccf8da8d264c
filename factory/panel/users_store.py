"""The panel's users and its session secret, in their own tables of the ledger's SQLite file.

The tables (``panel_users``, ``panel_settings``) are created here by
``migrate`` (idempotent, versioned in ``panel_settings``), not in the ledger's
``schema.sql``: the ledger owns the line's records, the panel owns who may
look at them. Keeping them in the same file means one backup holds both.
The store opens its own connection (WAL lets it sit beside the ledger's
writer) and serialises its own use with a lock, since the panel's request
handlers run on a thread pool.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from pathlib import Path

from factory.errors import InvalidField, LedgerError
from factory.panel.auth import User, check_password, check_role, check_user_name, hash_password, verify_password

__all__ = ["USERS_SCHEMA_VERSION", "UserStore", "migrate"]

USERS_SCHEMA_VERSION = 1

_MIGRATIONS = {
    1: """
    CREATE TABLE IF NOT EXISTS panel_users (
        name          TEXT PRIMARY KEY,
        role          TEXT NOT NULL CHECK (role IN ('operator', 'reviewer', 'supervisor')),
        password_hash TEXT NOT NULL,
        created_at    REAL NOT NULL,
        created_by    TEXT NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
    );
    """,
}


def migrate(db: sqlite3.Connection) -> int:
    """Bring the panel's tables to ``USERS_SCHEMA_VERSION``; returns the version found before."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS panel_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = db.execute("SELECT value FROM panel_settings WHERE key = 'users_schema_version'").fetchone()
        found = int(row[0]) if row else 0
        if found > USERS_SCHEMA_VERSION:
            raise LedgerError(f"panel tables are at version {found}, newer than this program's {USERS_SCHEMA_VERSION}")
        for version in range(found + 1, USERS_SCHEMA_VERSION + 1):
            # One statement at a time: executescript() would commit our transaction halfway.
            for statement in filter(str.strip, _MIGRATIONS[version].split(";")):
                db.execute(statement)
        db.execute("INSERT OR REPLACE INTO panel_settings (key, value) VALUES ('users_schema_version', ?)",
                   (str(USERS_SCHEMA_VERSION),))
        if db.execute("SELECT 1 FROM panel_settings WHERE key = 'session_secret'").fetchone() is None:
            db.execute("INSERT INTO panel_settings (key, value) VALUES ('session_secret', ?)",
                       (secrets.token_hex(32),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found


class UserStore:
    """Users of the panel: add, verify, list, change role or password, disable."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout_s: float = 30.0) -> UserStore:
        """Open the store in the SQLite file at ``path`` (normally the ledger's), migrating it."""
        path = str(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            migrate(db)
        except sqlite3.Error as err:
            raise LedgerError(f"{path}: cannot open the panel's users ({err})") from err
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                raise LedgerError(f"{self.path}: {err}") from err

    def session_secret(self) -> bytes:
        """The key that signs session cookies (made once per database, kept across restarts)."""
        return bytes.fromhex(self._run("SELECT value FROM panel_settings WHERE key = 'session_secret'")[0][0])

    def add(self, name: str, role: str, password: str, *, by: str, now: float | None = None) -> User:
        """A new user; ``InvalidField`` names the bad field (a name already taken is one)."""
        problems = []
        for check, value in ((check_user_name, name), (check_role, role), (check_password, password)):
            try:
                check(value)
            except InvalidField as err:
                problems.append(err)
        if problems:
            raise problems[0]
        if self._run("SELECT 1 FROM panel_users WHERE name = ?", (name,)):
            raise InvalidField("name", "is already a user", name)
        self._run("INSERT INTO panel_users (name, role, password_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                  (name, role, hash_password(password), time.time() if now is None else now, by))
        return User(name, role)

    def get(self, name: str) -> User | None:
        """The enabled user called ``name``, or None."""
        rows = self._run("SELECT name, role FROM panel_users WHERE name = ? AND disabled = 0", (name,))
        return User(*rows[0]) if rows else None

    def verify(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs; None otherwise (unknown names cost the same time)."""
        rows = self._run("SELECT name, role, password_hash FROM panel_users WHERE name = ? AND disabled = 0", (name,))
        if not rows:
            verify_password(password, _DUMMY_HASH)  # the same work, so timing does not tell who exists
            return None
        user_name, role, stored = rows[0]
        return User(user_name, role) if verify_password(password, stored) else None

    def users(self) -> list[dict]:
        rows = self._run("SELECT name, role, created_at, created_by, disabled FROM panel_users ORDER BY name")
        return [{"name": n, "role": r, "created_at": c, "created_by": b, "disabled": bool(d)} for n, r, c, b, d in rows]

    def set_role(self, name: str, role: str) -> None:
        check_role(role)
        self._require(name)
        self._run("UPDATE panel_users SET role = ? WHERE name = ?", (role, name))

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        self._require(name)
        self._run("UPDATE panel_users SET password_hash = ? WHERE name = ?", (hash_password(password), name))

    def set_disabled(self, name: str, disabled: bool) -> None:
        self._require(name)
        self._run("UPDATE panel_users SET disabled = ? WHERE name = ?", (int(disabled), name))

    def _require(self, name: str) -> None:
        if not self._run("SELECT 1 FROM panel_users WHERE name = ?", (name,)):
            raise InvalidField("name", "is not a user", name)


_DUMMY_HASH = hash_password("not a password", salt=b"\0" * 16)
