"""Delete old backup reports (what cron runs, e.g. monthly or nightly):

    manage.py prune_backup_reports --older-than-months N

Deletes the reports of every month that ended more than N months ago, keeping the
current month and the N whole months before it (N = 12 keeps 13 months). On PostgreSQL
a month goes as a whole partition (an instant DROP TABLE), then what is left before the
cutoff in the DEFAULT partition row by row; on SQLite, row by row in batches. Also
creates the partitions of the months ahead. clients.report_partitions says how.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clients import report_partitions
from clients.report_partitions import PartitionsBusy, PruneRefused


def months_given(value: str) -> int:
    """--older-than-months as a whole number; CommandError otherwise."""
    try:
        return int(value.strip())
    except ValueError:
        raise CommandError(
            f"--older-than-months must be a whole number of months (1 or more), not {value!r}."
        ) from None


class Command(BaseCommand):
    help = (
        "Delete the backup reports of every month that ended more than N months ago "
        "(whole monthly partitions on PostgreSQL, rows in batches on SQLite)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-months",
            metavar="N",
            required=True,
            help="Keep the current month and the N whole months before it (N >= 1).",
        )

    def handle(self, *args: Any, older_than_months: str, **options: Any) -> None:
        months = months_given(older_than_months)
        try:
            pruned = report_partitions.prune_reports(
                months, acting_user=None, origin="command prune_backup_reports"
            )
        except (PruneRefused, PartitionsBusy) as exc:
            raise CommandError(f"--older-than-months {months}: {exc}") from None
        cutoff = f"{pruned.cutoff:%Y-%m-%d} 00:00 UTC"
        for name in pruned.created:
            self.stdout.write(f"Created partition {name} ahead.")
        for name in pruned.dropped:
            self.stdout.write(f"Dropped partition {name}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Reports finished before {cutoff}: {len(pruned.dropped)} monthly "
                f"partitions dropped, {pruned.deleted_rows} reports deleted row by row."
            )
        )
