"""Days and months as usage counts them: in the server's TIME_ZONE."""

import calendar
import re
from datetime import date, datetime, time, timedelta

from django.utils import timezone

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
DAY_PATTERN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def today() -> date:
    """Today's date in TIME_ZONE."""
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def yesterday() -> date:
    """The last day that is over in TIME_ZONE: the one record_usage records by default."""
    return today() - timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in TIME_ZONE (23 or 25 hours apart
    on the days the clocks change)."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def month_of(day: date) -> date:
    """The first day of `day`'s month: how months are named in the tables."""
    return day.replace(day=1)


def days_in_month(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def last_day_of(month: date) -> date:
    return month.replace(day=days_in_month(month))


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    """ "YYYY-MM" → the month's first day; ValueError with a message for anything else."""
    match = MONTH_PATTERN.match((text or "").strip())
    if match is None:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11.")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11.")
    return date(year, month, 1)


def parse_day(text: str) -> date:
    """ "YYYY-MM-DD" → a date; ValueError with a message for anything else."""
    match = DAY_PATTERN.match((text or "").strip())
    message = f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30."
    if match is None:
        raise ValueError(message)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(message) from None
