"""Add a webhook to a reseller from a script."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hierarchy import bulk
from securecloud.events import webhooks
from securecloud.events.models import EVENT_TYPES


class Command(BaseCommand):
    help = (
        "Add a webhook that receives the events of --reseller's whole subtree, signed "
        "with --secret (every event type unless --events names some)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True, help="The top-level reseller's name")
        parser.add_argument("--url", required=True, help="https://... (the receiver)")
        parser.add_argument("--secret", required=True, help="At least 16 characters")
        parser.add_argument(
            "--events",
            default="",
            help=f"Comma-separated event types (default: all): {', '.join(EVENT_TYPES)}",
        )

    def handle(self, *args, reseller, url, secret, events, **options):
        top = bulk.find_reseller(reseller)
        if top is None:
            raise CommandError(f"No reseller named {reseller!r}.")
        try:
            webhook = webhooks.create_webhook(
                top,
                url=url,
                secret=secret,
                event_types=[value for value in events.split(",") if value.strip()],
                acting_user=None,
                origin="command add_webhook",
            )
        except ValidationError as exc:
            messages = (
                [f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items()]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise CommandError(" ".join(messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Webhook {webhook.code} added to {top.name}: {webhook.url} "
                f"({', '.join(webhook.event_types)})."
            )
        )
