"""A two-node run, measured (`make bench-cluster`): two app instances and two Celery
workers on one PostgreSQL database and one broker, one instance and one worker killed
with SIGKILL under load; then every answer is checked against the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/securecloud .venv/bin/python bench/cluster.py
        [--duration 30] [--broker rabbitmq|redis] [--database NAME] [--keep] [--no-write]

Everything runs on this machine, as separate processes: a fresh database ("NAME_cluster"
beside DATABASE_URL's NAME, or --database; migrated, a small seed_demo), gunicorn twice
(securecloud/gunicorn_conf.py, two ports), `celery -A securecloud.broker.worker worker`
twice (solo pool, the file email backend), and in this process a webhook receiver (a
local HTTP server that records every POST with its X-SecureCloud-Delivery id, then takes
--receiver-delay to answer) and the load, spread over both instances:

- agents post backup reports, each with a marker of its own in `message` (one in ten
  reports a failed backup: a `backup.failed` event, delivered to the webhook);
- console users, through the admin API with an Idempotency-Key per request: add a
  customer, add a client to it (a `client.added` event) and send its welcome email.

A request to an instance is "refused" when the connection is (the instance is down:
nothing was accepted) and "cut" when it was sent but no answer came (the instance died
with it); either way the caller retries the same request on the other instance, as an
agent or a load balancer would. A third into the run one instance (its gunicorn master
and workers) is killed with SIGKILL, then one worker as soon as it runs a task (its log
shows a task received and not finished). On RabbitMQ that task's message goes back to
the queue when the worker's connection drops; on Redis after the visibility timeout (10 s
here). After the load the run waits for the surviving worker, running `run_alerts`
(Celery beat's 5-minute sweep: the outbox left by a killed instance, a webhook delivery
claimed by a killed worker) every SWEEP_EVERY seconds.

Then it counts: every report answered 2xx is stored, exactly once unless its first
attempt was cut after the instance had stored it (the agent API takes no idempotency
key: counted apart); every welcome email queued is sent (at least once; duplicates
counted); every webhook event is delivered (at least once; duplicates by delivery id
counted: receivers dedupe by it). Prints one JSON line per figure (also kept in
bench/out/cluster.json; the processes' logs are there too), then writes its section of
BENCHMARKS.md between marker comments, which `make bench` keeps. Cleans up every process
it started, the broker queue it used, and its database unless --keep.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from broker_bench import BROKERS, answers, start_worker, wait_ready
from run import (
    BENCH,
    CLUSTER_SECTION_END,
    CLUSTER_SECTION_START,
    OUT,
    ROOT,
    Gunicorn,
    base_env,
    drop_database,
    fresh_database,
    log,
    manage,
    pg_admin,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/securecloud"
PORTS = (8781, 8782)
SEED = [
    "--resellers", "1", "--sub-resellers", "0", "--customers", "20",
    "--clients-per-customer", "5", "--reports-days", "1", "--prefix", "Cluster",
]  # fmt: skip
AGENTS = 16  # connected once, then reporting
AGENT_THREADS = 6
CONSOLE_THREADS = 2
CONSOLE_PAUSE = 0.3  # seconds between a console user's actions
FAILED_EVERY = 10  # one report in ten is a failed backup (an event for the webhook)
RETRIES = 4  # attempts of one request, alternating between the instances
SWEEP_EVERY = 20  # seconds between run_alerts sweeps while waiting for the workers
WEBHOOK_SECRET = "cluster-bench-webhook-secret"
API = "/api/v1/admin"


# --- Calls that fail over -------------------------------------------------------------


class Calls:
    """Sends requests, alternating between the instances; a request that is refused or cut
    is retried on the other one. Counts every attempt's outcome."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter = Counter()  # "refused", "cut", "answered"
        self.turn = 0

    def once(self, port: int, method: str, path: str, body: bytes | None, headers: dict):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            try:
                conn.connect()
            except OSError:  # refused (or timed out): nothing of the request was sent
                return "refused", 0, b""
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return "answered", response.status, response.read()
            except (OSError, http.client.HTTPException):
                return "cut", 0, b""
        finally:
            conn.close()

    def call(self, method: str, path: str, body: bytes | None, headers: dict):
        """(status, body, the outcome of each attempt): status 0 when none was answered."""
        with self.lock:
            self.turn += 1
            first = self.turn % 2
        outcomes = []
        for attempt in range(RETRIES):
            port = PORTS[(first + attempt) % 2]
            outcome, status, data = self.once(port, method, path, body, headers)
            outcomes.append(outcome)
            with self.lock:
                self.outcomes[outcome] += 1
            if outcome == "answered":
                return status, data, outcomes
            if outcome == "cut":
                time.sleep(0.2)
        return 0, b"", outcomes


# --- The webhook receiver ---------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """Records every POST: (X-SecureCloud-Delivery, event type, the report's marker)."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.delay = delay
        self.received: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            marker = (json.loads(body).get("data") or {}).get("message") or ""
        except ValueError:
            marker = ""
        with self.server.lock:
            self.server.received.append(
                (
                    self.headers.get("X-SecureCloud-Delivery", ""),
                    self.headers.get("X-SecureCloud-Event", ""),
                    marker,
                )
            )
        time.sleep(self.server.delay)  # the receiver's own work, before it answers
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
        pass


# --- The load --------------------------------------------------------------------------


def report_body(marker: str, failed: bool) -> bytes:
    finished = datetime.now(UTC)
    return json.dumps(
        {
            # The clients were connected moments ago: a short backup (see agent_load.py).
            "started_at": (finished - timedelta(minutes=2)).isoformat(),
            "finished_at": finished.isoformat(),
            "status": "failed" if failed else "success",
            "used_bytes": 10**6 + len(marker),
            "files": 100,
            "message": marker,
        }
    ).encode()


def agent_thread(calls: Calls, number: int, tokens: list[str], deadline: float, out: list):
    sent = 0
    while time.monotonic() < deadline:
        marker = f"cluster-{number}-{sent}"
        token = tokens[sent % len(tokens)]
        status, _, outcomes = calls.call(
            "POST",
            "/api/v1/agent/backups",
            report_body(marker, failed=sent % FAILED_EVERY == 0),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        out.append((marker, status, outcomes))
        sent += 1


def console_thread(calls: Calls, number: int, key: str, deadline: float, out: list):
    """One console user: a customer, a client of it, its welcome email; again."""
    done = 0
    while time.monotonic() < deadline:
        name = f"{number}-{done}"

        def post(path: str, document: dict) -> tuple[int, dict]:
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),  # the same on every retry
            }
            status, data, _ = calls.call("POST", API + path, json.dumps(document).encode(), headers)
            try:
                return status, json.loads(data or b"{}")
            except ValueError:
                return status, {}

        action = {"recipient": f"welcome-{name}@cluster.example"}
        action["customer"], customer = post(
            "/customers",
            {
                "name": f"Cluster Console {name}",
                "contact_email": action["recipient"],
                "auto_authorization": True,
            },
        )
        if action["customer"] == 201:
            action["client"], _ = post(
                "/clients",
                {"customer": customer["id"], "securecloud_id": f"console-{name}@cluster.example"},
            )
            action["email"], _ = post(f"/customers/{customer['id']}/send-welcome-email", {})
        out.append(action)
        done += 1
        time.sleep(CONSOLE_PAUSE)


# --- Processes -------------------------------------------------------------------------


def kill_instance(server: Gunicorn) -> int:
    """SIGKILL the gunicorn master, then its workers (as a machine that dies): the master
    first, so that it starts no new worker. Returns the processes killed."""
    master = server.proc.pid
    workers = children(master)
    for pid in [master, *workers]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.proc.wait()
    return 1 + len(workers)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: the name may hold spaces, so split after ")".
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


TASK_LINE = re.compile(r"Task \S+\[([^\]]+)\] (\S+)")


def kill_busy_worker(worker: subprocess.Popen, log_path: Path, wait: float) -> bool:
    """SIGKILL the worker while it runs a task (its log has a task received and not
    finished), waiting up to `wait` seconds for one; True when it was running one."""
    deadline = time.monotonic() + wait
    busy = False
    while not busy and time.monotonic() < deadline:
        running: set[str] = set()
        for task_id, word in TASK_LINE.findall(log_path.read_text(errors="replace")):
            if word == "received":
                running.add(task_id)
            else:
                running.discard(task_id)
        busy = bool(running)
        if not busy:
            time.sleep(0.005)
    worker.kill()
    worker.wait()
    return busy


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


# --- Setup and counting ------------------------------------------------------------------

SETUP = """
import json
from hierarchy.models import Node
from securecloud.accounts.api_keys import create_api_key

top = Node.objects.get(name="Cluster Reseller 1", level=0)
key = create_api_key(top, name="cluster bench", role="administrator", acting_user=None,
                     origin="bench cluster")
customer = Node.objects.customers().filter(tree_id=top.tree_id).order_by("lft").first()
Node.objects.filter(pk=customer.pk).update(auto_add_clients=True)
customer.refresh_from_db()
print(json.dumps({"key": key.secret, "registration_key": customer.registration_key}))
"""


def post_json(port: int, path: str, document: dict, headers: dict) -> tuple[int, dict]:
    """One POST to one instance (the set-up, before anything is killed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", **headers}
        conn.request("POST", path, json.dumps(document), headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def connect_agents(registration_key: str) -> list[str]:
    """Connect AGENTS new agents (auto-added clients: `client.approved` events)."""
    tokens = []
    for n in range(AGENTS):
        status, answer = post_json(
            PORTS[n % 2],
            "/api/v1/agent/connect",
            {
                "securecloud_id": f"cluster-agent-{n}@cluster.example",
                "password": "Cluster-Agent-Password-1",
                "registration_key": registration_key,
                "agent_version": "bench",
            },
            {},
        )
        if status not in (200, 201):
            raise SystemExit(f"connect of agent {n}: HTTP {status} {answer}")
        tokens.append(answer["token"])
    return tokens


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def outstanding(url: str, webhook: str) -> dict:
    """What the workers still have to do: welcome emails queued, webhook deliveries not
    done, events not yet handed to the webhooks."""
    emails = query(
        url,
        "SELECT count(*) FROM hierarchy_emaildelivery WHERE status = 'queued'"
        " AND recipient LIKE 'welcome-%%@cluster.example'",
    )[0][0]
    deliveries = query(
        url,
        "SELECT count(*) FROM events_webhookdelivery d JOIN events_webhook w"
        " ON w.id = d.webhook_id WHERE w.code = %s AND d.status IN ('pending', 'retrying')",
        (webhook,),
    )[0][0]
    events = query(url, "SELECT count(*) FROM clients_event WHERE dispatched_at IS NULL")[0][0]
    return {"emails_queued": emails, "deliveries_open": deliveries, "events_undispatched": events}


def count_reports(url: str, results: list) -> dict:
    """Each report answered 2xx must be stored once. One whose answer was cut (sent to
    the instance as it died) and that was stored before it died is stored again by the
    retry: the agent API takes no idempotency key, so those are counted apart."""
    stored = dict(
        query(
            url,
            "SELECT message, count(*) FROM clients_backupreport"
            " WHERE message LIKE 'cluster-%%' GROUP BY message",
        )
    )
    answered = [(m, outcomes) for m, status, outcomes in results if 200 <= status < 300]
    unanswered = [marker for marker, status, _ in results if status == 0]
    twice = [(m, outcomes) for m, outcomes in answered if stored.get(m, 0) > 1]
    return {
        "reports_sent": len(results),
        "answered_2xx": len(answered),
        "answered_other": dict(Counter(str(s) for _, s, _ in results if s and not 200 <= s < 300)),
        "stored_once": sum(1 for m, _ in answered if stored.get(m) == 1),
        "stored_twice_after_a_cut": sum(1 for _, outcomes in twice if "cut" in outcomes),
        "stored_twice_otherwise": sum(1 for _, outcomes in twice if "cut" not in outcomes),
        "lost": sum(1 for m, _ in answered if m not in stored),
        "retried_after_refused": sum(1 for _, o in answered if "refused" in o),
        "retried_after_a_cut": sum(1 for _, o in answered if "cut" in o),
        "never_answered": len(unanswered),
        "never_answered_but_stored": sum(1 for m in unanswered if m in stored),
    }


def count_emails(url: str, actions: list, mail_dir: Path) -> dict:
    queued = [a["recipient"] for a in actions if a.get("email") == 202]
    rows = query(
        url,
        "SELECT recipient, status FROM hierarchy_emaildelivery"
        " WHERE kind = 'welcome' AND recipient LIKE 'welcome-%%@cluster.example'",
    )
    by_status = Counter(status for _, status in rows)
    delivered: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: welcome-"):
                delivered[line[4:].strip()] += 1
    return {
        "console_actions": len(actions),
        "statuses": {
            step: dict(Counter(str(a.get(step)) for a in actions if step in a))
            for step in ("customer", "client", "email")
        },
        "emails_queued_202": len(queued),
        "delivery_rows": len(rows),
        "delivery_rows_by_status": dict(by_status),
        "emails_received": sum(delivered.values()),
        "recipients_reached": sum(1 for r in queued if delivered[r]),
        "recipients_not_reached": sum(1 for r in queued if not delivered[r]),
        "recipients_twice": sum(1 for r in queued if delivered[r] > 1),
    }


def count_webhooks(url: str, webhook: str, received: list, reports: list) -> dict:
    deliveries = query(
        url,
        "SELECT d.event_code::text, d.status, d.attempts FROM events_webhookdelivery d"
        " JOIN events_webhook w ON w.id = d.webhook_id WHERE w.code = %s",
        (webhook,),
    )
    events = query(
        url,
        "SELECT e.code::text, e.type, e.data->>'message' FROM clients_event e, events_webhook w"
        " WHERE w.code = %s AND e.created_at >= w.created_at",
        (webhook,),
    )
    posts = Counter(delivery for delivery, _, _ in received)
    wanted = {code for code, _, _ in deliveries}
    failed_stored = {
        marker
        for marker, status, _ in reports
        if 200 <= status < 300 and int(marker.rsplit("-", 1)[1]) % FAILED_EVERY == 0
    }
    failed_events = {marker for _, kind, marker in events if kind == "backup.failed"}
    return {
        "events": len(events),
        "events_by_type": dict(Counter(kind for _, kind, _ in events)),
        "deliveries": len(deliveries),
        "deliveries_by_status": dict(Counter(status for _, status, _ in deliveries)),
        "attempts_over_one": sum(1 for _, _, attempts in deliveries if attempts > 1),
        "posts_received": sum(posts.values()),
        "ids_received": len(posts),
        "ids_not_received": len(wanted - set(posts)),
        "ids_received_twice": sum(1 for n in posts.values() if n > 1),
        "events_without_delivery": len({code for code, _, _ in events} - wanted),
        "failed_reports_answered_2xx": len(failed_stored),
        "failed_reports_without_event": len(failed_stored - failed_events),
    }


# --- BENCHMARKS.md ---------------------------------------------------------------------


def markdown(fig: dict) -> str:
    r, e, w, run = fig["reports"], fig["emails"], fig["webhooks"], fig["run"]
    attempts = run["attempts"]
    yes = "ok" if fig["ok"] else "**MISS**"
    lines = [
        CLUSTER_SECTION_START,
        "## Two-node run (make bench-cluster)",
        "",
        "Written by `make bench-cluster` (bench/cluster.py). One PostgreSQL database, "
        f"{run['broker']}, two gunicorn instances ({run['gunicorn_workers']} sync workers "
        "each) and two Celery workers (solo pool), all on this machine; for "
        f"{run['duration_s']:.0f} s, {AGENT_THREADS} agent threads post backup reports "
        f"(one in {FAILED_EVERY} a failed backup, which is a webhook event) and "
        f"{CONSOLE_THREADS} console users add a customer, a client of it and send its welcome "
        "email through the admin API, every request alternating between the instances and "
        "retried on the other when refused or cut; the webhook receiver takes "
        f"{run['receiver_delay_s'] * 1000:.0f} ms to answer. After {run['killed_at_s']:.0f} s "
        "one instance (master and workers) is killed with SIGKILL, and one Celery worker "
        + (
            f"while it runs a task ({run['worker_killed_at_s']:.1f} s)."
            if run["worker_killed_mid_task"]
            else f"at {run['worker_killed_at_s']:.1f} s (idle: no task was running)."
        ),
        "",
        f"- Date: {run['date']}; load average at the start and the end: "
        f"{run['load_start']}; {run['load_end']}",
        f"- Requests: {attempts.get('answered', 0):,} answered, "
        f"{attempts.get('refused', 0):,} refused (the killed instance's port: nothing "
        f"accepted, retried on the other), {attempts.get('cut', 0)} cut (sent to the "
        "instance as it died, retried)",
        f"- After the load: {run['drain_s']:.0f} s until the workers had done everything, "
        f"{run['sweeps']} run_alerts sweep(s) (Celery beat's job every 5 minutes)",
        "",
        "| what | check | figure | |",
        "|---|---|---|---|",
        f"| backup reports | every 2xx stored; twice only after a cut | "
        f"{r['answered_2xx']:,} answered 2xx: {r['stored_once']:,} stored once, {r['lost']} "
        f"lost; {r['retried_after_refused']} retried after a refusal, "
        f"{r['retried_after_a_cut']} after a cut, of which {r['stored_twice_after_a_cut']} "
        f"stored twice; {r['stored_twice_otherwise']} twice otherwise; other answers "
        f"{r['answered_other'] or 'none'}, none at all {r['never_answered']} "
        f"({r['req_per_s']:,.0f} reports/s) | {mark(fig['verdicts']['reports'])} |",
        f"| welcome emails | every one queued is sent, at least once | {e['emails_queued_202']} "
        f"queued (202): {e['recipients_reached']} reached, {e['recipients_not_reached']} not, "
        f"{e['recipients_twice']} twice | {mark(fig['verdicts']['emails'])} |",
        f"| webhook events | every one delivered, at least once | {w['events']} events, "
        f"{w['deliveries']} deliveries: {w['ids_received']} ids received, "
        f"{w['ids_not_received']} not; {w['ids_received_twice']} received twice "
        f"({w['posts_received']} POSTs) | {mark(fig['verdicts']['webhooks'])} |",
        "",
        "A report stored twice after a cut: the instance had committed it when it died, its "
        "answer never left, and the agent sent it again (the agent API takes no idempotency "
        "key). The console's requests carry an Idempotency-Key, so their retries are "
        "answered from the first run. An email or a webhook event twice: a worker killed "
        "between sending and recording it. Its message is redelivered (acks late): an email "
        "is sent again; a webhook delivery is found claimed and left, and the next "
        "run_alerts sweep sends it once its claim (60 s) lapses. Receivers dedupe by "
        "X-SecureCloud-Delivery.",
        "",
        f"Verdict: {yes}. Figures as JSON: bench/out/cluster.json.",
        CLUSTER_SECTION_END,
    ]
    return "\n".join(lines)


def mark(ok: bool) -> str:
    return "ok" if ok else "**MISS**"


def write_section(section: str) -> None:
    """Replace this run's section of BENCHMARKS.md, or add it where bench/run.py keeps it:
    before the notes copied from bench/notes.md (found by their first line), else at the end."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(
        re.escape(CLUSTER_SECTION_START) + ".*?" + re.escape(CLUSTER_SECTION_END), re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        notes_path = BENCH / "notes.md"
        notes = notes_path.read_text().strip() if notes_path.exists() else ""
        first_line = notes.splitlines()[0] if notes else ""
        if first_line and f"\n{first_line}\n" in text:
            at = text.index(f"\n{first_line}\n") + 1
            text = text[:at] + section + "\n\n" + text[at:]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


# --- The run ---------------------------------------------------------------------------


def loadavg() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def run(args, url: str, broker: str, folder: Path) -> dict:
    queue = f"cluster-{uuid.uuid4().hex}"
    mail_dir = folder / "mail"
    env = {
        **base_env(),
        "DATABASE_URL": url,
        "TASKS_BACKEND": "celery",
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": queue,
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SITE_URL": "https://console.example.com",
    }
    if args.broker == "redis":
        env["CELERY_VISIBILITY_TIMEOUT"] = "10"  # a killed worker's task comes back in time
    log(f"fresh database {urllib.parse.urlsplit(url).path.lstrip('/')}, migrate, seed")
    fresh_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", *SEED)
    # The seed's time-based events (trials, missed backups), before the webhook exists.
    manage(env, "run_alerts")
    _, output = manage(env, "shell", "-c", SETUP)
    setup = json.loads(output.strip().splitlines()[-1])

    receiver = Receiver(args.receiver_delay)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    servers: list[Gunicorn] = []
    workers: list[subprocess.Popen] = []
    try:
        log(f"gunicorn on {PORTS[0]} and {PORTS[1]}, two Celery workers on {args.broker}")
        shape = ("sync", args.gunicorn_workers, 1)
        for port in PORTS:
            servers.append(Gunicorn(env, port, shape))
        logs = [OUT / f"celery-worker{n}.log" for n in range(2)]
        # INFO: each task's "received" and "succeeded" lines, which tell a busy worker.
        workers = [start_worker({**env, "LOG_LEVEL": "INFO"}, path) for path in logs]
        for path in logs:
            wait_ready(path)
        key = {"Authorization": f"Bearer {setup['key']}"}
        status, hook = post_json(
            PORTS[0],
            f"{API}/webhooks",
            {"url": f"http://127.0.0.1:{receiver.server_port}/hook", "secret": WEBHOOK_SECRET},
            key,
        )
        if status != 201:
            raise SystemExit(f"adding the webhook: HTTP {status} {hook}")
        tokens = connect_agents(setup["registration_key"])

        log(f"load for {args.duration:.0f} s; a third in, one instance and one worker killed")
        calls = Calls()
        reports: list = []
        actions: list = []
        started = time.monotonic()
        deadline = started + args.duration
        threads = [
            threading.Thread(
                target=agent_thread,
                args=(calls, n, tokens[n::AGENT_THREADS], deadline, reports),
                daemon=True,  # an interrupted run does not wait for them
            )
            for n in range(AGENT_THREADS)
        ] + [
            threading.Thread(
                target=console_thread,
                args=(calls, n, setup["key"], deadline, actions),
                daemon=True,
            )
            for n in range(CONSOLE_THREADS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.duration / 3)
        killed_at = time.monotonic() - started
        killed = kill_instance(servers[0])
        mid_task = kill_busy_worker(workers[0], logs[0], wait=args.duration / 3)
        worker_killed_at = time.monotonic() - started
        log(
            f"killed gunicorn on {PORTS[0]} ({killed} processes) at {killed_at:.1f} s, a "
            f"worker {'running a task' if mid_task else 'idle'} at {worker_killed_at:.1f} s"
        )
        for thread in threads:
            thread.join()
        load_s = time.monotonic() - started

        log("waiting for the surviving worker")
        drained = time.monotonic()
        sweeps, last_sweep = 0, drained
        while True:
            left = outstanding(url, hook["id"])
            if not any(left.values()):
                break
            if time.monotonic() - drained > args.drain:
                log(f"still outstanding after {args.drain:.0f} s: {left}")
                break
            if time.monotonic() - last_sweep >= SWEEP_EVERY:
                manage(env, "run_alerts")
                sweeps += 1
                last_sweep = time.monotonic()
            time.sleep(1)
        drain_s = time.monotonic() - drained
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            stop_worker(worker)
        receiver.shutdown()
        receiver.server_close()
        from kombu import Connection

        try:
            with Connection(broker, connect_timeout=5) as connection:
                connection.default_channel.queue_delete(queue)
        except Exception as exc:  # the figures matter more than a leftover queue
            log(f"could not delete the queue {queue}: {exc}")

    fig = {
        "reports": count_reports(url, reports),
        "emails": count_emails(url, actions, mail_dir),
        "webhooks": count_webhooks(url, hook["id"], receiver.received, reports),
        "run": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "broker": "RabbitMQ" if args.broker == "rabbitmq" else "Redis",
            "gunicorn_workers": args.gunicorn_workers,
            "duration_s": round(load_s, 1),
            "killed_at_s": round(killed_at, 1),
            "processes_killed": {"gunicorn": killed, "celery": 1},
            "worker_killed_at_s": round(worker_killed_at, 1),
            "worker_killed_mid_task": mid_task,
            "receiver_delay_s": args.receiver_delay,
            "attempts": dict(calls.outcomes),
            "drain_s": round(drain_s, 1),
            "sweeps": sweeps,
            "outstanding_at_end": left,
        },
    }
    fig["reports"]["req_per_s"] = round(len(reports) / load_s, 1)
    r, e, w = fig["reports"], fig["emails"], fig["webhooks"]
    fig["verdicts"] = {
        "reports": r["lost"] == 0 and r["stored_twice_otherwise"] == 0,
        "emails": e["recipients_not_reached"] == 0 and e["delivery_rows"] == e["emails_queued_202"],
        "webhooks": w["ids_not_received"] == 0
        and w["events_without_delivery"] == 0
        and w["failed_reports_without_event"] == 0,
    }
    fig["ok"] = all(fig["verdicts"].values())
    return fig


def stopped(signum: int, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds of load")
    parser.add_argument("--drain", type=float, default=180, help="seconds to wait after it")
    parser.add_argument("--broker", choices=sorted(BROKERS), default="rabbitmq")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="per instance")
    parser.add_argument(
        "--receiver-delay", type=float, default=0.05, help="seconds the webhook receiver takes"
    )
    parser.add_argument("--database", help="database name (default: DATABASE_URL's + _cluster)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    args = parser.parse_args()
    base, _, name = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL).rpartition("/")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/cluster.py runs on PostgreSQL: DATABASE_URL=postgres://...")
    url = f"{base}/{args.database or name.partition('?')[0] + '_cluster'}"
    broker = BROKERS[args.broker]
    if not answers(broker):
        raise SystemExit(f"The broker does not answer at {broker}")
    pg_admin(url).close()  # PostgreSQL answers, or this says why
    OUT.mkdir(parents=True, exist_ok=True)
    # Stopped from outside (a timeout, CI): clean up as after Ctrl-C.
    signal.signal(signal.SIGTERM, stopped)
    load_start = loadavg()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fig = run(args, url, broker, Path(tmp))
    finally:
        if not args.keep:
            drop_database({"DATABASE_URL": url})
    fig["run"]["load_start"], fig["run"]["load_end"] = load_start, loadavg()
    for name in ("run", "reports", "emails", "webhooks", "verdicts"):
        print(json.dumps({"figure": name, **fig[name]}))
    (OUT / "cluster.json").write_text(json.dumps(fig, indent=1))
    section = markdown(fig)
    print()
    print(section)
    if not args.no_write:
        write_section(section)
    return 0 if fig["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
