"""The Celery app: what `celery -A securecloud.broker.worker worker` runs, and what
`securecloud.broker.backend` publishes with. Configured from Django's settings (the
CELERY_* names); the one Celery task runs any django-tasks task by its import path.

Delivery is at least once: a task is acknowledged after it ran (acks_late), and one whose
worker died mid-run goes back to the queue (reject_on_worker_lost), so tasks must be
idempotent (`send_email_delivery` sends a delivery once, whatever runs it twice).
"""

import os
from typing import Any

from celery import Celery
from django.utils.module_loading import import_string
from django_tasks.base import Task
from django_tasks.utils import normalize_json

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securecloud.settings")

RUN_TASK = "securecloud.run_task"


def make_app(*, set_as_current: bool = True) -> Any:
    """A Celery app reading its configuration from Django's settings (CELERY_*)."""
    celery_app = Celery("securecloud", set_as_current=set_as_current)
    celery_app.config_from_object("django.conf:settings", namespace="CELERY")
    celery_app.task(name=RUN_TASK)(run_task)
    return celery_app


def run_task(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run the django-tasks task at `module_path` with these (JSON) arguments."""
    task = import_string(module_path)
    if not isinstance(task, Task):
        raise TypeError(f"{module_path} is not a task.")
    return normalize_json(task.call(*args, **kwargs))


app = make_app()
