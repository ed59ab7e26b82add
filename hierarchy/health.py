"""Backup health of a reseller's subtree: clients whose last backup failed, clients with
no successful backup in 24 hours, customers over their usage space. The console's
summary, its filtered lists and their definitions live here."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Client, silent_since_q
from hierarchy.models import HealthSnapshot, Node

STALE_AFTER = timedelta(hours=24)
# The summary may be this old: counting it reads every client of the subtree.
HEALTH_MAX_AGE = timedelta(minutes=1)


def backup_health(reseller: Node) -> dict:
    """The subtree's backup-health counts, from a snapshot at most HEALTH_MAX_AGE old
    (one query), or counted afresh and stored for every server process to share."""
    now = timezone.now()
    snapshot = list(
        HealthSnapshot.objects.filter(
            reseller=reseller, computed_at__gte=now - HEALTH_MAX_AGE
        ).values("failed", "stale", "over", "computed_at")[:1]
    )
    if snapshot:
        return {**snapshot[0], "as_of": snapshot[0]["computed_at"]}
    counts = count_backup_health(reseller, now)
    if not HealthSnapshot.objects.filter(reseller=reseller).update(computed_at=now, **counts):
        try:
            with transaction.atomic():
                HealthSnapshot.objects.create(reseller=reseller, computed_at=now, **counts)
        except IntegrityError:
            pass  # another process stored one at the same moment: either will do
    return {**counts, "as_of": now}


def count_backup_health(reseller: Node, now) -> dict:
    """Counts over the whole subtree, in one query (it reads every client of it)."""
    clients = Client.objects.within(reseller).order_by().values("customer__tree_id")
    failed = clients.filter(last_backup_status=Client.BackupStatus.FAILED)
    stale = clients.filter(stale_clients_q(now))
    over = (
        Node.objects.within(reseller)
        .customers()
        .filter(over_quota_q())
        .order_by()
        .values("tree_id")
    )

    def count(queryset):
        return Coalesce(
            Subquery(queryset.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
            Value(0),
        )

    return (
        Node.objects.filter(pk=reseller.pk)
        .annotate(failed=count(failed), stale=count(stale), over=count(over))
        .values("failed", "stale", "over")
        .get()
    )


def stale_clients_q(now) -> Q:
    """No successful backup in the last 24 hours."""
    return silent_since_q(now - STALE_AFTER)


def over_quota_q() -> Q:
    return Q(usage_space_bytes__isnull=False, used_bytes__gt=F("usage_space_bytes"))
