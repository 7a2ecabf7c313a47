"""The committed migrations (alembic/versions) are one line of history and build exactly the models' schema."""

from __future__ import annotations

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import yoom.models  # noqa: F401  (the tables)
from yoom import migrations


def test_one_head():
    assert len(migrations.heads()) == 1, migrations.heads()


def test_migrating_an_empty_database_gives_the_models_schema_and_is_idempotent(tmp_path, monkeypatch):
    import yoom.settings

    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    yoom.settings.get_settings.cache_clear()
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/fresh.db")
    try:
        assert migrations.upgrade(engine) is None  # it was empty
        with engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.heads()[0]
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
        assert migrations.upgrade(engine) == migrations.heads()[0]  # nothing left to do
    finally:
        engine.dispose()
        yoom.settings.get_settings.cache_clear()


def test_an_unreachable_database_is_a_clear_message(tmp_path, monkeypatch):
    import pytest

    import yoom.settings

    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    yoom.settings.get_settings.cache_clear()
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(migrations.MigrationError, match="DATABASE_URL"):
        migrations.upgrade(engine)
    yoom.settings.get_settings.cache_clear()


def test_a_database_busy_with_another_writer_is_waited_for_not_fatal(tmp_path, monkeypatch):
    """Another worker (or a script) holds SQLite's write lock while this one starts: it waits, then goes on."""
    import sqlite3
    import threading

    import yoom.settings

    monkeypatch.setenv("YOOM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(migrations, "LOCKED_WAIT_SECONDS", 0.1)
    yoom.settings.get_settings.cache_clear()
    path = tmp_path / "busy.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    try:
        migrations.upgrade(engine)
        other = sqlite3.connect(path, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")  # nobody else may even read until it commits
        threading.Timer(0.6, other.commit).start()
        assert migrations.upgrade(engine) == migrations.heads()[0]
        other.close()
    finally:
        engine.dispose()
        yoom.settings.get_settings.cache_clear()
