"""gunicorn's configuration in production (and in the benchmark, which runs it as is).

    .venv/bin/gunicorn securecloud.wsgi -c python:securecloud.gunicorn_conf

Sync workers, two per core (GUNICORN_WORKERS, default 4: the 2-core figures in
BENCHMARKS.md). gthread workers measured slower here (threads of one process contend for
the GIL on these short, CPU-bound requests). A connect holds its worker for a password
hash (~110 ms), so keep more workers than cores. Sync workers do not keep connections
alive: put a proxy in front (TLS, keep-alive, slow clients, the access log).
GUNICORN_BIND sets the address; GUNICORN_WORKER_CLASS and GUNICORN_THREADS let the
benchmark try other shapes.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
keepalive = 5  # used by the threaded workers only
timeout = 30
graceful_timeout = 10
# No per-request access log line: the proxy in front logs requests.
accesslog = None
errorlog = "-"
loglevel = "warning"
