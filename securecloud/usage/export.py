"""The usage CSV: the same columns, in this order, from the page and from export_usage."""

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from hierarchy.csvfiles import guard_cell
from securecloud.usage.figures import MonthlyUsage, UsageRow

COLUMNS = (
    "month",
    "reseller",
    "customer",
    "customer_id",
    "paid_clients",
    "trial_clients",
    "client_days",
    "avg_gb",
    "peak_gb",
    "amount",
    "currency",
)


def csv_values(row: UsageRow) -> list[object]:
    return [
        f"{row.month:%Y-%m}",
        row.reseller,
        row.customer,
        row.customer_code,
        row.paid_clients,
        row.trial_clients,
        row.client_days,
        f"{row.avg_gb:.3f}",
        f"{row.peak_gb:.3f}",
        "" if row.amount is None else f"{row.amount:.2f}",
        row.currency,
    ]


def write_usage_csv(usage: MonthlyUsage, handle: TextIO) -> int:
    """Write the month's rows (formula-guarded) to `handle`; returns the row count."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in usage.rows():
        writer.writerow([guard_cell(value) for value in csv_values(row)])
        count += 1
    return count


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[UsageRow]) -> Iterator[str]:
    """The CSV as lines, header first (for a streamed download)."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([guard_cell(value) for value in csv_values(row)])
