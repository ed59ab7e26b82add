"""The admin API's own table: the first answer to each idempotent POST."""

from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A POST sent with an `Idempotency-Key`, and the answer it got: a repeat within
    IDEMPOTENCY_WINDOW gets the same answer, without running again. `key_digest` is the
    digest of the API key that sent it (the same as `ApiKey.digest`), so keys never see
    each other's requests; `fingerprint` is the digest of the method, path and body, so
    reusing an Idempotency-Key for a different request is refused."""

    key_digest = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key_digest", "idempotency_key"], name="idempotent_key_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["key_digest", "created_at"], name="idempotent_key_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"
