"""The Celery app: what `celery -A securecloud.broker.worker worker` runs, what
`celery -A securecloud.broker.worker beat` schedules, and what `securecloud.broker.backend`
publishes with. Configured from Django's settings (the CELERY_* names); the one Celery
task runs any django-tasks task by its import path.

Delivery is at least once: a task is acknowledged after it ran (acks_late), and one whose
worker died mid-run goes back to the queue (reject_on_worker_lost), so tasks must be
idempotent (`send_email_delivery` sends a delivery once, whatever runs it twice).

A task deferred with `run_after` waits on the broker with an ETA, but never longer than
CELERY_MAX_ETA seconds at a time. A message with an ETA is taken by a worker at once and
held, unacknowledged, in its memory until then: on Redis, one held past the visibility
timeout is handed out again (and runs twice); on RabbitMQ, one held past the server's
consumer_timeout (30 minutes by default) closes the worker's channel. So a run due later
than that hops: the worker that receives it before its time publishes it again, with the
next ETA, and acknowledges the old message (a run is never started before `run_after`).
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks.base import Task
from django_tasks.utils import normalize_json

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securecloud.settings")

RUN_TASK = "securecloud.run_task"


def make_app(*, set_as_current: bool = True) -> Any:
    """A Celery app reading its configuration from Django's settings (CELERY_*), with
    the periodic tasks of PERIODIC_TASKS as its beat schedule."""
    celery_app = Celery("securecloud", set_as_current=set_as_current)
    celery_app.config_from_object("django.conf:settings", namespace="CELERY")
    celery_app.task(name=RUN_TASK, bind=True)(run_task)
    celery_app.conf.beat_schedule = beat_schedule(celery_app, settings.PERIODIC_TASKS)
    return celery_app


def beat_schedule(
    celery_app: Any, periodic: dict[str, tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Celery beat's schedule from {name: (task's import path, cron expression)}: each
    entry runs the django-tasks task through RUN_TASK, like a task that was enqueued."""
    return {
        name: {
            "task": RUN_TASK,
            "schedule": cron_schedule(celery_app, expression),
            "args": (module_path, [], {}),
        }
        for name, (module_path, expression) in periodic.items()
    }


def cron_schedule(celery_app: Any, expression: str) -> Any:
    """ "*/5 * * * *" (minute, hour, day of month, month, day of week, as cron reads
    them) → Celery's crontab, in the app's timezone (CELERY_TIMEZONE: TIME_ZONE)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} is not a cron expression of five fields.")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        app=celery_app,
    )


def publish(
    celery_app: Any,
    module_path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    task_id: str,
    queue: str,
    run_after: datetime | None = None,
) -> None:
    """Send one run of the task at `module_path`; a run not due yet gets an ETA of at
    most CELERY_MAX_ETA seconds from now and carries its `run_after` for the next hop."""
    options: dict[str, Any] = {}
    due: dict[str, str] = {}
    now = datetime.now(UTC)
    if run_after is not None and run_after > now:
        options["eta"] = min(run_after, now + timedelta(seconds=int(celery_app.conf.max_eta)))
        due = {"run_after": run_after.isoformat(), "queue": queue}
    celery_app.send_task(
        RUN_TASK,
        args=[module_path, args, kwargs],
        kwargs=due,
        task_id=task_id,
        queue=queue,
        **options,
    )


def run_task(
    celery_task: Any,
    module_path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    run_after: str | None = None,
    queue: str | None = None,
) -> Any:
    """Run the django-tasks task at `module_path` with these (JSON) arguments, unless it
    is not due yet: then publish it again for later (the next hop) and run nothing."""
    if run_after is not None:
        due = datetime.fromisoformat(run_after)
        if due > datetime.now(UTC):
            publish(
                celery_task.app,
                module_path,
                args,
                kwargs,
                task_id=celery_task.request.id,
                queue=queue or str(celery_task.app.conf.task_default_queue),
                run_after=due,
            )
            return None
    task = import_string(module_path)
    if not isinstance(task, Task):
        raise TypeError(f"{module_path} is not a task.")
    return normalize_json(task.call(*args, **kwargs))


app = make_app()
