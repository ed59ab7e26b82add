"""Settings of the benchmark runs: production settings (securecloud.settings, driven by
the same environment variables), with collectstatic writing under bench/out/ so that a
benchmark run never touches the project's own staticfiles/ folder."""

from securecloud.settings import *  # noqa: F403
from securecloud.settings import BASE_DIR

STATIC_ROOT = BASE_DIR / "bench" / "out" / "static"
# The benchmarks call the admin API faster than a script's rate limit allows.
ADMIN_API_RATE_LIMIT = "100000/min"
