"""A django-tasks backend that hands each task to Celery (TASKS_BACKEND=celery).

`task.enqueue(...)` publishes a message naming the task by its import path, after the
current transaction commits (a worker never looks for a row that is not there yet); with
no transaction open it publishes at once, so a broker that is down raises to the caller,
as the database queue does when its database is. A task deferred with `run_after` (a
webhook's retry) waits on the broker, in hops of at most CELERY_MAX_ETA seconds
(`securecloud.broker.worker` says why). Workers run
`celery -A securecloud.broker.worker worker`. Results are not kept: the tasks record
what they did themselves (an email's delivery row).
"""

from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_QUEUE_NAME
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.exceptions import InvalidTaskError
from django_tasks.utils import get_random_id, normalize_json
from typing_extensions import ParamSpec

from securecloud.broker.worker import make_app, publish

T = TypeVar("T")
P = ParamSpec("P")


class CeleryBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        # Its own app, configured from the settings as they are now (tests change them).
        self.app = make_app(set_as_current=False)

    def validate_task(self, task: Task[Any, Any]) -> None:
        super().validate_task(task)
        if task.takes_context:
            raise InvalidTaskError("The Celery backend does not pass a task context.")

    def celery_queue(self, queue_name: str) -> str:
        """django-tasks' default queue is the configured Celery queue (CELERY_QUEUE)."""
        if queue_name == DEFAULT_TASK_QUEUE_NAME:
            return str(self.app.conf.task_default_queue)
        return queue_name

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type:ignore[valid-type]
        kwargs: P.kwargs,  # type:ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        result: TaskResult[T] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=normalize_json(args),
            kwargs=normalize_json(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = self.celery_queue(task.queue_name)

        def send() -> None:
            publish(
                self.app,
                task.module_path,
                result.args,
                result.kwargs,
                task_id=result.id,
                queue=queue,
                run_after=task.run_after,
            )

        # Inside a transaction: after it commits, a failure logged (the task's own record
        # stays queued). Outside one: now, and a failure raises to the caller.
        transaction.on_commit(send, robust=transaction.get_connection().in_atomic_block)
        return result
