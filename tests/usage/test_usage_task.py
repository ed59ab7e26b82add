"""record_usage as a task (what Celery beat runs after midnight): it records yesterday
as the command does without --date, through the same function, audited as the task."""

from datetime import date
from io import StringIO

from django.core.management import call_command
from django_tasks import TaskResultStatus

from hierarchy.models import GB, AuditEvent
from securecloud.usage.models import ClientDay, CustomerDay, CustomerMonth
from securecloud.usage.tasks import record_usage_task
from tests.usage.conftest import created, local, report


def recorded_rows():
    return (
        sorted(ClientDay.objects.values_list("day", "client_id", "used_bytes", "plan", "status")),
        sorted(CustomerDay.objects.values_list("day", "customer_id", "used_bytes", "clients")),
        sorted(CustomerMonth.objects.values_list("month", "customer_id", "byte_days")),
    )


def test_the_task_records_yesterday_as_the_command_does(settings, calendar, customer_a1, client_a1):
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 11, 1, 8))
    report(client_a1, local(2026, 11, 30, 10), 4 * GB)
    calendar.set_today(date(2026, 12, 1))

    result = record_usage_task.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"day": "2026-11-30", "clients": 1, "customers": 1}
    by_task = recorded_rows()
    assert by_task[1] == [(date(2026, 11, 30), customer_a1.pk, 4 * GB, 1)]
    call_command("record_usage", stdout=StringIO())  # yesterday too: the same rows
    assert recorded_rows() == by_task
    runs = AuditEvent.objects.filter(action="usage.recorded").order_by("pk")
    assert [(event.origin, event.changes["day"][1]) for event in runs] == [
        ("task record_usage", "2026-11-30"),
        ("command record_usage", "2026-11-30"),
    ]
