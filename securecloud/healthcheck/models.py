"""What /healthz writes to find out whether the database still takes writes."""

from django.db import models


class Heartbeat(models.Model):
    """One row, updated (and committed) by every health check.

    A database can answer reads while refusing every write: a full disk, a server that
    went read-only (a failed-over standby). A write that is rolled back would not show
    it on PostgreSQL, which only flushes its write-ahead log at commit; a committed
    update must reach the disk.
    """

    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"health checked at {self.checked_at:%Y-%m-%d %H:%M:%S}"
