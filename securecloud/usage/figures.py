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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import CharField, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Cast

from hierarchy.models import Node
from securecloud.usage import days as calendar_days
from securecloud.usage.days import add_months, days_in_month, month_of
from securecloud.usage.models import CustomerDay, CustomerMonth, Price, RecordedDay

CENT = Decimal("0.01")


def thousandths(byte_count: int, divisor: int = 1) -> int:
    """Bytes (or byte-days over `divisor` days) in thousandths of a GB, rounded half up,
    in integers (exact, and cheaper than Decimal at 1,000 rows); 0 without days."""
    if divisor <= 0:
        return 0
    unit = divisor * 10**6
    return (2 * int(byte_count) + unit) // (2 * unit)


def to_gb(byte_count: int, divisor: int = 1) -> Decimal:
    """Bytes (or byte-days over `divisor` days) as GB with 3 decimals; 0 without days."""
    return Decimal(thousandths(byte_count, divisor)).scaleb(-3)


def uuid_text(value: str) -> str:
    """A UUID column read as text (SQLite stores 32 hex digits, PostgreSQL gives the
    canonical form) in the canonical form, without building a UUID object."""
    value = value.lower()
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value


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

    def amount_cents(self, avg_thousandths: int, paid_clients: int) -> int:
        """amount() in integer cents (prices have at most 4 decimals: exact)."""
        gb_price = int(self.per_gb_month.scaleb(4))
        client_price = int(self.per_paid_client.scaleb(4))
        tenth_micros = gb_price * avg_thousandths + client_price * paid_clients * 1000
        return (2 * tenth_micros + 10**5) // (2 * 10**5)


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
    reseller_code: str  # a UUID's canonical text
    customer: str
    customer_code: str
    paid_clients: int
    trial_clients: int
    client_days: int
    avg_gb: Decimal
    peak_gb: Decimal
    amount: Decimal | None
    currency: str


@dataclass
class Totals:
    """Sums of rows as shown (their rounded figures), kept in integers."""

    paid_clients: int = 0
    trial_clients: int = 0
    client_days: int = 0
    avg_thousandths: int = 0
    # currency → cents (sub-resellers may bill in other currencies)
    cents: dict[str, int] = field(default_factory=dict)

    def add(
        self, paid: int, trial: int, client_days: int, avg: int, currency: str, cents: int | None
    ) -> None:
        self.paid_clients += paid
        self.trial_clients += trial
        self.client_days += client_days
        self.avg_thousandths += avg
        if cents is not None:
            self.cents[currency] = self.cents.get(currency, 0) + cents

    @property
    def avg_gb(self) -> Decimal:
        return Decimal(self.avg_thousandths).scaleb(-3)

    @property
    def amounts(self) -> dict[str, Decimal]:
        return {currency: Decimal(cents).scaleb(-2) for currency, cents in self.cents.items()}

    @property
    def amount_list(self) -> list[tuple[str, Decimal]]:
        return sorted(self.amounts.items())


@dataclass
class UsageGroup:
    """The customers of one reseller (the page's group, with its subtotal): `size` of
    them, the first at position `start` of the whole month's rows. `rows` holds those
    built (all of them, or those of the window asked for)."""

    reseller: str
    reseller_code: str
    depth: int
    start: int
    size: int = 0
    rows: list[UsageRow] = field(default_factory=list)
    subtotal: Totals = field(default_factory=Totals)

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass
class MonthlyUsage:
    month: date
    divisor: int
    in_progress: bool
    last_recorded: date | None
    groups: list[UsageGroup]
    total: Totals
    row_count: int  # every customer of the month (rows holds the window's)

    def rows(self) -> Iterator[UsageRow]:
        for group in self.groups:
            yield from group.rows


Window = Callable[[int], range]


def monthly_usage(reseller: Node, month: date, *, window: Window | None = None) -> MonthlyUsage:
    """Every customer of `reseller`'s subtree with usage in `month` (the 1st of it),
    grouped by its reseller in tree order, with subtotals and totals.

    `window`, given the number of rows, names the positions whose rows to build (a
    page of them); the totals and subtotals always cover every row, in integers (a
    page of 50 of 1,000 customers builds 50 rows, not 1,000)."""
    divisor = month_divisor(month)
    current = month_of(calendar_days.today())
    records = (
        CustomerMonth.objects.within(reseller)
        .filter(month=month)
        .order_by("customer__parent__lft", "customer__name", "customer_id")
        # The codes as text: building 2,000 UUID objects cost more than the query.
        .annotate(
            code_text=Cast("customer__code", CharField()),
            parent_code_text=Cast("customer__parent__code", CharField()),
        )
        .values_list(
            "customer__name",
            "code_text",
            "customer__parent_id",
            "customer__parent__name",
            "parent_code_text",
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
    wanted = window(len(rows)) if window is not None else range(len(rows))
    prices = {
        price.reseller_id: Prices(price.per_gb_month, price.per_paid_client, price.currency)
        for price in Price.objects.filter(reseller_id__in={row[2] for row in rows})
    }
    total = Totals()
    base_level = reseller.level
    for position, (
        name, code, parent_id, parent_name, parent_code, parent_level,
        byte_days, peak, paid, trial, client_days,
    ) in enumerate(rows):  # fmt: skip
        avg = thousandths(byte_days, divisor)
        price = prices.get(parent_id)
        cents = price.amount_cents(avg, paid) if price is not None else None
        group = groups.get(parent_id)
        if group is None:
            group = groups[parent_id] = UsageGroup(
                parent_name, uuid_text(parent_code), parent_level - base_level, position
            )
        currency = price.currency if price is not None else ""
        group.size += 1
        group.subtotal.add(paid, trial, client_days, avg, currency, cents)
        total.add(paid, trial, client_days, avg, currency, cents)
        if position not in wanted:
            continue
        group.rows.append(
            UsageRow(
                month=month,
                reseller=parent_name,
                reseller_code=group.reseller_code,
                customer=name,
                customer_code=uuid_text(code),
                paid_clients=paid,
                trial_clients=trial,
                client_days=client_days,
                avg_gb=Decimal(avg).scaleb(-3),
                peak_gb=to_gb(peak),
                amount=None if cents is None else Decimal(cents).scaleb(-2),
                currency=currency,
            )
        )
    return MonthlyUsage(
        month=month,
        divisor=divisor,
        in_progress=month == current,
        last_recorded=last_recorded_day(month) if month == current else None,
        groups=list(groups.values()),
        total=total,
        row_count=len(rows),
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
