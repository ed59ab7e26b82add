"""Create a customer's own login (a customer user), like create_reseller_admin does for
a reseller's admin."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hierarchy import memberships
from hierarchy.models import Node
from securecloud.accounts.management.commands.create_reseller_admin import (
    flatten_errors,
    read_password,
)


class Command(BaseCommand):
    help = (
        "Create a login for a customer (a customer user: it sees its customer and the "
        "customer's clients). The reseller and the customer must exist. With --noinput "
        "the password comes from RESELLER_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reseller", required=True, help="The customer's reseller's name")
        parser.add_argument("--customer", required=True, help="Customer name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--noinput", "--no-input", action="store_true", dest="noinput")

    def handle(self, *args, reseller, customer, username, email, noinput, **options):
        resellers = list(Node.objects.resellers().filter(name__iexact=reseller.strip())[:2])
        if not resellers:
            raise CommandError(f"No reseller is named {reseller!r}.")
        if len(resellers) > 1:
            raise CommandError(
                f"More than one reseller is named {reseller!r}: give the customer a login "
                "from the console instead."
            )
        node = (
            Node.objects.customers()
            .filter(parent=resellers[0], name__iexact=customer.strip())
            .first()
        )
        if node is None:
            raise CommandError(f"{resellers[0].name} has no customer named {customer!r}.")
        password = read_password(self, noinput)
        try:
            user = memberships.add_customer_user(
                node,
                username=username,
                email=email,
                password=password,
                acting_user=None,
                origin="command create_customer_user",
            ).user
        except ValidationError as exc:
            raise CommandError("; ".join(flatten_errors(exc))) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created customer user {user.username} for customer {node.name} "
                f"of reseller {resellers[0].name}."
            )
        )
