"""The small demo that `make run` loads: the seed's HEROware with ABC Electric."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from clients import services as client_services
from hierarchy import services
from hierarchy.models import GB, Node

DEMO_ADMIN = ("heroware-admin", "Walkthrough-2026")
DEMO_SUPERUSER = ("admin", "Superuser-2026")


class Command(BaseCommand):
    help = "Load the demo reseller HEROware with a few customers and clients (idempotent)."

    def handle(self, *args, **options):
        origin = "command setup_demo"
        with transaction.atomic():
            heroware = Node.objects.resellers().filter(name="HEROware").first()
            if heroware is None:
                heroware = services.create_reseller(None, name="HEROware", origin=origin)
                abc = services.create_customer(
                    heroware,
                    name="ABC Electric",
                    contact_name="Alice Brown",
                    contact_email="it@abc-electric.example",
                    usage_space_bytes=50 * GB,
                    auto_add_clients=True,
                    email_reports=True,
                    origin=origin,
                )
                for sc_id, name in [
                    ("alice@abc-electric.example", "Alice's laptop"),
                    ("bob@abc-electric.example", "Bob's desktop"),
                    ("server01.abc-electric", "File server"),
                ]:
                    client_services.create_client(
                        abc,
                        securecloud_id=sc_id,
                        name=name,
                        password="demo-client-pass",
                        origin=origin,
                    )
                client_services.switch_to_paid(
                    abc.clients.get(securecloud_id="server01.abc-electric"), origin=origin
                )
                services.create_customer(
                    heroware,
                    name="Main Street Dental",
                    contact_email="office@msdental.example",
                    usage_space_bytes=100 * GB,
                    origin=origin,
                )
                east = services.create_reseller(heroware, name="HEROware East", origin=origin)
                services.create_customer(
                    east,
                    name="Harbour Logistics",
                    contact_email="ops@harbour.example",
                    origin=origin,
                )
            user_model = get_user_model()
            if not user_model.objects.filter(username=DEMO_ADMIN[0]).exists():
                services.add_reseller_admin(
                    heroware,
                    username=DEMO_ADMIN[0],
                    email="admin@heroware.example",
                    password=DEMO_ADMIN[1],
                    origin=origin,
                )
            if not user_model.objects.filter(username=DEMO_SUPERUSER[0]).exists():
                user_model.objects.create_superuser(
                    DEMO_SUPERUSER[0], "root@localhost", DEMO_SUPERUSER[1]
                )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Reseller admin (console):  {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
        self.stdout.write(f"  Superuser (/admin/):       {DEMO_SUPERUSER[0]} / {DEMO_SUPERUSER[1]}")
