"""Background tasks (django-tasks) of usage metering: recording yesterday, which Celery
beat runs after midnight (PERIODIC_TASKS) where cron would run `record_usage`."""

from django_tasks import task

from securecloud.usage import days
from securecloud.usage.recording import record_day

ORIGIN = "task record_usage"


@task()
def record_usage_task() -> dict[str, str | int]:
    """Record yesterday (in TIME_ZONE) for every client, as `record_usage` does without
    --date; recording it again replaces its rows, so a second run is harmless."""
    recorded = record_day(days.yesterday(), acting_user=None, origin=ORIGIN)
    return {
        "day": recorded.day.isoformat(),
        "clients": recorded.clients,
        "customers": recorded.customers,
    }
