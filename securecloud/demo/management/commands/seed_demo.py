"""Realistic demo data at scale, fast and deterministic (for demos and benchmarks).

Each top-level reseller is a new tree whose lft/rght values are computed here and
written with bulk inserts; clients (and their backup reports) go in through the import's
fastest path. The same --seed gives the same names, settings, plans and statuses.
"""

import random
import re
import time
import uuid
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clients.models import Client
from clients.services import shift_customer_totals
from hierarchy import memberships, services
from hierarchy.bulk_services import new_customer
from hierarchy.fastinsert import fast_insert
from hierarchy.models import GB, TB, Node
from hierarchy.nested_sets import number_new_tree

REGIONS = ["North", "South", "East", "West", "Central", "Coast", "Valley", "Metro"]
FIRST = [
    "Acme",
    "Apex",
    "Blue",
    "Bright",
    "Cedar",
    "Delta",
    "Eagle",
    "Green",
    "Harbour",
    "Iron",
    "Jade",
    "Keystone",
    "Lake",
    "Maple",
    "Nova",
    "Oak",
    "Pine",
    "Quest",
    "River",
    "Summit",
    "Tide",
    "Union",
    "Vista",
    "West",
    "Zenith",
]
SECOND = [
    "Electric",
    "Dental",
    "Logistics",
    "Bakery",
    "Law",
    "Clinic",
    "Motors",
    "Design",
    "Farms",
    "Builders",
    "Accounting",
    "Studio",
    "Pharmacy",
    "Realty",
    "Labs",
    "Travel",
    "Printing",
    "Insurance",
    "Optics",
    "Foods",
]
SUFFIX = ["Ltd", "Inc", "LLC", "& Co", "Group", "GmbH", "Partners", ""]
PEOPLE = [
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Victor",
    "Walter",
]
SURNAMES = [
    "Brown",
    "Smith",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Walker",
    "Young",
    "King",
]
DEVICES = ["laptop", "desktop", "workstation", "file server", "mail server", "NAS", "tablet"]
SPACES = [10 * GB, 25 * GB, 50 * GB, 100 * GB, 250 * GB, 500 * GB, 1 * TB, 2 * TB, None]
DEMO_CLIENT_PASSWORD = "Demo-Client-2026"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Command(BaseCommand):
    help = (
        "Generate demo data: R top-level resellers, each with S sub-resellers, C customers "
        "(spread over the sub-resellers) and K clients per customer, and optionally D days "
        "of backup reports per client. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--resellers", type=int, default=1, metavar="R")
        parser.add_argument("--sub-resellers", type=int, default=2, metavar="S")
        parser.add_argument(
            "--customers",
            type=int,
            default=10,
            metavar="C",
            help="Customers per top-level reseller",
        )
        parser.add_argument("--clients-per-customer", type=int, default=5, metavar="K")
        parser.add_argument(
            "--reports-days",
            type=int,
            default=0,
            metavar="D",
            help="Days of backup reports per connected client",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--prefix",
            default="Demo",
            help="Start of the top-level resellers' names (default Demo)",
        )
        parser.add_argument(
            "--admin-password",
            default="",
            help="Also create a login <prefix>-admin-<n> per top-level reseller",
        )

    def handle(self, *args, **o):
        for name in (
            "resellers",
            "sub_resellers",
            "customers",
            "clients_per_customer",
            "reports_days",
        ):
            if o[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} cannot be negative.")
        if o["resellers"] < 1:
            raise CommandError("--resellers must be at least 1.")
        prefix = o["prefix"].strip()
        names = [f"{prefix} Reseller {i + 1}" for i in range(o["resellers"])]
        taken = [n for n in names if services.reseller_name_taken(n, parent=None)]
        if taken:
            raise CommandError(
                f"{taken[0]} already exists: use another --prefix or an empty database."
            )
        started = time.perf_counter()
        rng = random.Random(o["seed"])
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        shared_hash = make_password(DEMO_CLIENT_PASSWORD)
        totals = {"customers": 0, "clients": 0, "reports": 0}
        with transaction.atomic():
            services.lock_new_roots()
            first_tree = (Node.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
            for index, name in enumerate(names):
                tree_id = first_tree + index
                top = self._tree(rng, o, prefix, index, name, tree_id, now, totals)
                totals["clients"] += self._clients(rng, o, prefix, index, tree_id, now, shared_hash)
                if o["reports_days"]:
                    totals["reports"] += self._reports(rng, tree_id, o["reports_days"], now)
                if o["admin_password"]:
                    try:
                        memberships.add_reseller_admin(
                            top,
                            username=f"{_slug(prefix)}-admin-{index + 1}",
                            password=o["admin_password"],
                            acting_user=None,
                            origin="command seed_demo",
                        )
                    except ValidationError as exc:
                        raise CommandError("; ".join(exc.messages)) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {len(names)} resellers, {len(names) * o['sub_resellers']} sub-resellers, "
                f"{totals['customers']} customers, {totals['clients']} clients and "
                f"{totals['reports']} backup reports in {elapsed:.1f} s (seed {o['seed']})."
            )
        )
        self.stdout.write(f"Clients with a password use {DEMO_CLIENT_PASSWORD}.")
        if o["admin_password"]:
            self.stdout.write(f"Admin logins: {_slug(prefix)}-admin-1 … (--admin-password).")

    def _tree(self, rng, o, prefix, index, name, tree_id, now, totals) -> Node:
        """The top reseller, its sub-resellers and customers, numbered in one pass."""
        subs = o["sub_resellers"]
        per_parent: list[list[int]] = [[] for _ in range(max(subs, 1))]
        for number in range(o["customers"]):
            per_parent[number % len(per_parent)].append(number)
        top = Node(kind=Node.Kind.RESELLER, name=name)
        children_of: dict[int, list[Node]] = {id(top): []}
        groups = []  # (parent node, customers)
        sub_nodes = []
        if subs:
            for s in range(subs):
                region = REGIONS[s] if s < len(REGIONS) else f"Region {s + 1}"
                sub = Node(kind=Node.Kind.RESELLER, name=f"{name} {region}")
                customers = [self._customer(rng, prefix, index, n, now) for n in per_parent[s]]
                sub_nodes.append(sub)
                groups.append((sub, customers))
        else:
            groups.append(
                (top, [self._customer(rng, prefix, index, n, now) for n in per_parent[0]])
            )
        children_of[id(top)] = sub_nodes or groups[0][1]
        for parent, customers in groups:
            children_of[id(parent)] = customers
        number_new_tree(top, children_of, tree_id)
        Node.objects.bulk_create([top])
        for sub in sub_nodes:
            sub.parent_id = top.pk
        Node.objects.bulk_create(sub_nodes)
        for parent, customers in groups:
            seen = set()
            for customer in customers:
                customer.parent_id = parent.pk
                base, n = customer.name, 2
                while customer.name.lower() in seen:
                    customer.name, n = f"{base} {n}", n + 1
                seen.add(customer.name.lower())
        all_customers = [c for _, customers in groups for c in customers]
        Node.objects.bulk_create(all_customers, batch_size=500)
        totals["customers"] += len(all_customers)
        return top

    def _customer(self, rng, prefix, index, number, now) -> Node:
        company = " ".join(
            part for part in (rng.choice(FIRST), rng.choice(SECOND), rng.choice(SUFFIX)) if part
        )
        person = f"{rng.choice(PEOPLE)} {rng.choice(SURNAMES)}"
        # Settings as clean_customer_fields returns them; the node as the import makes one.
        return new_customer(
            None,
            {
                "name": company,
                "contact_name": person,
                "contact_email": (
                    f"it@{_slug(company)}-{index + 1}-{number + 1}.{_slug(prefix)}.example"
                ),
                "usage_space_bytes": rng.choice(SPACES),
                "auto_add_clients": rng.random() < 0.5,
                "email_reports": rng.random() < 0.5,
                "trial_days": rng.choice([14, 30, 30, 60]),
            },
            now=now,
        )

    def _clients(self, rng, o, prefix, index, tree_id, now, shared_hash) -> int:
        customers = list(
            Node.objects.filter(tree_id=tree_id, kind=Node.Kind.CUSTOMER)
            .order_by("lft")
            .values_list("pk", "contact_email", "auto_add_clients", "trial_days")
        )
        per = o["clients_per_customer"]
        deltas: dict[int, tuple[int, int]] = {}

        def rows():
            for pk, contact, auto_add, trial_days in customers:
                domain = contact.split("@", 1)[1]
                for k in range(per):
                    first, last = rng.choice(PEOPLE), rng.choice(SURNAMES)
                    sid = f"{first.lower()}.{last.lower()}.{k + 1}@{domain}"
                    roll = rng.random()
                    status = (
                        Client.Status.ACTIVE
                        if roll < 0.8
                        else Client.Status.PENDING
                        if roll < 0.95
                        else Client.Status.DISABLED
                    )
                    paid = rng.random() < 0.3
                    ends = None if paid else now + timedelta(days=rng.randint(-10, trial_days))
                    password = "" if auto_add and status == Client.Status.PENDING else shared_hash
                    seen = status != Client.Status.PENDING
                    used = int(rng.lognormvariate(22, 1.5)) if seen else 0
                    last_seen = now - timedelta(minutes=rng.randint(1, 3000)) if seen else None
                    outcome = rng.choices(["success", "warning", "failed"], [90, 6, 4])[0]
                    count, total = deltas.get(pk, (0, 0))
                    deltas[pk] = (count + 1, total + used)
                    yield (
                        uuid.uuid4(),
                        pk,
                        sid,
                        f"{first}'s {rng.choice(DEVICES)}",
                        sid if rng.random() < 0.5 else "",
                        password,
                        Client.Plan.PAID if paid else Client.Plan.TRIAL,
                        ends,
                        status,
                        used,
                        last_seen,
                        last_seen if seen else None,
                        outcome if seen else "",
                        last_seen if seen and outcome == "success" else None,
                        "3.4.1" if seen else "",
                        f"{first.lower()}-{k + 1}" if seen else "",
                    )

        count = fast_insert(
            Client,
            [
                "code",
                "customer",
                "securecloud_id",
                "name",
                "email",
                "password",
                "plan",
                "trial_ends_at",
                "status",
                "used_bytes",
                "last_seen_at",
                "last_backup_at",
                "last_backup_status",
                "last_success_at",
                "agent_version",
                "hostname",
            ],
            rows(),
        )
        # The customers' totals move as create_client moves them, by what went in.
        shift_customer_totals(deltas)
        return count

    def _reports(self, rng, tree_id, days, now) -> int:
        """One report a day for `days` days per client that has connected."""
        from clients.models import BackupReport

        clients = list(
            Client.objects.filter(customer__tree_id=tree_id, last_seen_at__isnull=False)
            .order_by("pk")
            .values_list("pk", "used_bytes", "last_backup_status")
        )

        outcomes = ["success"] * 90 + ["warning"] * 6 + ["failed"] * 4
        minute = timedelta(minutes=1)

        def rows():
            rand = rng.random
            for pk, used, last_status in clients:
                for day in range(days, 0, -1):
                    started = now - timedelta(days=day - 1) - minute * int(60 + 540 * rand())
                    status = last_status if day == 1 else outcomes[int(100 * rand())]
                    yield (
                        pk,
                        started,
                        started + minute * int(1 + 90 * rand()),
                        status,
                        max(0, used - (day - 1) * (used // 100)),
                        int(100 + 200_000 * rand()),
                        "" if status == "success" else "Some files were skipped.",
                        started,
                    )

        return fast_insert(
            BackupReport,
            [
                "client",
                "started_at",
                "finished_at",
                "status",
                "used_bytes",
                "files",
                "message",
                "created_at",
            ],
            rows(),
        )
