"""Celery beat's schedule (`celery -A securecloud.broker.worker beat`): built from the
settings (PERIODIC_TASKS, whose cron expressions come from RUN_ALERTS_SCHEDULE and
RECORD_USAGE_SCHEDULE), naming real tasks, each run through the worker's one Celery task
as an enqueued one is; a bad expression stops the start with its name."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task

from clients import services as client_services
from clients.models import Client, Event
from securecloud.broker.worker import RUN_TASK, make_app
from tests.scale.test_celery_tasks import manage_check


def test_the_schedule_runs_run_alerts_every_5_minutes_and_record_usage_after_midnight():
    schedule = make_app(set_as_current=False).conf.beat_schedule
    assert set(schedule) == {"run_alerts", "record_usage"}
    for entry in schedule.values():
        assert entry["task"] == RUN_TASK
        module_path, args, kwargs = entry["args"]
        assert isinstance(import_string(module_path), Task)  # a real task, by its path
        assert (args, kwargs) == ([], {})
    assert schedule["run_alerts"]["args"][0] == "securecloud.events.alert_run.run_alerts_task"
    assert schedule["run_alerts"]["schedule"] == crontab(minute="*/5")
    assert schedule["record_usage"]["args"][0] == "securecloud.usage.tasks.record_usage_task"
    assert schedule["record_usage"]["schedule"] == crontab(minute="5", hour="0")


def test_the_schedule_is_built_from_the_settings(settings):
    settings.PERIODIC_TASKS = {
        "run_alerts": ("securecloud.events.alert_run.run_alerts_task", "*/2 * * * 1-5"),
    }
    app = make_app(set_as_current=False)
    assert set(app.conf.beat_schedule) == {"run_alerts"}
    assert app.conf.beat_schedule["run_alerts"]["schedule"] == crontab(
        minute="*/2", day_of_week="1-5"
    )


def test_the_schedule_follows_time_zone(settings):
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE  # as cron reads its lines
    settings.CELERY_TIMEZONE = "Europe/Berlin"
    app = make_app(set_as_current=False)
    assert str(app.conf.beat_schedule["record_usage"]["schedule"].tz) == "Europe/Berlin"


@pytest.mark.django_db
def test_a_beat_entry_runs_its_task_through_the_worker_task(customer_a1):
    client = client_services.create_client(
        customer_a1,
        securecloud_id="late@acme.example",
        password="client-pass-9",
        acting_user=None,
        origin="test",
    )
    Client.objects.filter(pk=client.pk).update(trial_ends_at=timezone.now() - timedelta(hours=1))
    app = make_app(set_as_current=False)
    entry = app.conf.beat_schedule["run_alerts"]
    run = app.tasks[entry["task"]].apply(args=entry["args"])  # what a worker does with it
    assert run.result["trial_events"] == 1
    assert Event.objects.filter(type="trial.expired", client=client).exists()


def test_a_schedule_that_is_not_a_cron_expression_is_a_clear_error():
    result = manage_check(RUN_ALERTS_SCHEDULE="every 5 minutes")
    assert result.returncode != 0
    assert "RUN_ALERTS_SCHEDULE must be a cron expression of five fields" in result.stderr
