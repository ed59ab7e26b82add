"""Reconnect storm arithmetic: password connects against refreshes, one JSON line each.

    DJANGO_SETTINGS_MODULE=bench.settings SECRET_KEY=x DATABASE_URL=postgres://... \\
        .venv/bin/python bench/reconnect_bench.py --count 50

Runs in process (django.test.Client: server time only, no network) against the database
of DATABASE_URL, with clients that exist there: --count active clients whose password is
--password (seed_demo's clients share one). For each it times (a) a password connect
(`POST /api/v1/agent/connect`, one Argon2 check with the production hashers), then
(b) a refresh with the refresh token that connect answered (`POST /api/v1/agent/refresh`,
a digest lookup), and extrapolates how long --agents agents would take to come back on
--cores cores of this machine.

Two costs per call: its wall time here, and its CPU time: this process's, plus, when
PostgreSQL runs on this machine, its server process's (read from /proc, in clock
ticks: coarse, so time enough calls). The CPU time is what a storm spends of the cores
(a commit's wait for the disk is no CPU, and the wall time of a busy machine is
inflated by the others' work); the projection uses it when it has the database's
share, else the wall time. On a busy machine both swell (the others' work shares the
cores and their caches); `refreshes_per_password_connect`, the ratio of the two, holds
better: divide a quiet machine's connect cost by it.

It writes what agents write (a connect's tokens and last seen, a refresh's tokens; each
client keeps its 5 newest of each kind), on active clients only, so a pending client is
never turned active. Not part of bench/run.py: it changes the clients it uses.
"""

import argparse
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
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from clients.models import Client  # noqa: E402
from securecloud.demo.management.commands.seed_demo import DEMO_CLIENT_PASSWORD  # noqa: E402

CONNECT = "/api/v1/agent/connect"
REFRESH = "/api/v1/agent/refresh"
TARGET_MINUTES = 15


def emit(**figure) -> None:
    figure["database"] = connection.vendor
    print(json.dumps(figure), flush=True)


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    mean = statistics.fmean(ordered)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000, 2),
        "mean_ms": round(mean * 1000, 2),
        "per_second_per_core": round(1 / mean, 1),
    }


def database_cpu_seconds() -> float | None:
    """CPU time so far of this connection's PostgreSQL server process, if it is local."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # another machine's process
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def timed(calls) -> tuple[list[float], dict]:
    """Run each call; its wall times, and the CPU times per call of the whole run."""
    db_before, app_before = database_cpu_seconds(), time.process_time()
    walls = []
    for call in calls:
        started = time.perf_counter()
        call()
        walls.append(time.perf_counter() - started)
    app = (time.process_time() - app_before) / len(walls)
    db_after = database_cpu_seconds()
    cpu = {"app_cpu_ms": round(app * 1000, 2)}
    if db_before is not None and db_after is not None:
        db = (db_after - db_before) / len(walls)
        cpu["db_cpu_ms"] = round(db * 1000, 2)
        cpu["cpu_ms"] = round((app + db) * 1000, 2)
    return walls, cpu


def post(http: HttpClient, path: str, body: dict):
    return http.post(path, json.dumps(body), content_type="application/json")


def pick_clients(count: int) -> list[str]:
    now = timezone.now()
    ids = list(
        Client.objects.filter(status=Client.Status.ACTIVE)
        .exclude(password="")
        .filter(Q(trial_ends_at__isnull=True) | Q(trial_ends_at__gt=now))
        .order_by("pk")
        .values_list("securecloud_id", flat=True)[:count]
    )
    if len(ids) < count:
        sys.exit(f"only {len(ids)} active clients with a password; seed some (seed_demo)")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20, help="clients to time (default 20)")
    parser.add_argument("--password", default=DEMO_CLIENT_PASSWORD, help="their password")
    parser.add_argument("--agents", type=int, default=100_000, help="storm size to project")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    http = HttpClient(REMOTE_ADDR="192.0.2.10")
    ids = pick_clients(args.count)
    post(http, CONNECT, {"securecloud_id": ids[0], "password": args.password})  # warm up

    refresh_tokens: list[str] = []

    def connect(securecloud_id: str):
        def call() -> None:
            body = {"securecloud_id": securecloud_id, "password": args.password}
            response = post(http, CONNECT, body)
            if response.status_code != 200:
                sys.exit(f"connect {securecloud_id}: HTTP {response.status_code}")
            refresh_tokens.append(response.json()["refresh_token"])

        return call

    def refresh(index: int):
        def call() -> None:
            response = post(http, REFRESH, {"refresh_token": refresh_tokens[index]})
            if response.status_code != 200:
                sys.exit(f"refresh: HTTP {response.status_code} {response.content!r}")

        return call

    connect_walls, connect_cpu = timed([connect(i) for i in ids])
    refresh_walls, refresh_cpu = timed([refresh(i) for i in range(len(ids))])

    # Both costs swell alike on a busy machine; their ratio holds better than either.
    connect_cost = connect_cpu.get("cpu_ms", statistics.fmean(connect_walls) * 1000)
    refresh_cost = refresh_cpu.get("cpu_ms", statistics.fmean(refresh_walls) * 1000)
    emit(figure="refreshes_per_password_connect", ratio=round(connect_cost / refresh_cost, 1))
    for name, walls, cpu in (
        ("password_connect", connect_walls, connect_cpu),
        ("refresh", refresh_walls, refresh_cpu),
    ):
        figures = {**summary(walls), **cpu}
        emit(figure=name, **figures)
        per_call = cpu["cpu_ms"] if "cpu_ms" in cpu else figures["mean_ms"]
        seconds = args.agents * per_call / 1000 / args.cores
        emit(
            figure=f"storm_{name}",
            agents=args.agents,
            cores=args.cores,
            per_call_ms=per_call,
            from_cpu="cpu_ms" in cpu,
            minutes=round(seconds / 60, 1),
            within_target=seconds <= TARGET_MINUTES * 60,
            target_minutes=TARGET_MINUTES,
        )


if __name__ == "__main__":
    main()
