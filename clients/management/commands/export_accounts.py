"""Write a reseller's sub-resellers, customers and clients as CSV files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clients import bulk as client_bulk
from hierarchy import bulk


class Command(BaseCommand):
    help = (
        "Export --reseller's subtree to resellers.csv, customers.csv and clients.csv in "
        "--out, in the columns the import commands read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True)
        parser.add_argument("--out", required=True, help="Directory for the three files")
        parser.add_argument(
            "--include-password-hashes",
            action="store_true",
            help="Write the clients' stored password hashes (never clear text)",
        )

    def handle(self, *args, reseller, out, include_password_hashes, **options):
        top = bulk.find_reseller(reseller)
        if top is None:
            raise CommandError(f"No reseller named {reseller!r}.")
        out_dir = Path(out)
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"{out}: exists and is not a directory.")
        try:
            resellers, customers = bulk.export_tree(top, out_dir)
            clients = client_bulk.export_clients(
                top, out_dir, include_password_hashes=include_password_hashes
            )
        except OSError as exc:
            raise CommandError(f"{out}: cannot write ({exc.strerror or exc}).") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {resellers} sub-resellers, {customers} customers and {clients} "
                f"clients of {top.name} to {out_dir}."
            )
        )
        self.stdout.write(
            "Registration keys are not exported: importing makes new ones, so agents "
            "registering with the old keys need the new ones."
        )
        self.stdout.write(
            "Storage used and backup history are not exported: agents report them again."
        )
        if not include_password_hashes:
            self.stdout.write(
                "Client passwords were left out (use --include-password-hashes to carry the "
                "stored hashes); clients imported without one need a new password or "
                "auto-authorization."
            )
