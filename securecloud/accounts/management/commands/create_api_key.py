"""Create an admin API key for a reseller, from a script (the key is the last line)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hierarchy.bulk import find_reseller
from securecloud.accounts import api_keys
from securecloud.accounts.management.commands.create_reseller_admin import ROLES


class Command(BaseCommand):
    help = (
        "Create an admin API key of --reseller (a top-level reseller's name) with a role. "
        "The key is printed alone on the last line of the output, once: it is stored "
        "only as a digest."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True, help="Reseller name")
        parser.add_argument("--name", required=True, help="The key's name (unique per reseller)")
        parser.add_argument(
            "--role",
            default="administrator",
            help="What the key may do: " + ", ".join(ROLES) + " (default: administrator).",
        )
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Days until the key stops working"
        )

    def handle(self, *args, reseller, name, role, expires_days, **options):
        role_value = ROLES.get(role.strip().lower().replace("_", "-"))
        if role_value is None:
            raise CommandError(f"Unknown role {role!r}: use one of " + ", ".join(ROLES) + ".")
        node = find_reseller(reseller)
        if node is None:
            raise CommandError(f"No reseller named {reseller!r}.")
        try:
            new = api_keys.create_api_key(
                node,
                name=name,
                role=role_value,
                expires_days=expires_days,
                acting_user=None,
                origin="command create_api_key",
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        expiry = (
            f", expires {new.api_key.expires_at:%Y-%m-%d %H:%M %Z}"
            if new.api_key.expires_at
            else ""
        )
        self.stdout.write(
            f"API key {new.api_key.name!r} of {node.name} ({new.api_key.get_role_display()}"
            f"{expiry}). Keep it now: it is not shown again."
        )
        self.stdout.write(new.secret)
