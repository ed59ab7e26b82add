"""The services that running past one machine uses: Redis (127.0.0.1:6379) and RabbitMQ
(127.0.0.1:5672, guest/guest). A test that needs one is skipped when it does not answer,
unless REQUIRE_SERVICES=1 (CI, which starts them), where that is a failure."""

import os
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def unavailable(message: str):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def rabbitmq_answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:  # refused, timed out, bad credentials: not usable
        return False


@pytest.fixture
def redis_url():
    if not redis_answers(REDIS_URL):
        unavailable(f"Redis does not answer at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def rabbitmq_url():
    if not rabbitmq_answers(RABBITMQ_URL):
        unavailable(f"RabbitMQ does not answer at {RABBITMQ_URL}")
    return RABBITMQ_URL


@pytest.fixture
def redis_cache(settings, redis_url):
    """Django's cache in Redis, as CACHE_URL sets it, under a prefix of this test's own
    (other runs share the server); its keys are removed afterwards."""
    import redis
    from django.core.cache import caches

    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    server = redis.Redis.from_url(redis_url)
    yield server, prefix
    caches.close_all()
    for key in server.scan_iter(match=f"{prefix}:*"):
        server.delete(key)
