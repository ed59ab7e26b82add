"""In-process measurements (steps 2 and 3 of the suite), one JSON line per figure.

    DJANGO_SETTINGS_MODULE=bench.settings SECRET_KEY=x ALLOWED_HOSTS=testserver \\
        .venv/bin/python bench/inprocess.py console|writes|alerts

Run by bench/run.py against a database seeded by seed_demo (prefixes Bench, Flat,
Small). `console` times pages through django.test.Client (server time only: no network,
no browser) as a signed-in reseller admin and counts their SQL queries; `writes` times
the services that add a client and a customer, in a small and in the big reseller.
"""

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from clients.models import Client  # noqa: E402
from clients.services import create_client  # noqa: E402
from hierarchy.models import AuditEvent, Node  # noqa: E402
from hierarchy.services import create_customer  # noqa: E402

WARMUP = int(os.environ.get("BENCH_WARMUP", 5))
TIMED = int(os.environ.get("BENCH_TIMED", 40))


def emit(**figure) -> None:
    figure["database"] = connection.vendor
    print(json.dumps(figure), flush=True)


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "n": len(ordered),
    }


def time_page(http: HttpClient, name: str, url: str, **headers) -> None:
    for _ in range(WARMUP):
        response = http.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{name}: GET {url} -> {response.status_code}")
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        http.get(url, **headers)
        samples.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url, **headers)
    emit(
        section="console",
        name=name,
        url=url,
        queries=len(queries),
        bytes=len(response.content),
        **summary(samples),
    )


def login(username: str) -> HttpClient:
    http = HttpClient()
    http.force_login(get_user_model().objects.get(username=username))
    return http


def console() -> None:
    top = Node.objects.get(name="Bench Reseller 1", level=0)
    sub = Node.objects.filter(parent=top).order_by("lft").first()
    customer = Node.objects.customers().filter(parent=sub).order_by("lft").first()
    client = Client.objects.filter(customer=customer).order_by("securecloud_id").first()
    in_tree = Client.objects.filter(customer__tree_id=top.tree_id).count()
    customers = Node.objects.customers().filter(tree_id=top.tree_id).count()
    emit(section="data", name="big reseller", customers=customers, clients=in_tree)
    http = login("bench-admin-1")
    htmx = {"HTTP_HX_REQUEST": "true"}
    time_page(http, "console home", "/")
    time_page(http, "reseller pane", reverse("reseller-pane", args=[sub.code]))
    time_page(
        http,
        "reseller pane, sorted by clients",
        reverse("reseller-pane", args=[sub.code]) + "?sort=-clients",
    )
    time_page(http, "customer pane (100 clients)", reverse("customer-pane", args=[customer.code]))
    time_page(
        http, "tree expand of a customer", reverse("tree-children", args=[customer.code]), **htmx
    )
    time_page(http, "client pane", reverse("client-pane", args=[client.code]))
    time_page(http, "search (common word)", "/search/?q=smith", **htmx)
    time_page(http, "search (no match)", "/search/?q=no-such-client", **htmx)
    time_page(http, "health list (failed)", reverse("health-list", args=[top.code, "failed"]))
    # A reseller holding its 1,000 customers directly: the largest console home.
    flat = Node.objects.get(name="Flat Reseller 1", level=0)
    flat_customers = Node.objects.customers().filter(parent=flat).count()
    emit(section="data", name="flat reseller", customers=flat_customers)
    time_page(login("flat-admin-1"), "console home, 1,000 direct customers", "/")


def branding() -> None:
    """The big reseller and its first sub-reseller branded (the sub-reseller sets its own
    product name, the rest inherited): the console home and a client pane as its admin,
    the Branding page, the stylesheet revalidated with its ETag (304), and brand_for()
    itself (the one query every page and email adds)."""
    from io import BytesIO

    from PIL import Image

    from securecloud.branding import logos, services
    from securecloud.branding.brands import brand_for

    top = Node.objects.get(name="Bench Reseller 1", level=0)
    sub = Node.objects.filter(parent=top).order_by("lft").first()
    customer = Node.objects.customers().filter(parent=sub).order_by("lft").first()
    client = Client.objects.filter(customer=customer).order_by("securecloud_id").first()
    image = BytesIO()
    Image.new("RGB", (256, 128), (154, 52, 18)).save(image, format="PNG")
    services.set_branding(
        top,
        acting_user=None,
        origin="command bench",
        product_name="Bench Cloud",
        primary_colour="#9a3412",
        support_email="support@bench.example",
        logo=logos.clean_logo(image.getvalue()),
    )
    services.set_branding(sub, acting_user=None, origin="command bench", product_name="Bench East")
    http = login("bench-admin-1")
    time_page(http, "console home, branded", "/")
    time_page(http, "client pane, branded", reverse("client-pane", args=[client.code]))
    time_page(http, "Branding page", reverse("reseller-branding", args=[sub.code]))
    css = reverse("branding-stylesheet", args=[top.code])
    etag = http.get(css)["ETag"]
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        answer = http.get(css, HTTP_IF_NONE_MATCH=etag)
        samples.append(time.perf_counter() - started)
    if answer.status_code != 304:
        raise SystemExit(f"stylesheet revalidation -> {answer.status_code}")
    emit(section="console", name="branding stylesheet, revalidated (304)", queries=1,
         bytes=0, **summary(samples))  # fmt: skip
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        brand_for(customer)
        samples.append(time.perf_counter() - started)
    emit(section="branding", name="brand_for(customer)", **summary(samples))


def time_service(name: str, call, count: int) -> list[float]:
    samples = []
    for i in range(WARMUP + count):
        started = time.perf_counter()
        call(i)
        elapsed = time.perf_counter() - started
        if i >= WARMUP:
            samples.append(elapsed)
    return samples


def writes() -> None:
    top = Node.objects.get(name="Bench Reseller 1", level=0)
    small = Node.objects.get(name="Small Reseller 1", level=0)
    big_customer = Node.objects.customers().filter(tree_id=top.tree_id).order_by("lft").first()
    small_customer = Node.objects.customers().get(parent=small)
    Node.objects.filter(pk__in=[big_customer.pk, small_customer.pk]).update(auto_add_clients=True)
    sizes = {
        "small": Client.objects.filter(customer__tree_id=small.tree_id).count(),
        "big": Client.objects.filter(customer__tree_id=top.tree_id).count(),
    }
    stamp = int(time.time())
    results = {}
    for label, reseller, customer in (
        ("small", small, small_customer),
        ("big", top, big_customer),
    ):
        customer = Node.objects.get(pk=customer.pk)
        made_clients, made_customers = [], []

        def add_client(i, customer=customer, made=made_clients, label=label):
            made.append(
                create_client(
                    customer,
                    securecloud_id=f"bench-add-{stamp}-{label}-{i}@bench.example",
                    password=None,
                    acting_user=None,
                    origin="bench",
                )
            )

        def add_customer(i, reseller=reseller, made=made_customers, label=label):
            made.append(
                create_customer(
                    reseller,
                    name=f"Bench Added {stamp} {label} {i}",
                    contact_email=f"it{i}@added.bench.example",
                    usage_space_bytes=None,
                    auto_add_clients=False,
                    email_reports=False,
                    acting_user=None,
                    origin="bench",
                )
            )

        results[("client", label)] = summary(time_service("client", add_client, TIMED))
        results[("customer", label)] = summary(time_service("customer", add_customer, TIMED))
        # Clean up: the data set stays as seeded for the next steps.
        codes = [c.code for c in made_clients] + [c.code for c in made_customers]
        Client.objects.filter(pk__in=[c.pk for c in made_clients]).delete()
        for node in reversed(made_customers):
            Node.objects.get(pk=node.pk).delete()
        AuditEvent.objects.filter(object_code__in=codes).delete()
    for what in ("client", "customer"):
        small_fig, big_fig = results[(what, "small")], results[(what, "big")]
        emit(
            section="writes",
            name=f"add a {what}",
            small_clients=sizes["small"],
            big_clients=sizes["big"],
            small=small_fig,
            big=big_fig,
            ratio=round(big_fig["p50_ms"] / small_fig["p50_ms"], 2),
        )


def admin_api() -> None:
    """The admin API as a script sees it (in process, an Administrator key of the big
    reseller): a page of 100 clients (the first, and one far down the cursor chain),
    with its query count, and adding a client."""
    from securecloud.accounts.api_keys import create_api_key

    top = Node.objects.get(name="Bench Reseller 1", level=0)
    stamp = int(time.time())
    new_key = create_api_key(
        top, name=f"bench {stamp}", role="administrator", acting_user=None, origin="bench"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {new_key.secret}"}
    http = HttpClient()
    emit(
        section="data",
        name="admin API reseller",
        clients=Client.objects.filter(customer__tree_id=top.tree_id).count(),
    )
    first = "/api/v1/admin/clients?page_size=100"
    time_page(http, "admin API: clients, first page of 100", first, **auth)
    url = first
    for _ in range(50):  # 5,000 clients down the chain
        url = http.get(url, **auth).json()["next"].split("testserver", 1)[1]
    time_page(http, "admin API: clients, page 51 of 100", url, **auth)
    # As the console's figure: a customer with auto-authorization, so adding a client
    # hashes no password (Argon2 alone is ~100 ms of CPU, by design).
    customer = Node.objects.customers().filter(tree_id=top.tree_id).order_by("lft").first()
    Node.objects.filter(pk=customer.pk).update(auto_add_clients=True)
    made = []

    def add_client(i: int) -> None:
        response = http.post(
            "/api/v1/admin/clients",
            json.dumps(
                {
                    "customer": str(customer.code),
                    "securecloud_id": f"bench-api-{stamp}-{i}@bench.example",
                }
            ),
            content_type="application/json",
            **auth,
        )
        if response.status_code != 201:
            raise SystemExit(f"admin API: POST clients -> {response.status_code}")
        made.append(response.json()["id"])

    figure = summary(time_service("admin API client", add_client, TIMED))
    emit(section="api-writes", name="admin API: add a client", **figure)
    Client.objects.filter(code__in=made).delete()
    AuditEvent.objects.filter(object_code__in=made).delete()
    new_key.api_key.delete()


def agents() -> None:
    """Files for the HTTP load: SecureCloud IDs that may connect with the seed's password
    (active, not expired, spread over the whole tree), and an auto-authorizing
    customer's registration key; plus the cost of one password hash."""
    from datetime import timedelta

    from django.contrib.auth.hashers import check_password, make_password
    from django.db.models import Q
    from django.utils import timezone

    from securecloud.demo.management.commands.seed_demo import DEMO_CLIENT_PASSWORD

    out = Path(sys.argv[2])
    top = Node.objects.get(name="Bench Reseller 1", level=0)
    eligible = (
        Client.objects.filter(customer__tree_id=top.tree_id, status=Client.Status.ACTIVE)
        .exclude(password="")
        .filter(Q(plan=Client.Plan.PAID) | Q(trial_ends_at__gt=timezone.now() + timedelta(days=1)))
        .order_by("pk")
        .values_list("securecloud_id", flat=True)
    )
    ids = list(eligible)
    step = max(1, len(ids) // 2000)
    chosen = ids[::step][:2000]
    (out / "ids.txt").write_text("\n".join(chosen[1:]) + "\n")
    key = (
        Node.objects.customers()
        .filter(tree_id=top.tree_id, auto_add_clients=True)
        .order_by("lft")
        .values_list("registration_key", flat=True)
        .first()
    )
    hashed = make_password(DEMO_CLIENT_PASSWORD)
    samples = []
    for _ in range(8):
        started = time.perf_counter()
        check_password(DEMO_CLIENT_PASSWORD, hashed)
        samples.append(time.perf_counter() - started)
    emit(
        section="agents",
        name="agents",
        ids=len(chosen) - 1,
        ratelimit_id=chosen[0],
        password=DEMO_CLIENT_PASSWORD,
        key=key,
        hasher=hashed.split("$", 1)[0],
        hash_ms=round(statistics.median(samples) * 1000, 1),
    )


def alerts() -> None:
    """The trial lists of the big reseller (console pages), and run_alerts over the whole
    data set: the first run reports every trial ending or expired and every missed
    backup (and emails the admins), the second finds them all reported already."""
    from django.core.management import call_command

    from clients.models import Event

    top = Node.objects.get(name="Bench Reseller 1", level=0)
    http = login("bench-admin-1")
    for kind, name in (
        ("trials-ending", "trial list (ending)"),
        ("expired-trials", "trial list (expired)"),
    ):
        time_page(http, name, reverse("health-list", args=[top.code, kind]))
    clients = Client.objects.count()
    for run in ("first", "again"):
        before = Event.objects.count()
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("run_alerts", stdout=quiet)
        seconds = time.perf_counter() - started
        emit(
            section="alerts",
            name=f"run_alerts ({run})",
            seconds=round(seconds, 2),
            events=Event.objects.count() - before,
            clients=clients,
        )


def count_reports() -> None:
    from clients.models import BackupReport

    emit(section="count", name="backup reports", count=BackupReport.objects.count())


if __name__ == "__main__":
    {
        "console": console,
        "branding": branding,
        "writes": writes,
        "api": admin_api,
        "agents": agents,
        "count": count_reports,
        "alerts": alerts,
    }[sys.argv[1]]()
