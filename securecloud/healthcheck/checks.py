from django.db import connection, transaction
from django.utils import timezone

from securecloud.healthcheck.models import Heartbeat

HEARTBEAT_ID = 1


def check_database() -> None:
    """Read, then commit a write; raises DatabaseError when either fails."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    now = timezone.now()
    with transaction.atomic():
        if not Heartbeat.objects.filter(pk=HEARTBEAT_ID).update(checked_at=now):
            Heartbeat.objects.create(pk=HEARTBEAT_ID, checked_at=now)
