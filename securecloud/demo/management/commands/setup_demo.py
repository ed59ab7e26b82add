"""The small demo that `make run` loads: the seed's HEROware with ABC Electric.

Its clients have connected and backed up every night for a week, as agents do: they go
through the agent protocol's services (connect, then the backup write that moves the
client's and the customer's storage used), so the totals are the services' own. One
client's last two backups failed, and one trial ends in three days. Running it again
adds the nights since the last run (at most a week), so the demo stays fresh.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clients import agent_store
from clients import services as client_services
from clients.agent_connect import connect as agent_connect
from clients.agent_requests import AgentError
from clients.agent_tokens import check_client_state
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import GB, Node

DEMO_ADMIN = ("heroware-admin", "Walkthrough-2026")
DEMO_SUPERUSER = ("admin", "Superuser-2026")
CLIENT_PASSWORD = "demo-client-pass"
AGENT_VERSION = "3.4.1"
NIGHTS = 7
# A night's start wanders by less than the shortest backup lasts, so the last backup
# of a healthy client is always under 24 hours old, whenever the demo is loaded.
JITTER_MINUTES = 6
SHORTEST_MINUTES = 8
FAILURE = (
    "Could not read C:\\Users\\alice\\Documents\\Outlook Files\\alice.pst: "
    "the file is locked by another program (0x80070020)."
)
SKIPPED = "2 files were in use and were skipped."


@dataclass(frozen=True)
class DemoClient:
    customer: str
    securecloud_id: str
    name: str
    hostname: str
    gigabytes: float  # stored a week ago
    growth: float  # share of the stored size added on an average night
    starts_at: time  # its nightly schedule, server time
    minutes: int  # an average backup's length
    average_file_kb: int
    paid: bool
    joined_days_ago: int
    failing: bool = False  # its last two backups failed


CLIENTS = [
    DemoClient(
        "ABC Electric",
        "alice@abc-electric.example",
        "Alice's laptop",
        "abc-alice-lt",
        6.1,
        0.004,
        time(1, 30),
        14,
        420,
        paid=False,
        joined_days_ago=12,
        failing=True,
    ),
    DemoClient(
        "ABC Electric",
        "bob@abc-electric.example",
        "Bob's desktop",
        "abc-bob-pc",
        11.4,
        0.003,
        time(2, 0),
        22,
        510,
        paid=False,
        joined_days_ago=27,  # a 30-day trial: it ends in 3 days
    ),
    DemoClient(
        "ABC Electric",
        "server01.abc-electric",
        "File server",
        "server01",
        23.8,
        0.002,
        time(0, 45),
        55,
        860,
        paid=True,
        joined_days_ago=90,
    ),
    DemoClient(
        "Main Street Dental",
        "reception@msdental.example",
        "Reception PC",
        "msd-reception",
        8.7,
        0.002,
        time(23, 15),
        18,
        350,
        paid=True,
        joined_days_ago=60,
    ),
    DemoClient(
        "Main Street Dental",
        "xray.msdental",
        "X-ray workstation",
        "msd-xray01",
        37.2,
        0.005,
        time(3, 0),
        41,
        2900,
        paid=True,
        joined_days_ago=45,
    ),
    DemoClient(
        "Harbour Logistics",
        "dispatch.harbour",
        "Dispatch office PC",
        "harbour-dispatch",
        14.3,
        0.003,
        time(22, 30),
        26,
        610,
        paid=False,
        joined_days_ago=9,
    ),
]


class Command(BaseCommand):
    help = (
        "Load the demo reseller HEROware with a few customers and clients, and a week of "
        "their backups (idempotent: a second run only adds the nights since the first)."
    )

    def handle(self, *args, **options):
        origin = "command setup_demo"
        now = timezone.now()
        with transaction.atomic():
            heroware = Node.objects.resellers().filter(name="HEROware").first()
            if heroware is None:
                heroware = self._create_tree(origin, now)
                heroware.refresh_from_db()  # its subtree grew under it
            user_model = get_user_model()
            if not user_model.objects.filter(username=DEMO_ADMIN[0]).exists():
                memberships.add_reseller_admin(
                    heroware,
                    username=DEMO_ADMIN[0],
                    email="admin@heroware.example",
                    password=DEMO_ADMIN[1],
                    acting_user=None,
                    origin=origin,
                )
            if not user_model.objects.filter(username=DEMO_SUPERUSER[0]).exists():
                user_model.objects.create_superuser(
                    DEMO_SUPERUSER[0], "root@localhost", DEMO_SUPERUSER[1]
                )
            reports = self._back_up(heroware, now)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({reports} new backup reports)."))
        self.stdout.write(f"  Reseller admin (console):  {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
        self.stdout.write(f"  Superuser (/admin/):       {DEMO_SUPERUSER[0]} / {DEMO_SUPERUSER[1]}")

    def _create_tree(self, origin: str, now: datetime) -> Node:
        heroware = services.create_reseller(None, name="HEROware", acting_user=None, origin=origin)
        customers = {
            "ABC Electric": services.create_customer(
                heroware,
                name="ABC Electric",
                contact_name="Alice Brown",
                contact_email="it@abc-electric.example",
                usage_space_bytes=50 * GB,
                auto_add_clients=True,
                email_reports=True,
                acting_user=None,
                origin=origin,
            ),
            "Main Street Dental": services.create_customer(
                heroware,
                name="Main Street Dental",
                contact_email="office@msdental.example",
                usage_space_bytes=100 * GB,
                acting_user=None,
                origin=origin,
            ),
        }
        east = services.create_reseller(
            heroware, name="HEROware East", acting_user=None, origin=origin
        )
        customers["Harbour Logistics"] = services.create_customer(
            east,
            name="Harbour Logistics",
            contact_email="ops@harbour.example",
            usage_space_bytes=25 * GB,
            acting_user=None,
            origin=origin,
        )
        for demo in CLIENTS:
            customer = customers[demo.customer]
            client = client_services.create_client(
                customer,
                securecloud_id=demo.securecloud_id,
                name=demo.name,
                password=CLIENT_PASSWORD,
                acting_user=None,
                origin=origin,
            )
            # The demo's clients signed up before today; a trial runs from the sign-up.
            # (Dates only: the storage totals are the services' business.)
            joined = now - timedelta(days=demo.joined_days_ago)
            Client.objects.filter(pk=client.pk).update(
                created_at=joined,
                trial_ends_at=client_services.trial_end(joined, customer.trial_days),
            )
            if demo.paid:
                client_services.switch_to_paid(client, acting_user=None, origin=origin)
        return heroware

    def _back_up(self, heroware: Node, now: datetime) -> int:
        """Each demo client connects once, then reports every night it has not yet
        reported of the last week, through the agent API's own write."""
        clients = {
            client.securecloud_id: client
            for client in Client.objects.within(heroware)
            .filter(securecloud_id__in=[demo.securecloud_id for demo in CLIENTS])
            .annotate(latest=Max("backup_reports__started_at"))
        }
        written = 0
        for demo in CLIENTS:
            client = clients.get(demo.securecloud_id)
            if client is None:
                continue  # deleted in the console since
            try:
                check_client_state(client, now)
            except AgentError:
                continue  # disabled, or its trial is over: the API would refuse it too
            if client.last_seen_at is None:
                try:
                    agent_connect(
                        {
                            "securecloud_id": demo.securecloud_id,
                            "password": CLIENT_PASSWORD,
                            "hostname": demo.hostname,
                            "agent_version": AGENT_VERSION,
                        },
                        ip="127.0.0.1",
                    )
                except AgentError:
                    continue  # its password was changed in the console: it cannot connect
                client.refresh_from_db(fields=["used_bytes"])
            written += self._nights(demo, client, now)
        return written

    def _nights(self, demo: DemoClient, client: Client, now: datetime) -> int:
        today = timezone.make_aware(datetime.combine(timezone.localdate(now), demo.starts_at))
        nights = []  # (scheduled, started), oldest first
        for days_ago in range(NIGHTS, -1, -1):
            scheduled = today - timedelta(days=days_ago)
            jitter = self._rng(demo, scheduled).random() * JITTER_MINUTES
            started = scheduled + timedelta(seconds=int(jitter * 60))
            latest = getattr(client, "latest", None)  # annotated by the caller's query
            if started < now and (latest is None or started > latest):
                nights.append((scheduled, started))
        nights = nights[-NIGHTS:]
        used = client.used_bytes or int(demo.gigabytes * GB)
        for number, (scheduled, started) in enumerate(nights):
            rng = self._rng(demo, scheduled)
            rng.random()  # the jitter's draw
            last_two = number >= len(nights) - 2
            if demo.failing and last_two:
                status, message = "failed", FAILURE
            elif not last_two and rng.random() < 0.15:
                status, message = "warning", SKIPPED
            else:
                status, message = "success", ""
            if status != "failed":  # a failed backup stores nothing new
                used += int(used * demo.growth * rng.uniform(0.2, 1.8))
            minutes = max(SHORTEST_MINUTES, demo.minutes * rng.uniform(0.7, 1.4))
            # A backup still running now is reported as done now, never in the future.
            finished = min(started + timedelta(seconds=int(minutes * 60)), now)
            agent_store.write_backup(
                client.pk,
                started_at=started,
                finished_at=finished,
                status=status,
                used_bytes=used,
                files=used // (demo.average_file_kb * 1024),
                message=message,
                now=finished,
            )
        return len(nights)

    @staticmethod
    def _rng(demo: DemoClient, night: datetime) -> random.Random:
        """The same night of the same client always looks the same."""
        return random.Random(f"{demo.securecloud_id} {night:%Y-%m-%d}")
