"""Deferred tasks on Celery (`run_after`): a webhook's retry waits on the broker and a
real worker delivers it once it is due, on RabbitMQ and on Redis. A run due later than
CELERY_MAX_ETA hops: the worker that receives it early publishes it again and runs
nothing, so no message is held past the broker's limits and none runs before its time."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task

from clients.models import Event
from securecloud.broker.worker import RUN_TASK
from securecloud.events import webhooks
from securecloud.events.models import WebhookDelivery
from securecloud.events.tasks import deliver_webhook, queue_delivery
from tests.events import conftest as webhook_receivers
from tests.scale.conftest import DEADLINE, ROOT
from tests.scale.test_celery_tasks import manage_check

CELERY_BACKEND = {"default": {"BACKEND": "securecloud.broker.backend.CeleryBackend"}}
RAN: list[str] = []

receiver = webhook_receivers.receiver  # a real HTTP receiver on 127.0.0.1
private_ok = webhook_receivers.private_ok  # which the URL guard lets through


@task()
def remember(value: str) -> str:
    """A task for the hop tests: records that it ran."""
    RAN.append(value)
    return value


@pytest.fixture
def published(db, settings, monkeypatch):
    """The Celery backend, with what it would publish (after the commit) recorded
    instead of sent."""
    settings.TASKS = CELERY_BACKEND
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_MAX_ETA = 300
    backend = deliver_webhook.get_backend()
    sent: list[dict] = []

    def send_task(name, args=None, kwargs=None, **options):
        sent.append({"name": name, "args": args, "kwargs": kwargs, **options})

    monkeypatch.setattr(backend.app, "send_task", send_task)
    RAN.clear()
    return backend, sent


def test_the_celery_backend_supports_run_after(published):
    backend, _ = published
    assert backend.supports_defer


def test_a_run_due_within_the_cap_waits_on_the_broker_until_then(
    published, django_capture_on_commit_callbacks
):
    _, sent = published
    due = timezone.now() + timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        deliver_webhook.using(run_after=due).enqueue(7)
    [message] = sent
    assert message["name"] == RUN_TASK
    assert message["args"] == ["securecloud.events.tasks.deliver_webhook", [7], {}]
    assert message["eta"] == due
    assert message["kwargs"] == {"run_after": due.isoformat(), "queue": "securecloud"}


def test_a_run_due_later_than_the_cap_waits_the_cap_and_carries_its_time(
    published, django_capture_on_commit_callbacks
):
    _, sent = published
    due = timezone.now() + timedelta(hours=12)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        deliver_webhook.using(run_after=due).enqueue(7)
    after = timezone.now()
    [message] = sent
    assert before + timedelta(seconds=300) <= message["eta"] <= after + timedelta(seconds=300)
    assert message["kwargs"]["run_after"] == due.isoformat()


def test_a_run_already_due_is_published_for_now(published, django_capture_on_commit_callbacks):
    _, sent = published
    with django_capture_on_commit_callbacks(execute=True):
        deliver_webhook.using(run_after=timezone.now() - timedelta(seconds=5)).enqueue(7)
        deliver_webhook.enqueue(8)
    assert [("eta" in m, m["kwargs"]) for m in sent] == [(False, {}), (False, {})]


def test_a_worker_that_receives_a_run_before_its_time_publishes_it_again(published):
    backend, sent = published
    due = timezone.now() + timedelta(hours=2)
    run = backend.app.tasks[RUN_TASK].apply(
        args=[f"{__name__}.remember", ["late"], {}],
        kwargs={"run_after": due.isoformat(), "queue": "hooks"},
        task_id="the-run",
    )
    assert run.result is None
    assert RAN == []  # not before its time
    [again] = sent
    assert again["task_id"] == "the-run" and again["queue"] == "hooks"
    assert again["args"] == [f"{__name__}.remember", ["late"], {}]
    assert again["kwargs"]["run_after"] == due.isoformat()
    assert again["eta"] < due


def test_a_worker_runs_a_run_whose_time_has_come(published):
    backend, sent = published
    due = timezone.now() - timedelta(seconds=1)
    run = backend.app.tasks[RUN_TASK].apply(
        args=[f"{__name__}.remember", ["now"], {}],
        kwargs={"run_after": due.isoformat(), "queue": "hooks"},
    )
    assert run.result == "now"
    assert RAN == ["now"] and sent == []


def test_the_cap_must_stay_below_the_visibility_timeout():
    result = manage_check(CELERY_MAX_ETA="900", CELERY_VISIBILITY_TIMEOUT="600")
    assert result.returncode != 0
    assert "CELERY_MAX_ETA must be more than 0 and less than CELERY_VISIBILITY_TIMEOUT" in (
        result.stderr
    )


def test_a_short_visibility_timeout_shortens_the_default_cap():
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CELERY_MAX_ETA)"],
        cwd=ROOT,
        env={
            **{key: value for key, value in os.environ.items() if not key.startswith("CELERY_")},
            "DJANGO_SETTINGS_MODULE": "securecloud.settings",
            "SECRET_KEY": "test-only-insecure-key",
            "DEBUG": "0",
            "CELERY_VISIBILITY_TIMEOUT": "10",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "5", result.stderr


# --- Real workers ----------------------------------------------------------------------


def retrying_delivery(reseller, url: str, due_in: timedelta) -> WebhookDelivery:
    """A delivery whose first attempt failed and whose retry is due in `due_in`, as
    `deliver_webhook` leaves it."""
    webhook = webhooks.create_webhook(
        reseller, url=url, secret="a-very-secret-secret", acting_user=None, origin="test"
    )
    event = Event.objects.create(type="backup.failed", data={}, dispatched_at=timezone.now())
    return WebhookDelivery.objects.create(
        webhook=webhook,
        event=event,
        event_code=event.code,
        event_type=event.type,
        body='{"type":"backup.failed"}',
        status=WebhookDelivery.Status.RETRYING,
        attempts=1,
        status_code=500,
        next_attempt_at=timezone.now() + due_in,
    )


def wait_until(done) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and not done():
        time.sleep(0.1)


def wait_until_settled(delivery: WebhookDelivery) -> WebhookDelivery:
    def settled():
        delivery.refresh_from_db()
        return delivery.status != WebhookDelivery.Status.RETRYING

    wait_until(settled)
    return delivery


def runs_received(worker) -> list[str]:
    return [line for line in worker.output if f"{RUN_TASK}[" in line and "received" in line]


def deferred_retry_through_a_worker(celery_tasks, broker, reseller, receiver, tmp_path, **env):
    worker = celery_tasks(broker, tmp_path / "mail", WEBHOOK_ALLOW_PRIVATE="1", **env)
    delivery = retrying_delivery(reseller, receiver.url, due_in=timedelta(seconds=2))
    due = delivery.next_attempt_at
    queue_delivery(delivery.pk, run_after=due)  # what deliver_webhook does after a failure
    delivery = wait_until_settled(delivery)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED, "".join(worker.output[-30:])
    assert delivery.attempts == 2 and delivery.status_code == 200
    assert delivery.last_attempt_at >= due  # attempted once due, never before
    assert len(receiver.requests) == 1
    return worker


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_rabbitmq_delivers_a_deferred_webhook_retry_when_it_is_due(
    celery_tasks, rabbitmq_url, private_ok, reseller_a, receiver, tmp_path
):
    deferred_retry_through_a_worker(celery_tasks, rabbitmq_url, reseller_a, receiver, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_delivers_a_deferred_webhook_retry_when_it_is_due(
    celery_tasks, redis_url, private_ok, reseller_a, receiver, tmp_path
):
    deferred_retry_through_a_worker(celery_tasks, redis_url, reseller_a, receiver, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_retry_due_later_than_the_cap_hops_and_is_delivered_on_time(
    celery_tasks, settings, rabbitmq_url, private_ok, reseller_a, receiver, tmp_path
):
    settings.CELERY_MAX_ETA = 1  # this process publishes the first hop
    worker = deferred_retry_through_a_worker(
        celery_tasks, rabbitmq_url, reseller_a, receiver, tmp_path, CELERY_MAX_ETA="1"
    )
    assert len(runs_received(worker)) >= 2  # published again by the worker at least once


@pytest.mark.django_db(transaction=True)
def test_a_deferred_retry_that_fails_again_is_deferred_again_by_the_worker(
    celery_tasks, rabbitmq_url, private_ok, reseller_a, receiver, tmp_path
):
    receiver.answers = [503]
    worker = celery_tasks(rabbitmq_url, tmp_path / "mail", WEBHOOK_ALLOW_PRIVATE="1")
    delivery = retrying_delivery(reseller_a, receiver.url, due_in=timedelta(seconds=1))
    queue_delivery(delivery.pk, run_after=delivery.next_attempt_at)

    def attempted():  # and recorded: the attempt counts when it is claimed, before it is sent
        delivery.refresh_from_db()
        return delivery.last_attempt_at is not None

    wait_until(attempted)
    assert delivery.status == WebhookDelivery.Status.RETRYING and delivery.status_code == 503
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=5)
    # Its next attempt is on the broker already, published by the worker: it holds it.
    wait_until(lambda: len(runs_received(worker)) == 2)
    assert len(runs_received(worker)) == 2, "".join(worker.output[-30:])
    assert len(receiver.requests) == 1
