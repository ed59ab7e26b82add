"""Send the backup verification reports (what cron runs, e.g. daily at 06:00):

    manage.py send_backup_reports [--period daily|weekly] [--dry-run]
                                  [--reseller NAME [--customer NAME]]

Running it twice in a period sends nothing the second time; messages that failed are
sent again by the next run of the same period. Exits with status 1 when a message
failed (each failure is recorded and shown in the console).
"""

from django.core.management.base import BaseCommand, CommandError

from hierarchy.bulk import find_reseller
from hierarchy.models import Node
from securecloud.mail import report_run, reports


class Command(BaseCommand):
    help = "Email each customer's backup verification report and the resellers' summaries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            choices=sorted(reports.PERIODS),
            default=reports.DAILY,
            help="daily: the 24 hours before the run (default); weekly: the 7 days before it.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be sent; send and record nothing.",
        )
        parser.add_argument(
            "--reseller",
            metavar="NAME",
            help="Only this reseller's subtree (its customers and its sub-resellers').",
        )
        parser.add_argument(
            "--customer",
            metavar="NAME",
            help="Only this customer's report (needs --reseller; no summaries).",
        )

    def handle(self, *args, period, dry_run, reseller, customer, **options):
        reseller_node = customer_node = None
        if customer and not reseller:
            raise CommandError(
                "--customer needs --reseller (customer names are unique per reseller)."
            )
        if reseller:
            reseller_node = find_reseller(reseller)
            if reseller_node is None:
                raise CommandError(f"No reseller named {reseller!r}.")
        if customer:
            assert reseller_node is not None  # --customer needs --reseller
            matches = list(
                Node.objects.within(reseller_node)
                .customers()
                .filter(name__iexact=customer.strip())
                .select_related("parent")[:2]
            )
            if not matches:
                raise CommandError(f"No customer named {customer!r} under {reseller_node.name}.")
            if len(matches) > 1:
                raise CommandError(
                    f"Several customers named {customer!r} under {reseller_node.name}: "
                    "give the sub-reseller that holds it as --reseller."
                )
            customer_node = matches[0]
            if not customer_node.email_reports:
                self.stdout.write(
                    f"{customer_node.name} has email reports turned off: nothing to send."
                )
                return

        try:
            result = report_run.send_reports(
                period,
                dry_run=dry_run,
                reseller=reseller_node,
                customer=customer_node,
                out=self.stdout.write,
            )
        except report_run.MailServerUnavailable as exc:
            raise CommandError(
                f"Stopped: the mail server refused {report_run.MAX_CONNECT_FAILURES} connections "
                f"in a row ({exc}). The next run sends what is left."
            ) from None
        if dry_run:
            self.stdout.write(
                f"Dry run: {result.would_send} to send, {result.skipped} already sent; "
                "nothing sent."
            )
            return
        self.stdout.write(
            f"{result.sent} sent, {result.failed} failed, {result.skipped} already sent."
        )
        if result.failed:
            raise CommandError(
                f"{result.failed} message(s) failed; they are recorded and the next run "
                "retries them."
            )
