"""Write a reseller's usage of a month as CSV (the usage page's download, by command)."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from hierarchy.bulk import find_reseller
from securecloud.usage.days import parse_month
from securecloud.usage.export import write_usage_csv
from securecloud.usage.figures import monthly_usage


class _Unended:
    """The command's output as a plain stream: each CSV line already ends."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export --reseller's usage of --month (YYYY-MM) per customer as CSV, to --out or "
        "to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True)
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--out", help="The CSV file to write (default: standard output)")

    def handle(self, *args, reseller, month, out=None, **options):
        try:
            first_day = parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        top = find_reseller(reseller)
        if top is None:
            raise CommandError(f"No reseller named {reseller!r}.")
        usage = monthly_usage(top, first_day)
        if out is None:
            write_usage_csv(usage, _Unended(self.stdout))  # type: ignore[arg-type]
            return
        target = Path(out)
        if target.is_dir():
            raise CommandError(f"{out}: is a directory; give a file name.")
        try:
            # Written beside the target and renamed over it: never a half-written file.
            handle, temporary = tempfile.mkstemp(
                dir=target.parent if str(target.parent) else ".", suffix=".part"
            )
            try:
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                    count = write_usage_csv(usage, stream)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise CommandError(f"{out}: cannot write ({exc.strerror or exc}).") from None
        self.stderr.write(
            self.style.SUCCESS(f"Exported {count} customers of {top.name} for {month} to {out}.")
        )
