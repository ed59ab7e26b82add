"""SQLite runs with the options the console relies on (IMMEDIATE transactions, a busy
timeout, WAL), whether it is the default file, SQLITE_PATH or a sqlite:// DATABASE_URL."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from securecloud.settings import database_from_url, sqlite_database

ROOT = Path(__file__).resolve().parent.parent
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

# What a connection of the configured database says about itself.
SHOW_CONNECTION = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy = cursor.fetchone()[0]
print(json.dumps({
    "name": str(connection.settings_dict["NAME"]),
    "test_name": connection.settings_dict["TEST"]["NAME"],
    "transaction_mode": connection.transaction_mode,
    "journal_mode": journal,
    "busy_timeout_ms": busy,
}))
"""


def connection_with(tmp_path, **env) -> dict:
    base = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_CONNECTION],
        cwd=ROOT,
        env={**base, "SECRET_KEY": "test-only-insecure-key", "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_sqlite_database_url_runs_like_the_default_sqlite_file(tmp_path):
    by_path = connection_with(tmp_path, SQLITE_PATH=str(tmp_path / "by-path.sqlite3"))
    by_url = connection_with(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'by-url.sqlite3'}")
    expected = {"transaction_mode": "IMMEDIATE", "journal_mode": "wal", "busy_timeout_ms": 20000}
    for shown, name in ((by_path, "by-path.sqlite3"), (by_url, "by-url.sqlite3")):
        assert {key: shown[key] for key in expected} == expected, shown
        assert shown["name"] == str(tmp_path / name)
        # Tests use a file beside it, not memory: the concurrency tests need connections.
        assert shown["test_name"] == str(tmp_path / f"test-{name}")


def test_every_way_of_choosing_sqlite_gets_the_same_options(tmp_path):
    path = tmp_path / "console.sqlite3"
    for database in (
        sqlite_database(path),
        database_from_url(f"sqlite:///{path}"),
    ):
        assert database["ENGINE"] == "django.db.backends.sqlite3"
        assert str(database["NAME"]) == str(path)
        assert database["OPTIONS"] == SQLITE_OPTIONS
        assert database["TEST"] == {"NAME": str(tmp_path / "test-console.sqlite3")}
    # An in-memory database keeps the options and has no file to name for tests.
    memory = database_from_url("sqlite://:memory:")
    assert memory["OPTIONS"] == SQLITE_OPTIONS and "TEST" not in memory


def test_a_postgresql_url_keeps_its_connection_settings():
    database = database_from_url("postgres://console:secret@db.example:5432/securecloud")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["HOST"], database["PORT"]) == (
        "securecloud",
        "console",
        "db.example",
        5432,
    )
    assert database["CONN_MAX_AGE"] == 60 and database["CONN_HEALTH_CHECKS"] is True
    assert "transaction_mode" not in database.get("OPTIONS", {})


@pytest.fixture
def sqlite_url_database(tmp_path, django_db_blocker):
    """A second database configured from a sqlite:// DATABASE_URL, as settings read it."""
    from django.db import connections

    from securecloud.settings import database_from_url

    alias = "sqlite_from_url"
    settings_dict = database_from_url(f"sqlite:///{tmp_path / 'from-url.sqlite3'}")
    connections.settings[alias] = connections.configure_settings(
        {"default": {}, alias: settings_dict}
    )[alias]
    try:
        with django_db_blocker.unblock():
            with connections[alias].cursor() as cursor:
                cursor.execute("CREATE TABLE counter (value integer NOT NULL)")
                cursor.execute("INSERT INTO counter (value) VALUES (0)")
            yield alias
            connections[alias].close()
    finally:
        del connections.settings[alias]


@pytest.mark.concurrency
def test_writers_on_a_sqlite_database_url_are_serialised_not_refused(sqlite_url_database):
    # A tree write reads lft/rght, then writes from them: the shape of this counter. On a
    # SQLite chosen by URL as on the default file, such transactions wait for each other
    # instead of failing with "database is locked" or losing an update.
    from django.db import connections, transaction

    alias, writers, rounds = sqlite_url_database, 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write():
        try:
            start.wait(timeout=30)
            for _ in range(rounds):
                with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                    cursor.execute("SELECT value FROM counter")
                    (value,) = cursor.fetchone()
                    cursor.execute("UPDATE counter SET value = %s", [value + 1])
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT value FROM counter")
        assert cursor.fetchone()[0] == writers * rounds
