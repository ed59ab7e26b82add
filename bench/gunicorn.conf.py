"""gunicorn configuration of the benchmark, the production shape for a 2-core machine
(see BENCHMARKS.md): sync workers, two per core. gthread workers measured slower here
(threads of one process contend for the GIL on these short, CPU-bound requests); with
sync workers a connect holds one worker for its password hash (~150 ms), so keep
more workers than cores.

    .venv/bin/gunicorn securecloud.wsgi -c bench/gunicorn.conf.py

The benchmark tries other shapes through BENCH_WORKER_CLASS / BENCH_WORKERS /
BENCH_THREADS; GUNICORN_BIND sets the address.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync")
workers = int(os.environ.get("BENCH_WORKERS", "4"))
threads = int(os.environ.get("BENCH_THREADS", "1"))
# Keep-alive lets agents (and load balancers) reuse connections.
keepalive = 5
timeout = 30
graceful_timeout = 10
# No per-request access log line: the proxy in front logs requests.
accesslog = None
errorlog = "-"
loglevel = "warning"
