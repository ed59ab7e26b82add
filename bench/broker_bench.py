"""Task broker benchmark: welcome emails through Celery workers, on RabbitMQ and on Redis.

    SECRET_KEY=x .venv/bin/python bench/broker_bench.py [--emails 300] [--kill] [--keep]
    DATABASE_URL=postgres://... SECRET_KEY=x .venv/bin/python bench/broker_bench.py

For each broker that answers: a throwaway database (the SQLite file or PostgreSQL
database named in the environment, suffixed "_brokerbench"), N customers, two Celery
worker processes (solo pool) sending through the file email backend, then N welcome
emails queued as the console queues them (`queue_welcome_email`: the delivery row, its
audit event, the publish). Measured: what queueing costs the caller (p50 / p99), and the
time until every delivery is sent. With --kill, one worker is killed with SIGKILL when
about a third are sent; the run then counts that every delivery is still sent, and how
many messages went out twice (at-least-once delivery: a worker killed between sending
and recording sends that one again). Prints one JSON line per broker. The PostgreSQL
database is dropped at the end unless --keep (bench/run.py runs it as its last step).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKERS = {
    "rabbitmq": os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "redis": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
WORKERS = 2
DEADLINE = 300  # seconds for one run to drain


def bench_env(broker: str, queue: str, mail_dir: Path) -> dict:
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "bench-only-insecure-key")
    env["DEBUG"] = "0"
    if env.get("DATABASE_URL"):
        base, _, name = env["DATABASE_URL"].rpartition("/")
        env["DATABASE_URL"] = f"{base}/{name.split('?')[0]}_brokerbench"
    else:
        path = Path(env.get("SQLITE_PATH", tempfile.gettempdir() + "/brokerbench.sqlite3"))
        env["SQLITE_PATH"] = str(path.with_name(path.stem + "_brokerbench.sqlite3"))
    env.update(
        TASKS_BACKEND="celery",
        CELERY_BROKER_URL=broker,
        CELERY_QUEUE=queue,
        CELERY_VISIBILITY_TIMEOUT="10",  # a killed worker's task comes back within the run
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        SITE_URL="https://console.example.com",
    )
    return env


def fresh_database(env: dict) -> None:
    if env.get("DATABASE_URL"):
        import psycopg2

        base, _, name = env["DATABASE_URL"].rpartition("/")
        conn = psycopg2.connect(base + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(env["SQLITE_PATH"] + suffix).unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def drop_database(env: dict) -> None:
    if env.get("DATABASE_URL"):
        import psycopg2

        base, _, name = env["DATABASE_URL"].rpartition("/")
        conn = psycopg2.connect(base + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def add_customers(env: dict, count: int, folder: Path) -> None:
    csv = folder / "customers.csv"
    with csv.open("w") as f:
        f.write("name,contact_email,usage_space,auto_add_clients\n")
        for i in range(count):
            f.write(f"Customer {i:05d},it@customer{i}.example,50GB,no\n")
    subprocess.run(
        [sys.executable, "manage.py", "import_customers", str(csv), "--reseller", "Bench"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "securecloud.broker.worker", "worker"]
        + ["--pool", "solo", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
        + ["--hostname", f"bench-{uuid.uuid4().hex[:12]}@%h"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if " ready." in log.read_text():
            return
        time.sleep(0.2)
    raise SystemExit(f"A Celery worker did not start:\n{log.read_text()[-3000:]}")


def run(name: str, broker: str, emails: int, kill: bool, keep: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        queue = f"bench-{uuid.uuid4().hex}"
        env = bench_env(broker, queue, folder / "mail")
        fresh_database(env)
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", CREATE_RESELLER],
            cwd=ROOT,
            env=env,
            check=True,
        )
        add_customers(env, emails, folder)
        logs = [folder / f"worker{i}.log" for i in range(WORKERS)]
        workers = [start_worker(env, log) for log in logs]
        for log in logs:
            wait_ready(log)
        try:
            proc = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", QUEUE_AND_WAIT],
                cwd=ROOT,
                env={
                    **env,
                    "BENCH_KILL_PID": str(workers[0].pid) if kill else "",
                    "BENCH_DEADLINE": str(DEADLINE),
                },
                capture_output=True,
                text=True,
                timeout=DEADLINE + 120,
            )
            if proc.returncode:
                raise SystemExit(f"{name}: the run failed:\n{proc.stdout}\n{proc.stderr}")
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=30)
            from kombu import Connection

            with Connection(broker) as connection:
                connection.default_channel.queue_delete(queue)
            if not keep:
                drop_database(env)
        sent = Counter()
        for path in (folder / "mail").glob("*.log"):
            for line in path.read_text().splitlines():
                if line.startswith("To: "):
                    sent[line[4:]] += 1
        figures.update(
            broker=name,
            workers=WORKERS,
            killed_a_worker=kill,
            messages_written=sum(sent.values()),
            recipients_reached=len(sent),
            recipients_twice=sum(1 for n in sent.values() if n > 1),
        )
        return figures


CREATE_RESELLER = """
from hierarchy import services
services.create_reseller(None, name="Bench", acting_user=None, origin="command broker_bench")
"""

# Runs inside `manage.py shell` with TASKS_BACKEND=celery: what the console does, N times.
QUEUE_AND_WAIT = """
import json, os, signal, time
from hierarchy.models import Node
from securecloud.mail.emails import queue_welcome_email
from securecloud.mail.models import EmailDelivery

customers = list(Node.objects.filter(kind=Node.Kind.CUSTOMER).order_by("name"))
kill_pid = int(os.environ["BENCH_KILL_PID"] or 0)
costs = []
started = time.perf_counter()
killed_at = None


def maybe_kill():
    global killed_at
    done = EmailDelivery.objects.exclude(status=EmailDelivery.Status.QUEUED).count()
    if kill_pid and killed_at is None and done >= len(customers) // 3:
        os.kill(kill_pid, signal.SIGKILL)  # while it works: the queue is still filling
        killed_at = done
    return done


for number, customer in enumerate(customers):
    t = time.perf_counter()
    queue_welcome_email(customer, acting_user=None, origin="command broker_bench")
    costs.append(time.perf_counter() - t)
    if number % 10 == 0:
        maybe_kill()
queued_s = time.perf_counter() - started
deadline = time.monotonic() + int(os.environ["BENCH_DEADLINE"])
while time.monotonic() < deadline:
    done = maybe_kill()
    if done == len(customers):
        break
    time.sleep(0.05)
drained_s = time.perf_counter() - started
costs.sort()
by_status = {s: EmailDelivery.objects.filter(status=s).count() for s in EmailDelivery.Status.values}
print(json.dumps({
    "emails": len(customers),
    "queue_p50_ms": round(costs[len(costs) // 2] * 1000, 2),
    "queue_p99_ms": round(costs[int(len(costs) * 0.99)] * 1000, 2),
    "queued_in_s": round(queued_s, 2),
    "all_done_in_s": round(drained_s, 2),
    "emails_per_s": round(len(customers) / drained_s, 1),
    "killed_after": killed_at,
    "deliveries": by_status,
}))
"""


def answers(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--kill", action="store_true", help="SIGKILL one worker mid-run")
    parser.add_argument("--broker", choices=sorted(BROKERS), action="append")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    for name in args.broker or sorted(BROKERS):
        if not answers(BROKERS[name]):
            print(json.dumps({"broker": name, "skipped": f"{BROKERS[name]} does not answer"}))
            continue
        figures = run(name, BROKERS[name], args.emails, args.kill, args.keep)
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
