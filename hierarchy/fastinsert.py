"""Writing many rows at once with the fewest round trips: COPY on PostgreSQL,
executemany on SQLite, bulk_create elsewhere. Nothing here validates: the bulk services
that call it have applied the rules to every value."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

T = TypeVar("T")


def fast_insert(
    model: type[models.Model],
    field_names: list[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    constants: dict[str, Any] | None = None,
    batch_size: int = 10_000,
) -> int:
    """Insert many rows of `model` with the fewest round trips; returns the count.

    `rows` give Python values for `field_names`, `constants` one value for every row of
    other fields; every other concrete field takes its default (auto_now fields: now).
    PostgreSQL: COPY; SQLite: executemany; others: bulk_create. Nothing here validates:
    callers have checked every value.
    """
    fixed = constants or {}
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    given: list[Any] = [meta.get_field(name) for name in field_names]
    now = timezone.now()
    others: list[tuple[Any, Any]] = []
    per_row_defaults: list[Any] = []
    for fld in meta.concrete_fields:
        if fld.name in field_names or fld.primary_key:
            continue
        if fld.name in fixed:
            others.append((fld, fixed[fld.name]))
        elif getattr(fld, "auto_now", False) or getattr(fld, "auto_now_add", False):
            others.append((fld, now))
        elif fld.has_default() and callable(fld.default):
            per_row_defaults.append(fld)
        else:
            others.append((fld, fld.get_default()))
    columns: list[str] = [
        fld.column for fld in given + per_row_defaults + [fld for fld, _ in others]
    ]

    if connection.vendor not in ("postgresql", "sqlite"):
        count = 0
        for batch in _batched(rows, batch_size):
            objs = []
            for row in batch:
                kwargs = {fld.attname: v for fld, v in zip(given, row, strict=True)}
                kwargs.update({fld.attname: value for fld, value in others})
                objs.append(model(**kwargs))
            model._default_manager.bulk_create(objs, batch_size=1000)
            count += len(objs)
        return count

    if connection.vendor == "postgresql":
        converters = [_copy_converter(fld) for fld in given + per_row_defaults]
        constant = "\t".join(_copy_converter(fld)(value) for fld, value in others)
        table = connection.ops.quote_name(meta.db_table)
        sql = (
            f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN"
        )
        count = 0
        with connection.cursor() as cursor:
            for batch in _batched(rows, batch_size):
                buffer = io.StringIO()
                write = buffer.write
                for row in batch:
                    values = [convert(v) for convert, v in zip(converters, row, strict=False)]
                    values.extend(
                        converters[len(given) + i](fld.get_default())
                        for i, fld in enumerate(per_row_defaults)
                    )
                    if constant:
                        values.append(constant)
                    write("\t".join(values))
                    write("\n")
                buffer.seek(0)
                cursor.cursor.copy_expert(sql, buffer)
                count += len(batch)
        return count

    to_db = [_sqlite_converter(fld, connection) for fld in given + per_row_defaults]
    fixed_values = tuple(fld.get_db_prep_save(value, connection) for fld, value in others)
    table = connection.ops.quote_name(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    count = 0
    identity = [convert is None for convert in to_db]
    with connection.cursor() as cursor:
        for batch in _batched(rows, batch_size):
            params = []
            for row in batch:
                values = [
                    v if plain else convert(v)  # type: ignore[misc]  # plain: convert is None
                    for plain, convert, v in zip(identity, to_db, row, strict=False)
                ]
                for i, fld in enumerate(per_row_defaults):
                    convert = to_db[len(given) + i]
                    value = fld.get_default()
                    values.append(value if convert is None else convert(value))
                params.append((*values, *fixed_values))
            cursor.executemany(sql, params)
            count += len(batch)
    return count


def _batched(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


_PLAIN_TYPES = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # includes BigIntegerField, PositiveIntegerField
    models.ForeignKey,
)


def _sqlite_converter(fld: Any, connection: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """None when the value goes in as is, else a function giving what Django would store."""
    if isinstance(fld, _PLAIN_TYPES) and not isinstance(fld, models.BooleanField):
        return None
    if (
        isinstance(fld, models.DateTimeField)
        and settings.USE_TZ
        and connection.timezone_name == "UTC"
    ):
        # Django stores str() of the naive UTC value; get_db_prep_save costs ~20 µs.
        # Bulk rows repeat timestamps (now, a customer's trial end), hence the cache.
        cache: dict[datetime, str] = {}

        def convert(value: datetime | None) -> str | None:
            if value is None:
                return None
            text = cache.get(value)
            if text is None:
                if len(cache) > 50_000:
                    cache.clear()
                utc = value if value.tzinfo is UTC else value.astimezone(UTC)
                text = cache[value] = str(utc.replace(tzinfo=None))
            return text

        return convert
    if isinstance(fld, models.BooleanField):
        return lambda value: None if value is None else int(value)
    if isinstance(fld, models.JSONField):
        return json.dumps
    if isinstance(fld, models.UUIDField):
        return lambda value: None if value is None else value.hex
    return lambda value: fld.get_db_prep_save(value, connection)


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_converter(fld: Any) -> Callable[[Any], str]:
    """A value in PostgreSQL COPY text format."""
    if isinstance(fld, models.UUIDField):
        return lambda value: "\\N" if value is None else str(value)
    if isinstance(fld, models.JSONField):
        return lambda value: _copy_escape(json.dumps(value))

    def convert(value: Any) -> str:
        if value is None:
            return "\\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        if isinstance(value, str):
            return _copy_escape(value)
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, dict | list):
            return _copy_escape(json.dumps(value))
        if hasattr(value, "isoformat"):
            return str(value.isoformat())
        return _copy_escape(str(value))

    return convert
