"""CACHE_URL puts Django's cache in Redis, shared by every server process: sessions are
read from it (and written through to the database), and the admin API's per-key rate
limit counts there. Without it the cache stays in local memory and nothing needs Redis.
Behind a transaction pooler (DATABASE_PREPARED_STATEMENTS=0) nothing relies on a session."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from django.contrib.sessions.models import Session

from tests.admin_api.conftest import KeyClient, make_key
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent

SHOW_CACHE = """
import json
from django.conf import settings
print(json.dumps({
    "cache": settings.CACHES["default"]["BACKEND"],
    "location": settings.CACHES["default"].get("LOCATION", ""),
    "sessions": settings.SESSION_ENGINE,
}))
"""


def configured(**env):
    base = {key: value for key, value in os.environ.items() if key != "CACHE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_CACHE],
        cwd=ROOT,
        env={**base, "SECRET_KEY": "test-only-insecure-key", "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_cache_url_the_cache_is_local_memory_and_sessions_stay_in_the_database():
    result = configured()
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["sessions"] == "django.contrib.sessions.backends.db"


def test_cache_url_puts_the_cache_and_the_sessions_in_redis():
    result = configured(CACHE_URL="redis://cache.internal:6379/2")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {
        "cache": "django.core.cache.backends.redis.RedisCache",
        "location": "redis://cache.internal:6379/2",
        "sessions": "django.contrib.sessions.backends.cached_db",
    }


def test_a_cache_url_that_is_not_redis_is_a_clear_error_not_a_traceback_later():
    result = configured(CACHE_URL="memcached://cache.internal:11211")
    assert result.returncode != 0
    assert "CACHE_URL must be a Redis address" in result.stderr


def test_a_sign_in_session_lives_in_redis_and_in_the_database(client, alice, redis_cache):
    server, prefix = redis_cache
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    session_key = client.cookies["sessionid"].value
    assert server.exists(f"{prefix}:1:django.contrib.sessions.cached_db{session_key}")
    assert Session.objects.filter(session_key=session_key).exists()  # a flush signs nobody out
    assert client.get("/").status_code == 200


def test_a_session_whose_cache_entry_is_gone_is_read_from_the_database(client, alice, redis_cache):
    server, prefix = redis_cache
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    session_key = client.cookies["sessionid"].value
    server.delete(f"{prefix}:1:django.contrib.sessions.cached_db{session_key}")
    assert client.get("/").status_code == 200
    assert server.exists(f"{prefix}:1:django.contrib.sessions.cached_db{session_key}")


def test_the_admin_api_rate_limit_counts_in_redis_shared_by_every_process(
    client, reseller_a, settings, redis_cache
):
    server, prefix = redis_cache
    settings.ADMIN_API_RATE_LIMIT = "3/min"
    busy = KeyClient(client, make_key(reseller_a, name="Busy"))
    assert [busy.get("/customers").status_code for _ in range(2)] == [200, 200]
    # The count is in Redis, where every server process reads the same two requests.
    counted = [key for key in server.scan_iter(match=f"{prefix}:*") if b"admin-api-key" in key]
    assert len(counted) == 1
    assert len(pickle.loads(server.get(counted[0]))) == 2
    assert busy.get("/customers").status_code == 200
    limited = busy.get("/customers")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60


SHOW_DATABASE = """
import json
from django.conf import settings
print(json.dumps({"no_server_side_cursors": settings.DATABASES["default"].get(
    "DISABLE_SERVER_SIDE_CURSORS", False)}))
"""


def database_settings(**env) -> dict:
    base = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_DATABASE],
        cwd=ROOT,
        env={**base, "SECRET_KEY": "test-only-insecure-key", "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_a_transaction_pooler_the_exports_read_without_server_side_cursors():
    pooled = "postgres://app@pgbouncer.internal:6432/securecloud"
    assert database_settings(DATABASE_URL=pooled) == {"no_server_side_cursors": False}
    assert database_settings(DATABASE_URL=pooled, DATABASE_PREPARED_STATEMENTS="0") == {
        "no_server_side_cursors": True
    }
