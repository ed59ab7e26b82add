"""What the usage page, the CSV export, the charts and the admin API read: plain typed
functions over the recorded tables, each bounded to a node's subtree (the caller has
the node from an access helper, so another tenant's usage is out of reach).

Monthly figures per customer (GB = 10^9 bytes, 3 decimals, rounded half up):
- avg_gb: the sum of the customer's daily storage over the month, divided by the days
  of the month; for the month in progress by the days from the 1st through the last
  recorded day (a day before the customer's first record counts as 0);
- peak_gb: its largest daily storage;
- paid_clients: clients Paid on at least one recorded day of the month; trial_clients:
  Trial on at least one and never Paid; client_days: (client, recorded day) pairs;
- amount: avg_gb × the price per GB-month + paid_clients × the price per paid client,
  at the prices of the customer's own reseller (2 decimals), or none without prices.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db.models import Max, OuterRef, Subquery, Sum

from hierarchy.models import Node
from securecloud.usage import days as calendar_days
from securecloud.usage.days import add_months, days_in_month, month_of
from securecloud.usage.models import CustomerDay, CustomerMonth, Price, RecordedDay

GB = Decimal(10**9)
THOUSANDTH = Decimal("0.001")
CENT = Decimal("0.01")


def to_gb(byte_count: int | Decimal, divisor: int = 1) -> Decimal:
    """Bytes (or byte-days over `divisor` days) as GB with 3 decimals; 0 without days."""
    if divisor <= 0:
        return Decimal("0.000")
    return (Decimal(byte_count) / divisor / GB).quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


def last_recorded_day(month: date) -> date | None:
    """The month's last recorded day, if any."""
    end = month + timedelta(days=days_in_month(month))
    found: date | None = RecordedDay.objects.filter(day__gte=month, day__lt=end).aggregate(
        last=Max("day")
    )["last"]
    return found


def month_divisor(month: date) -> int:
    """The days a month's storage is averaged over: all of them for a past month, the
    1st through the last recorded day for the month in progress, none for a later one."""
    current = month_of(calendar_days.today())
    if month < current:
        return days_in_month(month)
    if month > current:
        return 0
    last = last_recorded_day(month)
    return last.day if last is not None else 0


@dataclass(frozen=True)
class Prices:
    per_gb_month: Decimal
    per_paid_client: Decimal
    currency: str

    def amount(self, avg_gb: Decimal, paid_clients: int) -> Decimal:
        total = self.per_gb_month * avg_gb + self.per_paid_client * paid_clients
        return total.quantize(CENT, rounding=ROUND_HALF_UP)


def prices_of(reseller: Node) -> Prices | None:
    """A reseller's own prices, or None when it has set none."""
    price = Price.objects.filter(reseller=reseller).first()
    if price is None:
        return None
    return Prices(price.per_gb_month, price.per_paid_client, price.currency)


@dataclass(frozen=True)
class UsageRow:
    """One customer's month: a row of the page, the CSV and the API."""

    month: date
    reseller: str
    reseller_code: UUID
    customer: str
    customer_code: UUID
    paid_clients: int
    trial_clients: int
    client_days: int
    avg_gb: Decimal
    peak_gb: Decimal
    amount: Decimal | None
    currency: str


@dataclass
class Totals:
    paid_clients: int = 0
    trial_clients: int = 0
    client_days: int = 0
    avg_gb: Decimal = Decimal("0.000")
    # currency → amount (sub-resellers may bill in other currencies)
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def add(self, row: UsageRow) -> None:
        self.paid_clients += row.paid_clients
        self.trial_clients += row.trial_clients
        self.client_days += row.client_days
        self.avg_gb += row.avg_gb
        if row.amount is not None:
            self.amounts[row.currency] = self.amounts.get(row.currency, Decimal("0.00")) + (
                row.amount
            )

    @property
    def amount_list(self) -> list[tuple[str, Decimal]]:
        return sorted(self.amounts.items())


@dataclass
class UsageGroup:
    """The customers of one reseller (the page's group, with its subtotal)."""

    reseller: str
    reseller_code: UUID
    depth: int
    rows: list[UsageRow] = field(default_factory=list)
    subtotal: Totals = field(default_factory=Totals)


@dataclass
class MonthlyUsage:
    month: date
    divisor: int
    in_progress: bool
    last_recorded: date | None
    groups: list[UsageGroup]
    total: Totals

    def rows(self) -> Iterator[UsageRow]:
        for group in self.groups:
            yield from group.rows


def monthly_usage(reseller: Node, month: date) -> MonthlyUsage:
    """Every customer of `reseller`'s subtree with usage in `month` (the 1st of it),
    grouped by its reseller in tree order, with subtotals and totals."""
    divisor = month_divisor(month)
    current = month_of(calendar_days.today())
    records = (
        CustomerMonth.objects.within(reseller)
        .filter(month=month)
        .order_by("customer__parent__lft", "customer__name", "customer_id")
        .values_list(
            "customer__name",
            "customer__code",
            "customer__parent_id",
            "customer__parent__name",
            "customer__parent__code",
            "customer__parent__level",
            "byte_days",
            "peak_bytes",
            "paid_clients",
            "trial_clients",
            "client_days",
        )
    )
    groups: dict[int, UsageGroup] = {}
    rows = list(records)
    prices = {
        price.reseller_id: Prices(price.per_gb_month, price.per_paid_client, price.currency)
        for price in Price.objects.filter(reseller_id__in={row[2] for row in rows})
    }
    total = Totals()
    base_level = reseller.level
    for (
        name, code, parent_id, parent_name, parent_code, parent_level,
        byte_days, peak, paid, trial, client_days,
    ) in rows:  # fmt: skip
        avg_gb = to_gb(byte_days, divisor)
        price = prices.get(parent_id)
        row = UsageRow(
            month=month,
            reseller=parent_name,
            reseller_code=parent_code,
            customer=name,
            customer_code=code,
            paid_clients=paid,
            trial_clients=trial,
            client_days=client_days,
            avg_gb=avg_gb,
            peak_gb=to_gb(peak),
            amount=price.amount(avg_gb, paid) if price is not None else None,
            currency=price.currency if price is not None else "",
        )
        group = groups.get(parent_id)
        if group is None:
            group = groups[parent_id] = UsageGroup(
                parent_name, parent_code, depth=parent_level - base_level
            )
        group.rows.append(row)
        group.subtotal.add(row)
        total.add(row)
    return MonthlyUsage(
        month=month,
        divisor=divisor,
        in_progress=month == current,
        last_recorded=last_recorded_day(month) if month == current else None,
        groups=list(groups.values()),
        total=total,
    )


@dataclass(frozen=True)
class DayStorage:
    day: date
    used_bytes: int | None  # None: the day was not recorded


def customer_storage_days(customer: Node, days: int = 90) -> list[DayStorage]:
    """The customer's storage on each of the last `days` days (up to yesterday), in one
    query: the recorded days, each with the customer's total (0 on a recorded day
    without its row: it had no clients)."""
    last = calendar_days.today() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    own = CustomerDay.objects.filter(customer=customer, day=OuterRef("day")).values("used_bytes")
    recorded: dict[date, int] = {
        day: used or 0
        for day, used in RecordedDay.objects.filter(day__gte=first, day__lte=last)
        .annotate(used=Subquery(own[:1]))
        .values_list("day", "used")
    }
    return [
        DayStorage(day, recorded.get(day))
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


@dataclass(frozen=True)
class MonthTotals:
    month: date
    avg_gb: Decimal
    paid_clients: int


def reseller_months(reseller: Node, months: int = 12) -> list[MonthTotals]:
    """The subtree's average storage and paid clients in each of the last `months`
    months, the month in progress last."""
    current = month_of(calendar_days.today())
    first = add_months(current, -(months - 1))
    sums = {
        month: (byte_days or 0, paid or 0, last_day or 0)
        for month, byte_days, paid, last_day in CustomerMonth.objects.within(reseller)
        .filter(month__gte=first, month__lte=current)
        .values("month")
        .annotate(byte_days=Sum("byte_days"), paid=Sum("paid_clients"), last_day=Max("last_day"))
        .values_list("month", "byte_days", "paid", "last_day")
    }
    result = []
    for index in range(months):
        month = add_months(first, index)
        byte_days, paid, last_day = sums.get(month, (0, 0, 0))
        divisor = last_day if month == current else days_in_month(month)
        result.append(MonthTotals(month, to_gb(byte_days, divisor), int(paid)))
    return result
