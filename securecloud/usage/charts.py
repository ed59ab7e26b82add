"""The usage charts, drawn on the server as SVG: this module computes the geometry, the
templates (templates/usage/_*_chart.html) draw it with classes from static/css/usage.css
(no inline style: the Content-Security-Policy forbids it). Each chart comes with its data
as a table that can be shown, its text alternative."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hierarchy.models import Node
from securecloud.usage.figures import (
    DayStorage,
    MonthTotals,
    customer_storage_days,
    reseller_months,
    to_gb,
)

WIDTH = 720
HEIGHT = 220
LEFT = 64  # room for the value labels
RIGHT = 12
TOP = 12
BOTTOM = 28  # room for the date labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
NICE_STEPS = (1, 2, 2.5, 5, 10)


def nice_top(value: float, ticks: int = 4) -> float:
    """A round axis top at or above `value`, in `ticks` equal steps."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    while raw < magnitude:
        magnitude /= 10
    step = next(s * magnitude for s in NICE_STEPS if s * magnitude >= raw)
    return step * ticks


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    title: str
    unit: str
    key: str = "chart"  # the id prefix of its title and description
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: float = TOP + PLOT_HEIGHT
    right: float = LEFT + PLOT_WIDTH
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)


def _y_ticks(top_value: float, unit_format: str = "{:g}") -> list[Tick]:
    return [
        Tick(TOP + PLOT_HEIGHT * (1 - index / 4), unit_format.format(top_value * index / 4))
        for index in range(5)
    ]


@dataclass
class StorageChart(Chart):
    """A customer's storage over the last days, against its usage space."""

    segments: list[str] = field(default_factory=list)  # polyline points, one per run of days
    dots: list[tuple[float, float]] = field(default_factory=list)  # a lone recorded day
    limit_y: float | None = None
    limit_label: str = ""
    rows: list[tuple[date, Decimal | None]] = field(default_factory=list)
    has_data: bool = False


def storage_chart(customer: Node, days: int = 90) -> StorageChart:
    series: list[DayStorage] = customer_storage_days(customer, days)
    values = [point.used_bytes for point in series]
    known = [value for value in values if value is not None]
    limit = customer.usage_space_bytes
    top_bytes = max([*known, limit or 0, 0])
    top_gb = nice_top(top_bytes / 10**9 * 1.05)
    chart = StorageChart(title="Storage over the last 90 days", unit="GB")
    chart.y_ticks = _y_ticks(top_gb)
    step = PLOT_WIDTH / max(len(series) - 1, 1)

    def y_of(byte_count: int) -> float:
        return round(TOP + PLOT_HEIGHT * (1 - byte_count / 10**9 / top_gb), 1)

    run: list[str] = []
    for index, value in enumerate([*values, None]):
        if value is None:
            if len(run) == 1:
                x, y = run[0].split(",")
                chart.dots.append((float(x), float(y)))
            elif run:
                chart.segments.append(" ".join(run))
            run = []
            continue
        run.append(f"{round(LEFT + index * step, 1)},{y_of(value)}")
    if limit is not None:
        chart.limit_y = y_of(limit)
        chart.limit_label = f"Usage space {to_gb(limit).normalize():f} GB"
    for index, point in enumerate(series):
        if point.day.day == 1 or index == 0:
            chart.x_ticks.append(
                Tick(round(LEFT + index * step, 1), f"{point.day:%b} {point.day.day}")
            )
    chart.rows = [
        (point.day, None if point.used_bytes is None else to_gb(point.used_bytes))
        for point in series
    ]
    chart.has_data = bool(known)
    return chart


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass
class BarChart(Chart):
    bars: list[Bar] = field(default_factory=list)


def _bar_chart(
    key: str, title: str, unit: str, months: list[date], values: list[float]
) -> BarChart:
    top_value = nice_top(max([*values, 0]) * 1.05)
    chart = BarChart(title=title, unit=unit, key=key)
    chart.y_ticks = _y_ticks(top_value)
    slot = PLOT_WIDTH / max(len(values), 1)
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        height = round(PLOT_HEIGHT * value / top_value, 1)
        x = round(LEFT + index * slot + slot * 0.15, 1)
        chart.bars.append(
            Bar(x, round(TOP + PLOT_HEIGHT - height, 1), round(slot * 0.7, 1), height, f"{value:g}")
        )
        chart.x_ticks.append(Tick(round(LEFT + index * slot + slot / 2, 1), f"{month:%b}"))
    return chart


@dataclass
class ResellerFigures:
    months: list[MonthTotals]
    storage: BarChart
    paid: BarChart

    @property
    def charts(self) -> list[BarChart]:
        return [self.storage, self.paid]


def reseller_figures(reseller: Node, months: int = 12) -> ResellerFigures:
    """The subtree's average storage and paid clients over the last `months` months."""
    totals = reseller_months(reseller, months)
    labels = [total.month for total in totals]
    return ResellerFigures(
        months=totals,
        storage=_bar_chart(
            "storage-months",
            "Average storage per month",
            "GB",
            labels,
            [float(t.avg_gb) for t in totals],
        ),
        paid=_bar_chart(
            "paid-months", "Paid clients per month", "", labels, [t.paid_clients for t in totals]
        ),
    )
