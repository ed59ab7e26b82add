"""Accounts' tables: the counted requests behind the password reset limits.

First created by the hierarchy app, the table keeps its name (`hierarchy_ratelimithit`):
moving the model here changed no data.
"""

from django.db import models
from django.utils import timezone


class RateLimitHit(models.Model):
    """One request that a rate limit counts (a password reset, per address asked for
    and per client address). The limit counts these rows, so every server process sees
    the same numbers; rows older than the window are pruned as new ones are written."""

    # "<limit>:<what is counted>", e.g. "reset-ip:198.51.100.7"
    key = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "hierarchy_ratelimithit"
        indexes = [
            models.Index(fields=["key", "created_at"], name="ratelimithit_key_created_idx"),
            models.Index(fields=["created_at"], name="ratelimithit_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} at {self.created_at:%H:%M:%S}"
