"""Usage metering at scale, one JSON line per figure (run by bench/run.py on the seeded
database; or by hand after seed_demo, see bench/notes.md):

    DJANGO_SETTINGS_MODULE=bench.settings SECRET_KEY=x ALLOWED_HOSTS=testserver \\
        .venv/bin/python bench/usage_bench.py

- record_usage for one day at every client of the database (100,000 in the suite): the
  last three days in turn, as cron would run them, then the last one again (a rerun);
- the usage page of that month for the big reseller (1,000 customers under two
  sub-resellers), in process as its admin, with its SQL query count;
- export_usage of that month for the big reseller, to a file.
"""

import json
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from clients.models import Client  # noqa: E402
from hierarchy.models import Node  # noqa: E402
from securecloud.usage import days  # noqa: E402
from securecloud.usage.models import CustomerMonth, RecordedDay  # noqa: E402

WARMUP = int(os.environ.get("BENCH_WARMUP", 5))
TIMED = int(os.environ.get("BENCH_TIMED", 40))
EXPORTS = int(os.environ.get("BENCH_EXPORTS", 5))


def emit(**figure) -> None:
    figure["database"] = connection.vendor
    print(json.dumps(figure), flush=True)


def record(day) -> float:
    started = time.perf_counter()
    call_command("record_usage", "--date", day.isoformat(), stdout=StringIO())
    return time.perf_counter() - started


def main() -> None:
    top = Node.objects.get(name="Bench Reseller 1", level=0)
    yesterday = days.today() - timedelta(days=1)
    # seed_demo's clients are created now, its backup reports over the week before: let
    # the clients exist since before the days recorded, as a running console's do.
    Client.objects.filter(created_at__gt=timezone.now() - timedelta(days=10)).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    runs = [record(yesterday - timedelta(days=back)) for back in (2, 1, 0)]
    rerun = record(yesterday)
    emit(
        section="usage",
        name="record_usage",
        clients=RecordedDay.objects.get(day=yesterday).clients,
        runs_s=[round(s, 2) for s in runs],
        rerun_s=round(rerun, 2),
        max_s=round(max([*runs, rerun]), 2),
    )

    month = days.month_of(yesterday)
    customers = CustomerMonth.objects.within(top).filter(month=month).count()
    http = HttpClient()
    http.force_login(get_user_model().objects.get(username="bench-admin-1"))
    url = reverse("reseller-usage", args=[top.code]) + f"?month={month:%Y-%m}"
    for _ in range(WARMUP):
        response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"usage page: GET {url} -> {response.status_code}")
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        http.get(url)
        samples.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    ordered = sorted(samples)
    emit(
        section="usage",
        name="usage page",
        customers=customers,
        queries=len(queries),
        bytes=len(response.content),
        p50_ms=round(statistics.median(ordered) * 1000, 2),
        p95_ms=round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000, 2),
        n=len(ordered),
    )

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "usage.csv"
        exports = []
        for _ in range(EXPORTS):
            started = time.perf_counter()
            call_command(
                "export_usage",
                "--reseller",
                top.name,
                "--month",
                f"{month:%Y-%m}",
                "--out",
                str(out),
                stderr=StringIO(),
            )
            exports.append(time.perf_counter() - started)
        lines = len(out.read_text().splitlines()) - 1
    emit(
        section="usage",
        name="export_usage",
        customers=lines,
        median_s=round(statistics.median(exports), 3),
        max_s=round(max(exports), 3),
    )


if __name__ == "__main__":
    main()
