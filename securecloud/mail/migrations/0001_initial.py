"""The email delivery ledger and the health snapshot, moved here from the hierarchy app.

Their tables already exist (created by hierarchy 0004 and 0006, under the names
`hierarchy_emaildelivery` and `hierarchy_healthsnapshot`, which the models keep): this
migration only tells Django's state that the models now live here. It changes nothing in
the database; hierarchy 0009 then drops them from the hierarchy app's state.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("hierarchy", "0008_ratelimithit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="EmailDelivery",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("kind", models.CharField(choices=[("welcome", "Welcome email"), ("report_daily", "Daily backup report"), ("report_weekly", "Weekly backup report"), ("summary_daily", "Daily reseller summary"), ("summary_weekly", "Weekly reseller summary")], max_length=20)),
                        ("period_key", models.CharField(blank=True, max_length=10)),
                        ("recipient", models.EmailField(max_length=254)),
                        ("subject", models.CharField(blank=True, max_length=255)),
                        ("status", models.CharField(choices=[("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")], default="queued", max_length=10)),
                        ("error", models.TextField(blank=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("customer", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="email_deliveries", to="hierarchy.node")),
                        ("requested_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("reseller", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="summary_deliveries", to="hierarchy.node")),
                    ],
                    options={
                        "db_table": "hierarchy_emaildelivery",
                        "verbose_name_plural": "email deliveries",
                        "indexes": [
                            models.Index(fields=["customer", "kind", "created_at"], name="email_customer_kind_idx"),
                            models.Index(fields=["status", "updated_at"], name="email_status_updated_idx"),
                        ],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(models.Q(("customer__isnull", False), ("kind__in", ["welcome", "report_daily", "report_weekly"]), ("reseller__isnull", True)), models.Q(("customer__isnull", True), ("kind__in", ["summary_daily", "summary_weekly"]), ("reseller__isnull", False)), _connector="OR"), name="email_delivery_target", violation_error_message="Customer emails need a customer; summaries a reseller."),
                            models.UniqueConstraint(models.F("customer"), models.F("kind"), models.F("period_key"), condition=models.Q(("kind__in", ["report_daily", "report_weekly"])), name="unique_report_per_period"),
                            models.UniqueConstraint(models.F("reseller"), models.F("kind"), models.F("period_key"), models.F("recipient"), condition=models.Q(("kind__in", ["summary_daily", "summary_weekly"])), name="unique_summary_per_period"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="HealthSnapshot",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("computed_at", models.DateTimeField()),
                        ("failed", models.PositiveIntegerField()),
                        ("stale", models.PositiveIntegerField()),
                        ("over", models.PositiveIntegerField()),
                        ("reseller", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="hierarchy.node")),
                    ],
                    options={
                        "db_table": "hierarchy_healthsnapshot",
                    },
                ),
            ],
        ),
    ]
