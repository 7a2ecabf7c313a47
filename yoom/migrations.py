"""Bring the database to the committed schema (alembic/versions) when the backend starts.

`make run` migrates before starting; a bare `reflex run` relies on this, so a fresh clone never meets
a missing table on its first sign-up. Several workers may start at once: a lock (a file next to a
SQLite database, an advisory lock on PostgreSQL) lets one migrate while the others wait.
No Reflex import: the same code runs from tests and scripts.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
import zlib
from collections.abc import Iterator

import alembic.config
import alembic.runtime.environment
import alembic.script
import sqlalchemy
from alembic.runtime.migration import MigrationContext

from yoom.settings import PROJECT_ROOT, get_settings

log = logging.getLogger(__name__)

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
_ADVISORY_LOCK_KEY = zlib.crc32(b"yoom-migrations")
LOCKED_RETRIES = 20
LOCKED_WAIT_SECONDS = 0.5


class MigrationError(RuntimeError):
    """The database can't be reached or brought up to date; the message says what to do."""


def _script() -> tuple[alembic.config.Config, alembic.script.ScriptDirectory]:
    config = alembic.config.Config(str(ALEMBIC_INI))
    return config, alembic.script.ScriptDirectory.from_config(config)


def heads() -> tuple[str, ...]:
    """The committed migrations' heads (exactly one, unless two branches still wait to be joined)."""
    return tuple(_script()[1].get_heads())


def current_revision(connection: sqlalchemy.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _exclusive(connection: sqlalchemy.Connection) -> Iterator[None]:
    if connection.dialect.name == "postgresql":
        connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        return
    data_dir = get_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def upgrade(engine: sqlalchemy.Engine) -> str | None:
    """Apply every pending migration; returns the revision the database was at before (None: empty)."""
    config, script = _script()
    if len(script.get_heads()) != 1:
        raise MigrationError(f"alembic/versions has {len(script.get_heads())} heads; join them with `alembic merge`.")
    # SQLite is busy while another worker (or a script) writes: a moment later it isn't. Waited out, not fatal.
    for attempt in range(LOCKED_RETRIES + 1):
        try:
            return _upgrade(engine, config, script)
        except sqlalchemy.exc.OperationalError as exc:
            if "locked" in str(exc.orig).lower() and attempt < LOCKED_RETRIES:
                log.info("database busy while checking migrations; trying again")
                time.sleep(LOCKED_WAIT_SECONDS)
                continue
            raise MigrationError(
                f"Yoom can't reach its database ({exc.orig}). Check DATABASE_URL in .env or the environment, "
                "and that the database server is running."
            ) from None
    raise AssertionError("unreachable")


def _upgrade(engine: sqlalchemy.Engine, config, script) -> str | None:
    with engine.connect() as connection, _exclusive(connection):
        before = current_revision(connection)
        if before == script.get_current_head():
            return before

        def run_upgrade(rev, _context):
            return script._upgrade_revs("head", rev)

        with alembic.runtime.environment.EnvironmentContext(config, script, fn=run_upgrade) as env:
            env.configure(connection=connection)
            env.run_migrations()
        connection.commit()
        log.info("database migrated from %s to %s", before or "empty", script.get_current_head())
        return before
