"""Record a day's usage of every client (run from cron after midnight, or let Celery beat
run `record_usage_task`)."""

from django.core.management.base import BaseCommand, CommandError

from securecloud.usage import days
from securecloud.usage.days import parse_day
from securecloud.usage.recording import DayNotRecordable, record_day


class Command(BaseCommand):
    help = (
        "Record every client's storage, plan and status for --date (yesterday by default, "
        "in TIME_ZONE). Idempotent: recording a day again replaces its rows; use it to backfill."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to record, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, date=None, **options):
        if date is None:
            day = days.yesterday()
        else:
            try:
                day = parse_day(date)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        try:
            recorded = record_day(day, acting_user=None, origin="command record_usage")
        except DayNotRecordable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded {recorded.day.isoformat()}: {recorded.clients} clients of "
                f"{recorded.customers} customers."
            )
        )
