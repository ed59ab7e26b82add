"""Import benchmark: 1,000 customers and 100,000 clients from CSV (time and peak memory).

    SQLITE_PATH=/tmp/bench/db.sqlite3 SECRET_KEY=x .venv/bin/python bench/import_bench.py
    DATABASE_URL=postgres://... SECRET_KEY=x .venv/bin/python bench/import_bench.py

Works on a throwaway database of its own (the SQLite file or PostgreSQL database named in
the environment, suffixed "_importbench"), created fresh and dropped afterwards. Each
import runs as a child process (`manage.py import_...`), so its peak memory (max RSS)
is its own. Prints one JSON line per measurement.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"customers": (1_000, 3.0), "clients": (100_000, 10.0)}
PEAK_MB_TARGET = 300


def bench_env() -> dict:
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "bench-only-insecure-key")
    if env.get("DATABASE_URL"):
        base, _, name = env["DATABASE_URL"].rpartition("/")
        env["DATABASE_URL"] = f"{base}/{name.split('?')[0]}_importbench"
    else:
        path = Path(env.get("SQLITE_PATH", tempfile.gettempdir() + "/importbench.sqlite3"))
        env["SQLITE_PATH"] = str(path.with_name(path.stem + "_importbench.sqlite3"))
    return env


def manage(env, *args, check=True) -> tuple[float, float, str]:
    """Run manage.py; returns (seconds, the child's own peak memory in MB, its output)."""
    with tempfile.TemporaryFile(mode="w+") as output:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if check and proc.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{text}")
    return elapsed, usage.ru_maxrss / 1024, text


def fresh_database(env) -> None:
    if env.get("DATABASE_URL"):
        import psycopg2

        url = env["DATABASE_URL"]
        base, _, name = url.rpartition("/")
        conn = psycopg2.connect(base + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(env["SQLITE_PATH"] + suffix).unlink(missing_ok=True)
    manage(env, "migrate", "--noinput", "-v0")


def write_files(folder: Path, customers: int, clients: int) -> tuple[Path, Path, Path]:
    resellers_csv = folder / "resellers.csv"
    resellers_csv.write_text("name,parent\nBench East,\nBench West,\n")
    customers_csv = folder / "customers.csv"
    with customers_csv.open("w") as f:
        f.write("name,contact_email,usage_space,auto_add_clients,reseller\n")
        for i in range(customers):
            where = ("", "Bench East", "Bench West")[i % 3]
            f.write(f"Customer {i:05d},it@customer{i}.example,50GB,yes,{where}\n")
    clients_csv = folder / "clients.csv"
    with clients_csv.open("w") as f:
        f.write("securecloud_id,customer,name,email,plan\n")
        for i in range(clients):
            c = i % customers
            plan = "paid" if i % 4 == 0 else ""
            f.write(
                f"user{i}@customer{c}.example,Customer {c:05d},Laptop {i},"
                f"user{i}@customer{c}.example,{plan}\n"
            )
    return resellers_csv, customers_csv, clients_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=TARGETS["customers"][0])
    parser.add_argument("--clients", type=int, default=TARGETS["clients"][0])
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    args = parser.parse_args()
    env = bench_env()
    vendor = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    fresh_database(env)
    env_admin = {**env, "RESELLER_ADMIN_PASSWORD": "Quartz-Lantern-9182"}
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "create_reseller_admin",
            "--reseller",
            "Bench Reseller",
            "--username",
            "bench-admin",
            "--noinput",
        ],
        env=env_admin,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        resellers_csv, customers_csv, clients_csv = write_files(
            Path(tmp), args.customers, args.clients
        )
        manage(env, "import_resellers", str(resellers_csv), "--reseller", "Bench Reseller")
        for what, path, count in (
            ("customers", customers_csv, args.customers),
            ("clients", clients_csv, args.clients),
        ):
            seconds, peak, output = manage(
                env, f"import_{what}", str(path), "--reseller", "Bench Reseller"
            )
            target = TARGETS[what][1] * count / TARGETS[what][0]
            results.append(
                {
                    "what": f"import {count} {what}",
                    "database": vendor,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(count / seconds),
                    "peak_mb": round(peak),
                    "target_s": target,
                    "ok": seconds <= target and peak <= PEAK_MB_TARGET,
                    "output": output.strip().splitlines()[-1],
                }
            )
        # The tree must be whole after the customers went in.
        check = subprocess.run(
            [sys.executable, "-c", TREE_CHECK],
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        results.append(
            {
                "what": "tree valid after import",
                "database": vendor,
                "ok": check.returncode == 0,
                "output": (check.stdout + check.stderr)[-300:],
            }
        )
    for result in results:
        print(json.dumps(result))
    if not args.keep and env.get("DATABASE_URL"):
        import psycopg2

        base, _, name = env["DATABASE_URL"].rpartition("/")
        conn = psycopg2.connect(base + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()


TREE_CHECK = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "securecloud.settings")
django.setup()
from hierarchy.models import Node
for tree_id in Node.objects.values_list("tree_id", flat=True).distinct():
    rows = list(Node.objects.filter(tree_id=tree_id)
                .values_list("pk", "parent_id", "lft", "rght", "level"))
    values = sorted(v for r in rows for v in (r[2], r[3]))
    assert values == list(range(1, 2 * len(rows) + 1)), tree_id
    by_pk = {r[0]: r for r in rows}
    for pk, parent, lft, rght, level in rows:
        if parent:
            p = by_pk[parent]
            assert p[2] < lft < rght < p[3] and level == p[4] + 1, pk
print("ok")
"""

if __name__ == "__main__":
    main()
