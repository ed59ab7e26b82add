"""Usage metering: what each client stored, day by day, and what that makes per month.

Four tables, two kept for a bounded window and two for years (docs/architecture.md says
why):

- `ClientDay`: one row per client per recorded day (the daily record: customer, storage
  at the end of the day, plan and status), kept for `USAGE_CLIENT_DAYS_KEPT` days;
- `ClientMonth`: one row per client, customer and month, with the month's recorded days,
  Paid days and Trial days as bit sets (bit 0 is the 1st), so that recording a day again
  sets the same bits: it is what the month's distinct client counts come from without
  reading a month of daily rows; kept as long as the daily rows;
- `CustomerDay`: a customer's totals per day (storage, clients), kept for years: the
  charts and the monthly average and peak come from it;
- `CustomerMonth`: a customer's figures per month (the sum and peak of its daily storage,
  paid and trial clients, client-days), kept for years: the usage page and the export
  read one row per customer.

Rows name the client by its primary key and code, not by a foreign key: a deleted
client's days stay. They name their customer by a foreign key, for tenancy (a customer
can only be deleted once it has no clients; its usage goes with it).
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from hierarchy.models import Node, TenantQuerySetMixin, subtree_q


class CustomerScopedQuerySet(TenantQuerySetMixin, models.QuerySet):  # type: ignore[type-arg]
    def within(self, node: Node) -> "CustomerScopedQuerySet":
        """Rows of the customers in `node`'s subtree."""
        return self.filter(subtree_q(node, "customer__"))


class RecordedDay(models.Model):
    """A day that record_usage has recorded (its last run for that day)."""

    day = models.DateField(unique=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    clients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} ({self.clients} clients)"


class ClientDay(models.Model):
    day = models.DateField()
    client_id = models.BigIntegerField()
    client_code = models.UUIDField()
    # No database constraint on the two per-client tables: 100,000 rows a night come from
    # the clients' own customers, and PostgreSQL's deferred check of each at commit cost
    # seconds. Deleting a customer still deletes its rows (Django's CASCADE).
    customer = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    used_bytes = models.BigIntegerField()
    plan = models.CharField(max_length=20)
    status = models.CharField(max_length=20)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        # Few indexes: 100,000 rows go in every night (the customer's foreign key has
        # its own, for tenancy and for deleting a customer).
        constraints = [
            models.UniqueConstraint(fields=["day", "client_id"], name="usage_client_day_unique")
        ]

    def __str__(self) -> str:
        return f"client {self.client_id} on {self.day}: {self.used_bytes} bytes"


class ClientMonth(models.Model):
    month = models.DateField(help_text="The first day of the month.")
    client_id = models.BigIntegerField()
    customer = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    # Bit n: the client was recorded (Paid, Trial) under this customer on day n + 1.
    days = models.IntegerField(default=0)
    paid_days = models.IntegerField(default=0)
    trial_days = models.IntegerField(default=0)
    day_count = models.PositiveSmallIntegerField(default=0)  # the bits set in `days`

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "client_id", "customer"], name="usage_client_month_unique"
            )
        ]

    def __str__(self) -> str:
        return f"client {self.client_id} in {self.month:%Y-%m}"


class CustomerDay(models.Model):
    day = models.DateField()
    customer = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    used_bytes = models.BigIntegerField(default=0)
    clients = models.PositiveIntegerField(default=0)
    paid_clients = models.PositiveIntegerField(default=0)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="usage_customer_day_unique")
        ]
        indexes = [models.Index(fields=["day"], name="usage_customerday_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} on {self.day}: {self.used_bytes} bytes"


class CustomerMonth(models.Model):
    month = models.DateField(help_text="The first day of the month.")
    customer = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    # The sum of the customer's daily storage over the month's recorded days, and its peak.
    byte_days = models.BigIntegerField(default=0)
    peak_bytes = models.BigIntegerField(default=0)
    paid_clients = models.PositiveIntegerField(default=0)
    trial_clients = models.PositiveIntegerField(default=0)
    client_days = models.PositiveIntegerField(default=0)
    # The month's last recorded day (day of the month) when the row was written: what a
    # month in progress is averaged over, read with the row.
    last_day = models.PositiveSmallIntegerField(default=0)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"], name="usage_customer_month_unique"
            )
        ]
        indexes = [models.Index(fields=["month"], name="usage_customermonth_month_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.month:%Y-%m}"


class Price(models.Model):
    """A reseller's prices for its own customers (a sub-reseller sets its own)."""

    reseller = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="usage_price")
    per_gb_month = models.DecimalField(
        "Price per GB-month",
        max_digits=12,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    per_paid_client = models.DecimalField(
        "Price per paid client per month",
        max_digits=12,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    currency = models.CharField(max_length=3)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"prices of {self.reseller_id} in {self.currency}"
