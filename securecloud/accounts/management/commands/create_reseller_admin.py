"""Bootstrap a reseller's first admin, like createsuperuser does for the Django admin."""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hierarchy import memberships, services
from hierarchy.models import Membership, Node
from securecloud.accounts import password_state

# --role's values: the roles' names as an operator types them.
ROLES = {
    "administrator": Membership.Role.ADMINISTRATOR,
    "technician": Membership.Role.TECHNICIAN,
    "read-only": Membership.Role.READ_ONLY,
    "billing": Membership.Role.BILLING,
}


class Command(BaseCommand):
    help = (
        "Create a login that administers a top-level reseller, which it creates when none "
        "has that name. With --noinput the password comes from "
        "RESELLER_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True, help="Reseller name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--role",
            default="administrator",
            help="The admin's role: " + ", ".join(ROLES) + " (default: administrator).",
        )
        parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput")
        parser.add_argument(
            "--must-change-password",
            action="store_true",
            help="The admin must choose a new password at the first sign-in "
            "(without it, the password given here stays: the operator's own, or a script's).",
        )

    def handle(
        self, *args, reseller, username, email, role, noinput, must_change_password, **options
    ):
        role_value = ROLES.get(role.strip().lower().replace("_", "-"))
        if role_value is None:
            raise CommandError(f"Unknown role {role!r}: use one of " + ", ".join(ROLES) + ".")
        password = self._password(noinput)
        origin = "command create_reseller_admin"
        try:
            with transaction.atomic():
                # A tenant's first admin: of a top-level reseller, never of a
                # sub-reseller in some tenant's tree that happens to have the name.
                node = (
                    Node.objects.resellers()
                    .filter(parent=None, name__iexact=reseller.strip())
                    .first()
                )
                created = node is None
                if created:
                    node = services.create_reseller(
                        None, name=reseller, acting_user=None, origin=origin
                    )
                user = memberships.add_reseller_admin(
                    node,
                    username=username,
                    email=email,
                    password=password,
                    role=role_value,
                    acting_user=None,
                    origin=origin,
                ).user
                if must_change_password:
                    password_state.require_password_change(user)
        except ValidationError as exc:
            raise CommandError("; ".join(flatten_errors(exc))) from None
        if created:
            self.stdout.write(f"Created top-level reseller {node.name}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin {user.username} ({user.membership.get_role_display()}) "
                f"for reseller {node.name}."
            )
        )

    def _password(self, noinput: bool) -> str:
        return read_password(self, noinput)


def read_password(command: BaseCommand, noinput: bool) -> str:
    """The new login's password: RESELLER_ADMIN_PASSWORD with --noinput, else asked twice."""
    if noinput:
        password = os.environ.get("RESELLER_ADMIN_PASSWORD", "")
        if not password:
            raise CommandError("With --noinput, set RESELLER_ADMIN_PASSWORD.")
        return password
    while True:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            command.stderr.write("Error: the two passwords differ.")
            continue
        if not password:
            command.stderr.write("Error: enter a password.")
            continue
        return password


def flatten_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
    return exc.messages
