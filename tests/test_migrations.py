"""An existing database keeps its data when models move between apps.

EmailDelivery and HealthSnapshot moved from the hierarchy app to mail, RateLimitHit to
accounts. A database that had applied hierarchy's migrations up to 0008 (the models
still in hierarchy) upgrades without losing a row, and the new models read them.
"""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from securecloud.accounts.models import RateLimitHit
from securecloud.mail.models import EmailDelivery, HealthSnapshot

BEFORE_THE_MOVE = ("hierarchy", "0008_ratelimithit")
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _rows_written_before_the_move(apps):
    node = apps.get_model("hierarchy", "Node")
    reseller = node.objects.create(
        kind="reseller", name="Alpha Backup", tree_id=1, lft=1, rght=4, level=0
    )
    customer = node.objects.create(
        kind="customer",
        name="Acme",
        parent=reseller,
        contact_email="it@acme.example",
        tree_id=1,
        lft=2,
        rght=3,
        level=1,
    )
    delivery = apps.get_model("hierarchy", "EmailDelivery").objects.create(
        customer=customer,
        kind="report_daily",
        period_key="2026-11-29",
        recipient="it@acme.example",
        subject="Daily backup report",
        status="sent",
        attempts=1,
        sent_at=AT,
    )
    apps.get_model("hierarchy", "HealthSnapshot").objects.create(
        reseller=reseller, computed_at=AT, failed=2, stale=1, over=0
    )
    apps.get_model("hierarchy", "RateLimitHit").objects.create(
        key="reset-ip:198.51.100.7", created_at=AT
    )
    return reseller, customer, delivery


@pytest.mark.django_db(transaction=True)
def test_an_existing_database_keeps_its_emails_health_and_reset_counts_through_the_move():
    view_delivery = Permission.objects.get(
        content_type__app_label="mail", codename="view_emaildelivery"
    )
    executor = _migrate([BEFORE_THE_MOVE, ("mail", None), ("accounts", None)])
    # As in a database that never had the new apps: their content types under hierarchy.
    ContentType.objects.filter(app_label__in=["mail", "accounts"]).update(app_label="hierarchy")
    ContentType.objects.clear_cache()
    old_apps = executor.loader.project_state(BEFORE_THE_MOVE).apps
    reseller, customer, delivery = _rows_written_before_the_move(old_apps)

    _migrate(executor.loader.graph.leaf_nodes())

    moved = EmailDelivery.objects.get(code=delivery.code)
    assert (moved.customer.name, moved.kind, moved.period_key, moved.status) == (
        "Acme",
        EmailDelivery.Kind.REPORT_DAILY,
        "2026-11-29",
        EmailDelivery.Status.SENT,
    )
    assert moved.sent_at == AT
    assert list(EmailDelivery.objects.filter(customer_id=customer.pk)) == [moved]
    snapshot = HealthSnapshot.objects.get(reseller_id=reseller.pk)
    assert (snapshot.computed_at, snapshot.failed, snapshot.stale, snapshot.over) == (AT, 2, 1, 0)
    assert RateLimitHit.objects.get().key == "reset-ip:198.51.100.7"
    # Nothing is left to migrate, and the permissions granted on the moved models are
    # the same rows as before, under the new app labels.
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert not ContentType.objects.filter(app_label="hierarchy", model="emaildelivery").exists()
    assert Permission.objects.get(pk=view_delivery.pk).content_type.app_label == "mail"


@pytest.mark.django_db(transaction=True)
def test_a_report_sent_before_the_move_is_still_not_sent_twice_after_it():
    executor = _migrate([BEFORE_THE_MOVE, ("mail", None), ("accounts", None)])
    _, customer, _ = _rows_written_before_the_move(
        executor.loader.project_state(BEFORE_THE_MOVE).apps
    )
    _migrate(executor.loader.graph.leaf_nodes())

    with pytest.raises(IntegrityError), transaction.atomic():
        EmailDelivery.objects.create(
            customer_id=customer.pk,
            kind=EmailDelivery.Kind.REPORT_DAILY,
            period_key="2026-11-29",
            recipient="it@acme.example",
        )
