"""What the import commands share: arguments, opening the file, printing errors and the
summary."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hierarchy.bulk import ImportFailed, Summary, find_reseller
from hierarchy.csvfiles import BadFile, open_source
from hierarchy.models import Node


class ImportCommand(BaseCommand):
    """What import_resellers, import_customers and import_clients share: arguments,
    opening the file, printing errors and the summary. A command says what it imports
    (`what`) and how (`do_import`)."""

    what = "rows"

    def do_import(self, top: Node, stream: Any, **options: Any) -> Summary:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_import(options)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file (UTF-8, comma or semicolon), or - for stdin")
        parser.add_argument(
            "--reseller", required=True, help="The reseller whose subtree the file fills"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check everything, write nothing"
        )
        parser.add_argument(
            "--update", action="store_true", help="Update existing rows instead of refusing them"
        )

    def run_import(self, options: dict[str, Any]) -> None:
        top = find_reseller(options["reseller"])
        if top is None:
            raise CommandError(f"No reseller named {options['reseller']!r}.")
        path = options["file"]
        label = "standard input" if path == "-" else path
        tty = hasattr(self.stderr, "isatty") and self.stderr.isatty()
        origin = f"command {self.__module__.rsplit('.', 1)[-1]}"
        started = time.perf_counter()
        try:
            with open_source(path) as stream:
                summary = self.do_import(
                    top,
                    stream,
                    update=options["update"],
                    dry_run=options["dry_run"],
                    label=label,
                    show_progress=tty,
                    acting_user=None,
                    origin=origin,
                )
        except BadFile as exc:
            raise CommandError(str(exc)) from None
        except ImportFailed as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(
                f"{len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''} in {label}; "
                "nothing was written."
            ) from None
        for note in summary.notes:
            self.stdout.write(note)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"{summary} ({self.what}, {elapsed:.1f} s)"))
