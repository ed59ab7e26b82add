"""The services that running past one machine uses: Redis (127.0.0.1:6379) and RabbitMQ
(127.0.0.1:5672, guest/guest). A test that needs one is skipped when it does not answer,
unless REQUIRE_SERVICES=1 (CI, which starts them), where that is a failure. And real
Celery worker processes on either, on the test's database (`celery_tasks`)."""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection
from kombu import Connection

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


ROOT = Path(__file__).resolve().parent.parent.parent
CELERY = Path(sys.executable).with_name("celery")
DEADLINE = 60  # seconds a worker may take to start or to send: a hang fails, never waits


def database_env() -> dict:
    """Point the worker at the database this test runs on (committed data only)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return {"DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"}


@pytest.fixture
def celery_tasks(settings):
    """Switch this process to the Celery backend on `broker` with a queue of the test's
    own; returns a function that starts a worker process on it (its environment plus
    `extra_env`; what it has printed so far in its `output` list)."""
    started = []
    queue = f"test-{uuid.uuid4().hex}"

    def start(broker: str, mail_dir: Path, **extra_env: str) -> subprocess.Popen:
        settings.CELERY_BROKER_URL = broker
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        settings.TASKS = {"default": {"BACKEND": "securecloud.broker.backend.CeleryBackend"}}
        env = {
            **os.environ,
            **database_env(),
            "SECRET_KEY": "test-only-insecure-key",
            "DEBUG": "0",
            "TASKS_BACKEND": "celery",
            "CELERY_BROKER_URL": broker,
            "CELERY_QUEUE": queue,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "SITE_URL": "https://console.example.com",
            **extra_env,
        }
        worker = subprocess.Popen(
            [str(CELERY), "-A", "securecloud.broker.worker", "worker", "--pool", "solo"]
            + ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
            + ["--hostname", f"{queue}@%h"],  # its own name: other workers may run here
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append((worker, broker))
        worker.output = wait_until_ready(worker)
        return worker

    yield start
    for worker, broker in started:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        with Connection(broker) as broker_connection:
            broker_connection.default_channel.queue_delete(queue)


def wait_until_ready(worker: subprocess.Popen) -> list[str]:
    """Wait for the worker to say it is ready; returns the list its output goes on
    filling."""
    ready = threading.Event()
    output: list[str] = []

    def read():
        for line in worker.stdout:  # keeps draining, so the worker never blocks on a pipe
            output.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(DEADLINE):
        worker.kill()
        pytest.fail("The Celery worker did not start:\n" + "".join(output[-40:]))
    return output
