"""The benchmark suite (`make bench`): builds 100,000 clients, measures, writes BENCHMARKS.md.

    .venv/bin/python bench/run.py                      # SQLite
    DATABASE_URL=postgres://user@host:5432/NAME .venv/bin/python bench/run.py
                                                       # SQLite, then PostgreSQL

On PostgreSQL it works in databases of its own next to NAME ("NAME_bench", and the
import benchmark's "NAME_importbench"), created fresh and dropped afterwards: the
database NAME itself is never touched. SQLite files go to bench/out/ (git-ignored).

Per database:
 1. seed_demo: 1 reseller, 2 sub-resellers, 1,000 customers, 100 clients each, 7 days
    of backup reports; plus a reseller with 1,000 direct customers (the largest console
    home) and a small one (1 customer, 10 clients);
 2. console pages in process (bench/inprocess.py console): median, p95, SQL queries;
    then the big reseller branded (bench/inprocess.py branding): its pages and stylesheet;
 3. adding a client and a customer, small reseller vs big (bench/inprocess.py writes);
 4. gunicorn on 127.0.0.1 (securecloud/gunicorn_conf.py) driven by wrk (bench/agent.lua):
    connects, then status calls and backup reports, for a few worker shapes;
 5. PostgreSQL only: two gunicorn instances on one database (totals, shared rate limit);
 6. importing 100,000 clients from CSV (bench/import_bench.py);
 7. on one database (PostgreSQL when it runs, else SQLite): welcome emails through two
    Celery workers on RabbitMQ and on Redis, one worker killed mid-run
    (bench/broker_bench.py; a broker that does not answer is reported as skipped).
Then BENCHMARKS.md gets every figure against its target, and the same table is printed.
"""

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = sys.executable
ADMIN_PASSWORD = "Quartz-Lantern-9182"
SEED = [
    "--resellers", "1", "--sub-resellers", "2", "--customers", "1000",
    "--clients-per-customer", "100", "--reports-days", "7",
]  # fmt: skip
# Worker shapes tried under gunicorn (class, workers, threads); the first is the one
# securecloud/gunicorn_conf.py and the README use. The table shows the best one measured.
SHAPES = [("sync", 4, 1), ("sync", 2, 1), ("gthread", 2, 4)]
WRK_THREADS = 2
WRK_CONNECTIONS = 16
CONNECT_CONNECTIONS = 4
# bench/broker_bench.py: emails queued per broker (fewer with --quick), a worker killed.
BROKER_EMAILS = 150
BROKER_EMAILS_QUICK = 60
# bench/cluster.py (`make bench-cluster`) writes its section of BENCHMARKS.md between
# these two lines; rewriting the file keeps it.
CLUSTER_SECTION_START = "<!-- make bench-cluster: start -->"
CLUSTER_SECTION_END = "<!-- make bench-cluster: end -->"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Environment and databases ---------------------------------------------------------


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.setdefault("SECRET_KEY", "bench-only-insecure-key")
    env.update(
        DEBUG="0",
        HTTPS="0",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        TASKS_BACKEND="",
    )
    env.pop("EMAIL_HOST", None)
    return env


def pg_admin(url: str):
    import psycopg2

    base, _, _ = url.rpartition("/")
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    return conn


def bench_pg_url(url: str) -> str:
    base, _, name = url.rpartition("/")
    name, _, query = name.partition("?")
    return f"{base}/{name}_bench" + (f"?{query}" if query else "")


def fresh_database(env: dict) -> None:
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        conn = pg_admin(url)
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(env["SQLITE_PATH"] + suffix).unlink(missing_ok=True)


def drop_database(env: dict) -> None:
    if env.get("DATABASE_URL"):
        name = urllib.parse.urlsplit(env["DATABASE_URL"]).path.lstrip("/")
        conn = pg_admin(env["DATABASE_URL"])
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def manage(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [PY, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - started, proc.stdout


def json_lines(env: dict, *args: str, script: str = "inprocess.py") -> list[dict]:
    proc = subprocess.run(
        [PY, str(BENCH / script), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"bench/{script} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


# --- gunicorn and wrk --------------------------------------------------------------------


class Gunicorn:
    def __init__(self, env: dict, port: int, shape: tuple[str, int, int]):
        worker_class, workers, threads = shape
        self.port = port
        self.env = {
            **env,
            "ALLOWED_HOSTS": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKER_CLASS": worker_class,
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        self.log = open(OUT / f"gunicorn-{port}.log", "w")
        self.proc = subprocess.Popen(
            [
                str(Path(PY).parent / "gunicorn"),
                "securecloud.wsgi",
                "-c",
                "python:securecloud.gunicorn_conf",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log.name}")
            try:
                if get(port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post_json(port: int, path: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def wrk(port: int, endpoint: str, seconds: float, connections: int, **files) -> dict:
    env = {
        **os.environ,
        "ENDPOINT": endpoint,
        "WRK_THREADS": str(WRK_THREADS),
        **{k: str(v) for k, v in files.items()},
    }
    proc = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(BENCH / "agent.lua"),
            f"http://127.0.0.1:{port}",
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise SystemExit(f"wrk failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(lines[-1])
    result["concurrency"] = connections
    return result


def agent_runs(env: dict, agents: dict, quick: bool) -> dict:
    """Connects (which also hand out the tokens), then status and backups per shape."""
    ids, tokens = OUT / "ids.txt", OUT / "tokens.txt"
    seconds = 4 if quick else 10
    results = {"shapes": []}
    for index, shape in enumerate(SHAPES):
        with Gunicorn(env, 8765, shape) as server:
            if index == 0:
                results["connect"] = wrk(
                    server.port,
                    "connect",
                    seconds * 1.5,
                    CONNECT_CONNECTIONS,
                    IDS_FILE=ids,
                    PASSWORD=agents["password"],
                    TOKENS_OUT=tokens,
                )
                results["connect"]["shape"] = shape
                results["token_count"] = len(tokens.read_text().split())
                log(f"  connect {shape}: {summary_line(results['connect'])}")
            wrk(server.port, "status", 2, WRK_CONNECTIONS, TOKENS_FILE=tokens)  # warm up
            row = {"shape": shape}
            for endpoint in ("status", "backups"):
                row[endpoint] = wrk(
                    server.port, endpoint, seconds, WRK_CONNECTIONS, TOKENS_FILE=tokens
                )
                log(f"  {endpoint} {shape}: {summary_line(row[endpoint])}")
            results["shapes"].append(row)
    return results


def summary_line(r: dict) -> str:
    return (
        f"{r['req_per_s']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
        f"statuses {r['statuses']}, socket errors {r['socket_errors']}"
    )


# --- Scale-out (PostgreSQL) -----------------------------------------------------------


def count_reports(env: dict) -> int:
    return json_lines(env, "count")[0]["count"]


def scale_out(env: dict, agents: dict, shape, quick: bool) -> dict:
    ports = (8771, 8772)
    servers = [Gunicorn(env, port, shape) for port in ports]
    try:
        before = count_reports(env)
        procs = []
        for n, port in enumerate(ports):
            procs.append(
                subprocess.Popen(
                    [
                        PY,
                        str(BENCH / "agent_load.py"),
                        "--server",
                        f"http://127.0.0.1:{port}",
                        "--endpoint",
                        "backups",
                        "--key",
                        agents["key"],
                        "--clients",
                        "20",
                        "--id-prefix",
                        f"scaleout-{n}",
                        "--processes",
                        "1",
                        "--threads",
                        "4",
                        "--duration",
                        "4" if quick else "8",
                        "--json",
                    ],  # fmt: skip
                    env={**env, "PYTHONPATH": str(ROOT)},
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        runs = []
        for proc in procs:
            out, err = proc.communicate()
            lines = [line for line in out.splitlines() if line.startswith("{")]
            if not lines:
                raise SystemExit(f"agent_load failed:\n{out}\n{err}")
            runs.append(json.loads(lines[-1]))
        after = count_reports(env)
        created = sum(r["statuses"].get("201", 0) for r in runs)
        others = {code: n for r in runs for code, n in r["statuses"].items() if code != "201"}
        # Rate limit shared by both instances: 10 wrong passwords alternating between the
        # ports, then the right password is refused on either port.
        sid = agents["ratelimit_id"]
        wrong = [
            post_json(
                ports[i % 2],
                "/api/v1/agent/connect",
                {"securecloud_id": sid, "password": "Wrong-Password-0"},
            )[0]
            for i in range(10)
        ]
        right = [
            post_json(
                port,
                "/api/v1/agent/connect",
                {"securecloud_id": sid, "password": agents["password"]},
            )[0]
            for port in ports
        ]
        health = [get(port, "/healthz")[0] for port in ports]
    finally:
        for server in servers:
            server.stop()
    return {
        "runs": runs,
        "reports_before": before,
        "reports_after": after,
        "answers_201": created,
        "other_answers": others,
        "totals_equal": after - before == created,
        "wrong_password_answers": wrong,
        "right_password_after": right,
        "rate_limit_shared": wrong == [401] * 10 and right == [429, 429],
        "healthz": health,
        "req_per_s": round(sum(r["req_per_s"] for r in runs), 1),
    }


# --- One database ------------------------------------------------------------------------


def run_database(env: dict, vendor: str, args) -> dict:
    fig: dict = {"vendor": vendor}
    log(f"{vendor}: fresh database, migrate")
    fresh_database(env)
    manage(env, "migrate", "--noinput", "-v0")
    log(f"{vendor}: seed_demo {' '.join(SEED)}")
    seconds, output = manage(
        env, "seed_demo", *SEED, "--prefix", "Bench", "--admin-password", ADMIN_PASSWORD
    )
    fig["seed_s"] = round(seconds, 1)
    fig["seed_output"] = output.strip().splitlines()[0]
    manage(
        env, "seed_demo", "--sub-resellers", "0", "--customers", "1000",
        "--clients-per-customer", "0", "--prefix", "Flat", "--admin-password", ADMIN_PASSWORD,
    )  # fmt: skip
    manage(
        env, "seed_demo", "--sub-resellers", "0", "--customers", "1",
        "--clients-per-customer", "10", "--prefix", "Small",
    )  # fmt: skip
    if vendor == "postgresql":
        # What autovacuum does shortly after a bulk load: planner statistics.
        import psycopg2

        conn = psycopg2.connect(env["DATABASE_URL"])
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()
    log(f"{vendor}: console pages")
    fig["console"] = json_lines(env, "console")
    log(f"{vendor}: branded pages")
    fig["console"] += json_lines(env, "branding")
    log(f"{vendor}: usage metering")
    fig["usage"] = json_lines(env, script="usage_bench.py")
    log(f"{vendor}: adding clients and customers")
    fig["writes"] = json_lines(env, "writes")
    log(f"{vendor}: admin API")
    fig["api"] = json_lines(env, "api")
    log(f"{vendor}: trial lists and run_alerts")
    fig["alerts"] = json_lines(env, "alerts")
    agents = json_lines(env, "agents", str(OUT))[0]
    fig["hash_ms"] = agents["hash_ms"]
    fig["hasher"] = agents["hasher"]
    if not args.skip_http:
        log(f"{vendor}: gunicorn + wrk")
        fig["agent"] = agent_runs(env, agents, args.quick)
        if vendor == "postgresql":
            log(f"{vendor}: scale-out, two instances")
            fig["scale_out"] = scale_out(env, agents, SHAPES[0], args.quick)
    # After the agent load: it gives tokens to the clients it times (the database is
    # the benchmark's own).
    log(f"{vendor}: reconnect storm, password connects against refreshes")
    fig["reconnect"] = json_lines(
        env, "--count", "20" if args.quick else "60", script="reconnect_bench.py"
    )
    if not args.skip_import:
        log(f"{vendor}: import 100,000 clients")
        import_env = dict(env)
        if vendor == "postgresql":
            import_env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        proc = subprocess.run(
            [PY, str(BENCH / "import_bench.py")],
            env=import_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise SystemExit(f"bench/import_bench.py failed:\n{proc.stdout}\n{proc.stderr}")
        fig["import"] = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    if not args.skip_broker and vendor == broker_database(args):
        emails = BROKER_EMAILS_QUICK if args.quick else BROKER_EMAILS
        log(f"{vendor}: {emails} welcome emails through Celery workers, one killed")
        fig["broker"] = broker_runs(env, emails, keep=args.keep)
    if not args.keep:
        drop_database(env)
    return fig


def broker_database(args) -> str:
    """The database the broker benchmark runs on: its figures are those of the queue and
    the workers, which one database shows as well as two."""
    return "postgresql" if os.environ.get("DATABASE_URL") and not args.sqlite_only else "sqlite"


def broker_runs(env: dict, emails: int, keep: bool) -> list[dict]:
    """bench/broker_bench.py on both brokers, in a database of its own beside this one's."""
    options = ["--emails", str(emails), "--kill"] + (["--keep"] if keep else [])
    return json_lines(env, *options, script="broker_bench.py")


# --- Report ------------------------------------------------------------------------------

CONSOLE_TARGET = "p50 ≤ 50 ms, p95 ≤ 100 ms, ≤ 10 queries"


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")
    )
    import sqlite3
    from importlib.metadata import version

    info = {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": version("Django"),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": version("gunicorn"),
        "psycopg2": version("psycopg2-binary"),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        .stdout.split("[")[0]
        .strip(),
        "os": platform.platform(),
    }
    if os.environ.get("DATABASE_URL"):
        conn = pg_admin(os.environ["DATABASE_URL"])
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            info["postgresql"] = cur.fetchone()[0]
        conn.close()
    return info


def rows(figs: dict, total_s: float | None) -> list[dict]:
    """[{what, target, sqlite, postgresql, ok_sqlite, ok_postgresql}] (ok None: not judged)."""
    out = []

    def add(what, target, per_vendor, judge_sqlite=True):
        row = {"what": what, "target": target}
        for vendor in ("sqlite", "postgresql"):
            fig = figs.get(vendor)
            if fig is None:
                continue
            value = per_vendor(fig)
            if value is None:
                continue
            text, ok = value
            row[vendor] = text
            row[f"ok_{vendor}"] = ok if (vendor == "postgresql" or judge_sqlite) else None
        out.append(row)

    def console(name):
        def pick(fig):
            for item in fig.get("console", []):
                if item.get("name") == name:
                    ok = item["p50_ms"] <= 50 and item["p95_ms"] <= 100 and item["queries"] <= 10
                    return (
                        f"{item['p50_ms']:.1f} / {item['p95_ms']:.1f} ms, {item['queries']} q",
                        ok,
                    )
            return None

        return pick

    for name in (
        "console home",
        "reseller pane",
        "reseller pane, sorted by clients",
        "customer pane (100 clients)",
        "tree expand of a customer",
        "client pane",
        "search (common word)",
        "search (no match)",
        "health list (failed)",
        "console home, 1,000 direct customers",
        "console home, branded",
        "client pane, branded",
        "Branding page",
        "branding stylesheet, revalidated (304)",
    ):
        add(name, CONSOLE_TARGET, console(name))

    def trial_list(name):
        def pick(fig):
            for item in fig.get("alerts", []):
                if item.get("name") == name:
                    ok = item["p50_ms"] <= 50 and item["p95_ms"] <= 100 and item["queries"] <= 10
                    return (
                        f"{item['p50_ms']:.1f} / {item['p95_ms']:.1f} ms, {item['queries']} q",
                        ok,
                    )
            return None

        return pick

    for name in ("trial list (ending)", "trial list (expired)"):
        add(name, CONSOLE_TARGET, trial_list(name))

    def run_alerts(fig):
        runs = {item["name"]: item for item in fig.get("alerts", []) if "seconds" in item}
        if len(runs) < 2:
            return None
        first, again = runs["run_alerts (first)"], runs["run_alerts (again)"]
        return (
            f"first {first['seconds']:.1f} s ({first['events']:,} events), again "
            f"{again['seconds']:.1f} s ({again['events']} events) at {first['clients']:,} clients",
            again["events"] == 0 and again["seconds"] <= 60,
        )

    add("run_alerts (cron, every few minutes)", "again: 0 new events, ≤ 60 s", run_alerts)

    def html(fig):
        sizes = {i["name"]: i["bytes"] for i in fig.get("console", []) if "bytes" in i}
        flat = sizes.get("console home, 1,000 direct customers")
        if flat is None:
            return None
        return (
            f"{flat / 1024:.0f} KB (big reseller's home {sizes['console home'] / 1024:.0f} KB)",
            flat <= 250 * 1024,
        )

    add("HTML of the console home at 1,000 customers", "≤ 250 KB", html)

    # Round two (performance issue 2): the panes as a user feels them.
    def pane_round_two(name):
        def pick(fig):
            for item in fig.get("console", []):
                if item.get("name") == name:
                    return f"{item['p50_ms']:.1f} ms, {item['queries']} q", item["p50_ms"] <= 15
            return None

        return pick

    for name in (
        "console home",
        "reseller pane",
        "customer pane (100 clients)",
        "client pane",
        "tree expand of a customer",
        "search (common word)",
        "search (no match)",
        "health list (failed)",
    ):
        add(f"{name}, round two", "p50 ≤ 15 ms in process", pane_round_two(name))

    def html_round_two(fig):
        sizes = {i["name"]: i["bytes"] for i in fig.get("console", []) if "bytes" in i}
        flat = sizes.get("console home, 1,000 direct customers")
        if flat is None:
            return None
        return f"{flat / 1024:.1f} KB", flat <= 60 * 1024

    add("HTML of the console home at 1,000 direct customers, round two", "≤ 60 KB", html_round_two)

    def write(what, ratio_target, each_ms):
        def pick(fig):
            for item in fig.get("writes", []):
                if item["name"] == f"add a {what}":
                    s, b = item["small"], item["big"]
                    ok = b["p50_ms"] <= each_ms and (
                        ratio_target is None
                        or (item["ratio"] <= ratio_target and s["p50_ms"] <= each_ms)
                    )
                    return (
                        f"{s['p50_ms']:.1f} ms at {item['small_clients']:,} clients, "
                        f"{b['p50_ms']:.1f} ms at {item['big_clients']:,} (ratio {item['ratio']})",
                        ok,
                    )
            return None

        return pick

    add(
        "add a client (no password), big vs small",
        "ratio ≤ 1.5, each ≤ 25 ms",
        write("client", 1.5, 25),
    )
    add("add a customer at 1,000 customers", "≤ 50 ms", write("customer", None, 50))

    def api_page(name):
        def pick(fig):
            for item in fig.get("api", []):
                if item.get("name") == name:
                    text = f"{item['p50_ms']:.1f} / {item['p95_ms']:.1f} ms, {item['queries']} q"
                    return text, item["p50_ms"] <= 30
            return None

        return pick

    def api_pages_constant(fig):
        queries = [i["queries"] for i in fig.get("api", []) if "queries" in i]
        if len(queries) < 2:
            return None
        return f"{queries[0]} and {queries[1]} queries", len(set(queries)) == 1

    def api_add(fig):
        for item in fig.get("api", []):
            if item.get("section") == "api-writes":
                return f"p50 {item['p50_ms']:.1f} ms, p95 {item['p95_ms']:.1f} ms", (
                    item["p50_ms"] <= 25
                )
        return None

    for name in ("admin API: clients, first page of 100", "admin API: clients, page 51 of 100"):
        add(name + " (100,000 clients)", "p50 ≤ 30 ms", api_page(name))
    add("admin API: query count of a page", "constant", api_pages_constant)
    add("admin API: add a client", "≤ 25 ms", api_add)

    def agent(endpoint, minimum):
        def pick(fig):
            if "agent" not in fig:
                return None
            row = fig["agent"]["shapes"][0]  # the configuration production runs
            best = row[endpoint]
            ok = (
                best["req_per_s"] >= minimum
                and best["p99_ms"] <= 50
                and set(best["statuses"]) == {"200" if endpoint == "status" else "201"}
                and not best["socket_errors"]
            )
            cls, workers, threads = row["shape"]
            return (
                f"{best['req_per_s']:,.0f} req/s, p50 {best['p50_ms']:.1f} ms, "
                f"p99 {best['p99_ms']:.1f} ms ({workers} {cls}"
                + (f" × {threads} threads)" if cls == "gthread" else ")"),
                ok,
            )

        return pick

    add(
        "backup reports under gunicorn",
        "≥ 800 req/s, p99 ≤ 50 ms (PostgreSQL)",
        agent("backups", 800),
        False,
    )
    add(
        "status calls under gunicorn",
        "≥ 1,000 req/s, p99 ≤ 50 ms (PostgreSQL)",
        agent("status", 1000),
        False,
    )
    add(
        "backup reports under gunicorn, round two",
        "≥ 1,300 req/s, p99 ≤ 50 ms (PostgreSQL)",
        agent("backups", 1300),
        False,
    )
    add(
        "status calls under gunicorn, round two",
        "≥ 2,000 req/s, p99 ≤ 50 ms (PostgreSQL)",
        agent("status", 2000),
        False,
    )

    def connect(fig):
        if "agent" not in fig:
            return None
        c = fig["agent"]["connect"]
        return (
            f"{c['req_per_s']:.1f} req/s, p50 {c['p50_ms']:.0f} ms, p99 {c['p99_ms']:.0f} ms "
            f"(one {fig['hasher']} check {fig['hash_ms']:.0f} ms)",
            None,
        )

    add("connects (password hashing bound)", "reported (no target)", connect)

    def storm(fig):
        figures = {item["figure"]: item for item in fig.get("reconnect", [])}
        refresh, password = figures.get("storm_refresh"), figures.get("storm_password_connect")
        if refresh is None or password is None:
            return None
        return (
            f"{refresh['minutes']:.1f} min by refresh ({refresh['per_call_ms']:.1f} ms a call"
            f"{' of CPU' if refresh['from_cpu'] else ''}), {password['minutes']:.0f} min by "
            f"password ({password['per_call_ms']:.0f} ms) on {refresh['cores']} cores",
            refresh["within_target"],
        )

    add(
        "reconnect storm: 100,000 agents come back (projected)",
        "≤ 15 min on 2 cores",
        storm,
    )

    def scale(fig):
        s = fig.get("scale_out")
        if not s:
            return None
        ok = s["totals_equal"] and not s["other_answers"] and s["rate_limit_shared"]
        text = (
            f"{s['answers_201']:,} answers 201 = "
            f"{s['reports_after'] - s['reports_before']:,} new rows; "
            f"other answers {s['other_answers'] or 'none'}; after 10 failures: "
            f"{s['right_password_after']} on the two ports"
        )
        return text, ok

    add("scale-out: two instances, one database", "totals equal, no errors, limit shared", scale)

    def imported(fig):
        for item in fig.get("import", []):
            if item["what"].endswith("clients"):
                ok = item["seconds"] <= 10 and item["peak_mb"] <= 300
                return (
                    f"{item['seconds']:.1f} s ({item['rows_per_s']:,} rows/s), "
                    f"peak {item['peak_mb']} MB",
                    ok,
                )
        return None

    add("import 100,000 clients from CSV", "≤ 10 s, ≤ 300 MB", imported)

    def usage(name):
        def pick(fig):
            item = next((i for i in fig.get("usage", []) if i["name"] == name), None)
            if item is None:
                return None
            if name == "record_usage":
                runs = ", ".join(f"{s:.1f}" for s in item["runs_s"])
                return (
                    f"{item['max_s']:.1f} s at {item['clients']:,} clients "
                    f"(days {runs} s; again {item['rerun_s']:.1f} s)",
                    item["max_s"] <= 10,
                )
            if name == "usage page":
                return (
                    f"{item['p50_ms']:.1f} / {item['p95_ms']:.1f} ms, {item['queries']} q "
                    f"({item['customers']:,} customers)",
                    item["p50_ms"] <= 50,
                )
            return (
                f"{item['median_s']:.2f} s ({item['customers']:,} customers)",
                item["max_s"] <= 2,
            )

        return pick

    add("record_usage, one day", "≤ 10 s at 100,000 clients", usage("record_usage"))
    add("usage page, a month", "p50 ≤ 50 ms at 1,000 customers", usage("usage page"))
    add("export_usage, a month", "≤ 2 s at 1,000 customers", usage("export_usage"))

    def broker(name):
        def pick(fig):
            item = next((i for i in fig.get("broker", []) if i.get("broker") == name), None)
            if item is None:
                return None
            if "skipped" in item:
                return f"skipped: {item['skipped']}", None
            sent = item["deliveries"].get("sent", 0)
            ok = sent == item["emails"] and item["recipients_reached"] == item["emails"]
            killed = item.get("killed_after")
            return (
                f"{sent:,} of {item['emails']:,} sent in {item['all_done_in_s']:.1f} s "
                f"({item['emails_per_s']} emails/s"
                + (f", a worker killed after {killed}" if killed is not None else "")
                + f", {item['recipients_twice']} twice); queueing one "
                f"p50 {item['queue_p50_ms']:.1f} ms, p99 {item['queue_p99_ms']:.1f} ms",
                ok,
            )

        return pick

    for name, label in (("rabbitmq", "RabbitMQ"), ("redis", "Redis")):
        add(
            f"welcome emails through 2 Celery workers on {label}, one killed",
            "every email sent (at least once)",
            broker(name),
        )
    if total_s is not None:
        out.append(
            {
                "what": "whole suite (`make bench`)",
                "target": "≤ 15 min",
                "sqlite": f"{total_s / 60:.1f} min (both databases)",
                "ok_sqlite": total_s <= 15 * 60,
            }
        )
    return out


def mark(ok) -> str:
    return "" if ok is None else ("ok" if ok else "**MISS**")


def table(rows_: list[dict], vendors: list[str]) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    head = "| what | target | " + "".join(f"{names[v]} | | " for v in vendors).rstrip()
    lines = [head, "|" + "---|" * (2 + 2 * len(vendors))]
    for row in rows_:
        cells = [row["what"], row["target"]]
        for vendor in vendors:
            cells += [row.get(vendor, "–"), mark(row.get(f"ok_{vendor}"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shapes_table(figs: dict) -> str:
    lines = [
        "| database | gunicorn workers | status req/s | p50 / p99 ms "
        "| backups req/s | p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for vendor, fig in figs.items():
        for row in fig.get("agent", {}).get("shapes", []):
            cls, workers, threads = row["shape"]
            shape = f"{workers} × {cls}" + (f", {threads} threads" if cls == "gthread" else "")
            s, b = row["status"], row["backups"]
            lines.append(
                f"| {vendor} | {shape} | {s['req_per_s']:,.0f} "
                f"| {s['p50_ms']:.1f} / {s['p99_ms']:.1f} "
                f"| {b['req_per_s']:,.0f} | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} |"
            )
    return "\n".join(lines)


def broker_table(figs: dict) -> str:
    """bench/broker_bench.py's figures, one row per database and broker."""
    lines = [
        "| database | broker | emails | sent | sent twice | worker killed after "
        "| all sent in | emails/s | queueing p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for vendor, fig in figs.items():
        for item in fig.get("broker", []):
            if "skipped" in item:
                lines.append(f"| {vendor} | {item['broker']} | skipped: {item['skipped']} |")
                continue
            killed = item.get("killed_after")
            lines.append(
                f"| {vendor} | {item['broker']} | {item['emails']:,} "
                f"| {item['deliveries'].get('sent', 0):,} | {item['recipients_twice']} "
                f"| {'–' if killed is None else killed} | {item['all_done_in_s']:.1f} s "
                f"| {item['emails_per_s']} "
                f"| {item['queue_p50_ms']:.1f} / {item['queue_p99_ms']:.1f} |"
            )
    return "\n".join(lines)


def token_clients(figs: dict) -> str:
    counts = [fig["agent"].get("token_count") for fig in figs.values() if "agent" in fig]
    counts = [count for count in counts if count]
    if not counts:
        return "?"
    low, high = min(counts), max(counts)
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def write_markdown(figs: dict, info: dict, total_s: float, loads: list[str]) -> str:
    vendors = [v for v in ("sqlite", "postgresql") if v in figs]
    body = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); the notes below the tables are kept by hand "
        "in bench/notes.md and copied in.",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {info['cores']} cores, {info['cpu']}, {info['memory_gb']} GB memory, "
        f"{info['os']}. "
        "The load generator (wrk) runs on the same machine as the server and the database, "
        "so it takes part of the two cores.",
        f"- Load average (1, 5, 15 min) at the start and the end: {loads[0]}; {loads[-1]}",
        f"- Python {info['python']}, Django {info['django']}, SQLite {info['sqlite']}, "
        + (f"PostgreSQL {info['postgresql']}, " if "postgresql" in info else "PostgreSQL not run, ")
        + f"gunicorn {info['gunicorn']}, psycopg2 {info['psycopg2']}, {info['wrk']}",
        "- Data: " + "; ".join(f"{v}: {figs[v]['seed_output']}" for v in vendors),
        f"- Suite time: {total_s / 60:.1f} min",
        "",
        "## Figures against the targets",
        "",
        "Console pages: server time in process (django.test.Client, signed in as the big "
        "reseller's admin, warm), median / p95 of 40 requests, and SQL queries per request. "
        "Agent API: gunicorn as production runs it (securecloud/gunicorn_conf.py: 4 sync workers; "
        "other worker shapes in the second table) "
        f"on 127.0.0.1, wrk with {WRK_CONNECTIONS} connections over {WRK_THREADS} threads "
        f"({CONNECT_CONNECTIONS} for connects), Bearer tokens of the {token_clients(figs)} "
        "clients that the connect run reached (consecutive ones of the load's SecureCloud IDs, "
        "which are spread over the whole tree). "
        "SQLite agent figures are reported beside the PostgreSQL ones, not judged.",
        "",
        table(rows(figs, total_s), vendors),
        "",
        "## gunicorn worker shapes tried",
        "",
        shapes_table(figs),
        "",
    ]
    if any("broker" in fig for fig in figs.values()):
        body += [
            "## Tasks on Celery",
            "",
            "bench/broker_bench.py: a customer per email, two Celery workers (solo pool, "
            "file email backend), the welcome emails queued as the console queues them "
            "(delivery row, audit event, publish), one worker killed with SIGKILL once a "
            "third are sent. Delivery is at least once: a worker killed "
            'between sending and recording sends that email again ("sent twice").',
            "",
            broker_table(figs),
            "",
        ]
    cluster = cluster_section()
    if cluster:
        body += [cluster, ""]
    notes = BENCH / "notes.md"
    if notes.exists():
        body += [notes.read_text().strip(), ""]
    return "\n".join(body)


def cluster_section() -> str:
    """The section that bench/cluster.py wrote into BENCHMARKS.md, if any, as it is."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else ""
    start, end = text.find(CLUSTER_SECTION_START), text.find(CLUSTER_SECTION_END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(CLUSTER_SECTION_END)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter load runs")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument(
        "--skip-broker", action="store_true", help="no Celery broker run (bench/broker_bench.py)"
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from bench/out/figures.json"
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=90, help="wait up to N s for a load average below 1"
    )
    args = parser.parse_args()
    if args.report_only:
        saved = json.loads((OUT / "figures.json").read_text())
        figs, total, loads = saved["figures"], saved["seconds"], saved["loads"]
        return report(figs, total, loads, args)
    if not shutil.which("wrk") and not args.skip_http:
        raise SystemExit("wrk is needed for the HTTP load (apt-get install wrk), or --skip-http")
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.wait_quiet
    while float(open("/proc/loadavg").read().split()[0]) >= 1.0 and time.monotonic() < deadline:
        time.sleep(5)
    loads = [" ".join(open("/proc/loadavg").read().split()[:3])]
    log(f"load average {loads[0]}")
    env = base_env()
    log("collectstatic")
    manage(
        {**env, "SQLITE_PATH": str(OUT / "collectstatic.sqlite3")},
        "collectstatic",
        "--noinput",
        "-v0",
    )
    figs = {}
    figs["sqlite"] = run_database(
        {**env, "SQLITE_PATH": str(OUT / "bench.sqlite3")}, "sqlite", args
    )
    if os.environ.get("DATABASE_URL") and not args.sqlite_only:
        figs["postgresql"] = run_database(
            {**env, "DATABASE_URL": bench_pg_url(os.environ["DATABASE_URL"])}, "postgresql", args
        )
    loads.append(" ".join(open("/proc/loadavg").read().split()[:3]))
    total = time.perf_counter() - started
    (OUT / "figures.json").write_text(
        json.dumps({"figures": figs, "seconds": total, "loads": loads}, indent=1)
    )
    return report(figs, total, loads, args)


def report(figs: dict, total: float, loads: list[str], args) -> int:
    info = machine()
    text = write_markdown(figs, info, total, loads)
    if not args.no_write:
        (ROOT / "BENCHMARKS.md").write_text(text)
    vendors = [v for v in ("sqlite", "postgresql") if v in figs]
    print()
    print(table(rows(figs, total), vendors))
    print()
    print(shapes_table(figs))
    if any("broker" in fig for fig in figs.values()):
        print()
        print(broker_table(figs))
    print(f"\nLoad average at start / end: {loads[0]} / {loads[-1]}; suite {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
