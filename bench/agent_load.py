"""Load generator for the agent API: drives a running server and prints req/s, p50, p99.

    python bench/agent_load.py --server http://127.0.0.1:8765 --key REGISTRATION_KEY \\
        --endpoint backups --clients 200 --processes 2 --threads 8 --duration 10

First it connects --clients agents (creating them under the customer whose
registration key is given, which must have auto-authorization on; later runs reuse
them through their password), then N processes x M threads send requests for
--duration seconds, each over its own HTTP connection (reopened when the server
closes it, as gunicorn's sync workers do). Standard library only.
"""

import argparse
import http.client
import json
import multiprocessing
import random
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta

API = "/api/v1/agent"


class Connection:
    def __init__(self, server: str):
        url = urllib.parse.urlsplit(server)
        self.host, self.port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
        self.https = url.scheme == "https"
        self.conn = None

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple:
        for attempt in range(2):
            if self.conn is None:
                cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                self.conn = cls(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def connect_body(securecloud_id: str, password: str, key: str | None) -> bytes:
    body = {"securecloud_id": securecloud_id, "password": password, "agent_version": "bench"}
    if key:
        body["registration_key"] = key
    return json.dumps(body).encode()


def backup_body() -> bytes:
    finished = datetime.now(UTC)
    return json.dumps(
        {
            # A short backup: the clients were added moments ago by this load's connects,
            # and a backup cannot start before its client existed (5 minutes' clock skew).
            "started_at": (finished - timedelta(minutes=2)).isoformat(),
            "finished_at": finished.isoformat(),
            "status": random.choice(["success", "success", "success", "warning", "failed"]),
            "used_bytes": random.randrange(10**6, 10**9),
            "files": random.randrange(100, 10000),
        }
    ).encode()


def setup_agents(args) -> list[dict]:
    """Connect every bench agent once; returns [{id, token}]."""
    conn = Connection(args.server)
    agents = []
    for n in range(args.clients):
        securecloud_id = f"{args.id_prefix}-{n}@bench.example"
        headers = {"Content-Type": "application/json"}
        status, data = conn.request(
            "POST", f"{API}/connect", connect_body(securecloud_id, args.password, args.key), headers
        )
        if status not in (200, 201):
            sys.exit(f"setup: connect {securecloud_id} -> HTTP {status} {data[:200]!r}")
        agents.append({"id": securecloud_id, "token": json.loads(data)["token"]})
    return agents


def worker(args_dict: dict, agents: list[dict], seed: int) -> tuple[list[float], Counter]:
    args = argparse.Namespace(**args_dict)
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration

    def run(thread_seed: int) -> None:
        rng = random.Random(thread_seed)
        conn = Connection(args.server)
        mine, codes = [], Counter()
        while time.monotonic() < deadline:
            agent = rng.choice(agents)
            if args.endpoint == "connect":
                method, path = "POST", f"{API}/connect"
                body = connect_body(agent["id"], args.password, None)
                headers = {"Content-Type": "application/json"}
            else:
                headers = {"Authorization": f"Bearer {agent['token']}"}
                if args.endpoint == "status":
                    method, path, body = "GET", f"{API}/status", None
                else:
                    method, path, body = "POST", f"{API}/backups", backup_body()
                    headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                status, _ = conn.request(method, path, body, headers)
            except (OSError, http.client.HTTPException):
                status = 0
            mine.append(time.perf_counter() - started)
            codes[status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=run, args=(seed * 1000 + n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--endpoint", choices=["status", "backups", "connect"], default="status")
    parser.add_argument("--key", help="registration key of an auto-authorizing customer")
    parser.add_argument("--clients", type=int, default=50, help="bench agents to use")
    parser.add_argument("--id-prefix", default="bench")
    parser.add_argument("--password", default="bench-password-1")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)

    agents = setup_agents(args)
    args_dict = vars(args)
    started = time.monotonic()
    with multiprocessing.Pool(args.processes) as pool:
        results = pool.starmap(worker, [(args_dict, agents, n) for n in range(args.processes)])
    elapsed = time.monotonic() - started

    latencies = sorted(x for lat, _ in results for x in lat)
    statuses: Counter = Counter()
    for _, codes in results:
        statuses.update(codes)
    total = len(latencies)
    summary = {
        "endpoint": args.endpoint,
        "requests": total,
        "seconds": round(elapsed, 2),
        "req_per_s": round(total / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "concurrency": args.processes * args.threads,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['endpoint']}: {summary['req_per_s']} req/s over {summary['seconds']} s "
            f"({total} requests, {summary['concurrency']} concurrent), "
            f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
            f"statuses {summary['statuses']}"
        )
    ok = {"status": {200}, "backups": {201}, "connect": {200}}[args.endpoint]
    return 0 if set(statuses) <= ok else 1


if __name__ == "__main__":
    sys.exit(main())
