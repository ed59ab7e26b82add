"""TASKS_BACKEND=celery: the emails run on Celery workers, with RabbitMQ or Redis as the
broker. A real worker process, on the same database, sends a queued welcome email; the
page that queued it never waits for the mail server."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from securecloud.mail.emails import queue_welcome_email
from securecloud.mail.models import EmailDelivery
from tests.scale.conftest import DEADLINE, ROOT


def wait_for_status(delivery: EmailDelivery) -> str:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status != EmailDelivery.Status.QUEUED:
            return delivery.status
        time.sleep(0.1)
    return delivery.status


def sent_messages(mail_dir: Path) -> str:
    return "".join(path.read_text() for path in sorted(mail_dir.glob("*.log")))


def welcome_email_through_a_worker(celery_tasks, broker, customer, tmp_path):
    mail_dir = tmp_path / "mail"
    celery_tasks(broker, mail_dir)
    delivery = queue_welcome_email(customer, acting_user=None, origin="test")
    assert delivery.status == EmailDelivery.Status.QUEUED  # the page does not wait
    assert wait_for_status(delivery) == EmailDelivery.Status.SENT
    assert delivery.sent_at is not None
    sent = sent_messages(mail_dir)
    assert "To: it@acme.example" in sent
    assert sent.count("\nTo: ") == 1  # once


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_rabbitmq_sends_a_queued_welcome_email(
    celery_tasks, rabbitmq_url, customer_a1, tmp_path
):
    welcome_email_through_a_worker(celery_tasks, rabbitmq_url, customer_a1, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_sends_a_queued_welcome_email(
    celery_tasks, redis_url, customer_a1, tmp_path
):
    welcome_email_through_a_worker(celery_tasks, redis_url, customer_a1, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_inside_a_transaction_is_published_when_it_commits(
    celery_tasks, rabbitmq_url, customer_a1, tmp_path
):
    mail_dir = tmp_path / "mail"
    celery_tasks(rabbitmq_url, mail_dir)
    with transaction.atomic():
        delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
        time.sleep(1)  # a worker that got the message now would find no delivery row
        assert not list(mail_dir.glob("*.log"))
    assert wait_for_status(delivery) == EmailDelivery.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_does_not_answer_fails_the_delivery_with_a_reason(settings, customer_a1):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 1
    settings.CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
    settings.TASKS = {"default": {"BACKEND": "securecloud.broker.backend.CeleryBackend"}}
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    assert delivery.status == EmailDelivery.Status.FAILED
    assert delivery.error.startswith("Could not queue the email")


def manage_check(**env) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if not key.startswith("TASKS_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "SECRET_KEY": "test-only-insecure-key", "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unknown_tasks_backend_is_a_clear_error():
    result = manage_check(TASKS_BACKEND="rabbit")
    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of: immediate, database, celery." in result.stderr


def test_celery_without_a_broker_is_a_clear_error():
    result = manage_check(TASKS_BACKEND="celery", CELERY_BROKER_URL="")
    assert result.returncode != 0
    assert "TASKS_BACKEND=celery needs CELERY_BROKER_URL" in result.stderr


def test_celery_with_a_broker_passes_the_checks():
    result = manage_check(TASKS_BACKEND="celery", CELERY_BROKER_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
