"""gunicorn configuration of the benchmark, which is the one recommended for production
on a 2-core machine (see BENCHMARKS.md): gthread workers, one process per core plus
threads that overlap database waits and password hashing (argon2 releases the GIL).

    .venv/bin/gunicorn securecloud.wsgi -c bench/gunicorn.conf.py

The benchmark tries other shapes through BENCH_WORKER_CLASS / BENCH_WORKERS /
BENCH_THREADS; GUNICORN_BIND sets the address.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("BENCH_WORKER_CLASS", "gthread")
workers = int(os.environ.get("BENCH_WORKERS", "2"))
threads = int(os.environ.get("BENCH_THREADS", "4"))
# Keep-alive lets agents (and load balancers) reuse connections.
keepalive = 5
timeout = 30
graceful_timeout = 10
# No per-request access log line: the proxy in front logs requests.
accesslog = None
errorlog = "-"
loglevel = "warning"
