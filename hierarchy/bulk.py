"""Bulk import and export of the organisation tree (sub-resellers and customers), and the
pieces every import shares: reading a CSV file, collecting errors by line, writing many
rows at once.

Every import runs in two steps: validate every row (collecting all errors as
``line N, column: message``), then, only if there were none, write everything in one
transaction. ``--reseller`` bounds what a file can touch: names are looked up inside that
reseller's subtree only.

Customers are tree nodes. django-mptt inserts one node at a time, shifting the lft/rght
of everything to its right each time, and its rebuild() rewrites every row; so an import
computes the new nodes' values itself: each parent's new customers become its last
children, every existing value to the right of an insertion point moves by twice the
number of nodes inserted before it (one UPDATE for the whole tree), and the new rows go in
with bulk_create.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from mptt.exceptions import InvalidMove

from hierarchy import audit, services
from hierarchy.models import (
    DEFAULT_TRIAL_DAYS,
    DEFAULT_USAGE_SPACE,
    Node,
    new_registration_key,
)
from hierarchy.validators import format_usage_space, parse_bool, parse_usage_space

RESELLER_COLUMNS = ("name", "parent")
CUSTOMER_COLUMNS = (
    "name",
    "contact_name",
    "contact_email",
    "usage_space",
    "auto_add_clients",
    "email_reports",
    "trial_days",
    "reseller",
)
CHANGED_DURING_IMPORT = (
    "The database changed while the file was being checked (another write got there "
    "first); nothing was written. Run the import again."
)


# --------------------------------------------------------------------------- errors


class BadFile(Exception):
    """The file as a whole cannot be read (one line, no traceback in the command)."""


class ImportFailed(Exception):
    """One or more rows are bad; nothing was written."""

    def __init__(self, errors: list[tuple[int, str, str]]):
        self.errors = sorted(errors, key=lambda e: e[0])
        super().__init__(f"{len(errors)} error(s)")

    def lines(self) -> list[str]:
        return [
            f"line {line}, {column}: {message}" if column else f"line {line}: {message}"
            for line, column, message in self.errors
        ]


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        prefix = "Dry run, nothing written: would have " if self.dry_run else ""
        if self.dry_run:
            return (
                f"{prefix}created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}."
            )
        return f"Created {self.created}, updated {self.updated}, unchanged {self.unchanged}."


def validation_messages(exc: ValidationError, rename: dict[str, str] | None = None):
    """(column, message) pairs of a ValidationError keyed by field (or not)."""
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        for key, messages in exc.message_dict.items():
            column = rename.get(key, key)
            for message in messages:
                yield ("" if column == "__all__" else column), message
    else:
        for message in exc.messages:
            yield "", message


# --------------------------------------------------------------------------- reading


class Utf8Lines:
    """The lines of a binary stream, decoded one at a time: a byte that is not UTF-8 is
    reported on its own line (a text stream decodes blocks ahead and cannot say where).
    A BOM on the first line is dropped."""

    def __init__(self, binary, label: str):
        self.binary = binary
        self.label = label
        self.line = 0

    def readline(self) -> str:
        raw = self.binary.readline()
        if not raw:
            return ""
        self.line += 1
        try:
            return raw.decode("utf-8-sig" if self.line == 1 else "utf-8")
        except UnicodeDecodeError:
            raise BadFile(f"{self.label}: line {self.line}: not UTF-8 text.") from None

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line


@contextmanager
def open_source(path: str) -> Iterator[TextIO]:
    """A text stream of a CSV file (UTF-8, with or without BOM), or standard input for '-'."""
    if path == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            yield Utf8Lines(buffer, "standard input")
        else:  # already text (a test's StringIO, a notebook)
            yield stdin
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise BadFile(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise BadFile(f"{path}: is a directory, not a CSV file.") from None
    except OSError as exc:
        raise BadFile(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    with handle:
        yield Utf8Lines(handle, path)


def _detect_delimiter(header_line: str) -> str:
    """Comma or semicolon, from the header row.

    The header holds only our column names, which contain neither character, so the
    one that occurs there is the delimiter; a file with a single column has neither
    and is read with commas. (A general sniffer looks at data rows, where commas and
    semicolons inside names and addresses make it guess wrong.)
    """
    return ";" if header_line.count(";") > header_line.count(",") else ","


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection:
# a client named "=HYPERLINK(...)" would become a link in whoever opens the export). The
# export writes such a value behind an apostrophe, which spreadsheets show as plain text,
# and the imports take that apostrophe off again, so the round trip stays identical. An
# apostrophe before anything else ("'t Hooft") is an ordinary character.
FORMULA_STARTS = ("=", "+", "-", "@")
_GUARDED_STARTS = (*FORMULA_STARTS, "'")


def guard_cell(value):
    """The export form of one cell: an apostrophe before a would-be formula."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS)
        or (value.startswith("'") and value[1:].startswith(_GUARDED_STARTS))
    ):
        return "'" + value
    return value


def unguard_cell(value: str) -> str:
    """The inverse of guard_cell, for imports."""
    if value.startswith("'") and value[1:].startswith(_GUARDED_STARTS):
        return value[1:]
    return value


class CSVRows:
    """Stream the rows of a CSV file with a header row as (line number, values).

    Line numbers count the header as line 1; a row with quoted newlines is reported at
    the line where it starts. The header is case-insensitive, columns come in any order,
    and unknown columns are refused by name.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        columns: Iterable[str],
        required: Iterable[str],
        label: str = "file",
    ):
        self.label = label
        self.allowed = tuple(columns)
        try:
            first = stream.readline()
        except UnicodeDecodeError:
            raise BadFile(f"{label}: not UTF-8 text (line 1).") from None
        except OSError as exc:
            raise BadFile(f"{label}: cannot be read ({exc}).") from None
        if first.startswith("\ufeff"):
            first = first[1:]
        if not first.strip():
            raise BadFile(f"{label}: empty file; expected a header row on line 1.")
        self.delimiter = _detect_delimiter(first)
        self._reader = csv.reader(
            itertools.chain([first], stream), delimiter=self.delimiter, strict=False
        )
        try:
            header = next(self._reader)
        except csv.Error as exc:
            raise BadFile(f"{label}: line 1: {exc}.") from None
        names = [name.strip().lower() for name in header]
        unknown = [name for name in names if name not in self.allowed]
        if unknown:
            shown = ", ".join(repr(name) for name in unknown)
            raise BadFile(
                f"{label}: line 1: unknown column{'s' if len(unknown) > 1 else ''} {shown}; "
                f"expected some of: {', '.join(self.allowed)}."
            )
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise BadFile(f"{label}: line 1: column {', '.join(repeated)} given twice.")
        missing = [name for name in required if name not in names]
        if missing:
            raise BadFile(
                f"{label}: line 1: missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}."
            )
        self.present = frozenset(names)
        self.index = {name: position for position, name in enumerate(names)}
        self.width = len(names)

    def getter(self, column: str, *, unguard: bool = True) -> Callable[[list[str]], str]:
        """A fast accessor for one column: stripped text, "" when absent or short, with
        the export's formula guard taken off (see unguard_cell) unless `unguard` is off."""
        position = self.index.get(column)
        if position is None:
            return lambda row: ""
        if not unguard:
            return lambda row: row[position].strip() if position < len(row) else ""
        return lambda row: unguard_cell(row[position].strip()) if position < len(row) else ""

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise BadFile(f"{self.label}: not UTF-8 text (near line {start}).") from None
            except csv.Error as exc:
                raise BadFile(f"{self.label}: line {start}: {exc}.") from None
            if not row or all(not value.strip() for value in row):
                continue  # blank lines are not rows
            yield start, row


def too_wide(rows: CSVRows, line: int, row: list[str]) -> tuple[int, str, str] | None:
    if len(row) > rows.width:
        return (line, "", f"{len(row)} values but the header has {rows.width} columns.")
    return None


def progress(iterable, *, enabled: bool, desc: str, total: int | None = None, unit="rows"):
    """tqdm on a terminal, the plain iterable otherwise."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, mininterval=0.5)


# --------------------------------------------------------------------------- writing


def fast_insert(model, field_names: list[str], rows: Iterable[tuple], *, batch_size=10_000):
    """Insert many rows of `model` with the fewest round trips; returns the count.

    `rows` give Python values for `field_names`; every other concrete field takes its
    default (auto_now fields: now). PostgreSQL: COPY; SQLite: executemany; others:
    bulk_create. Nothing here validates: callers have checked every value.
    """
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    given = [meta.get_field(name) for name in field_names]
    now = timezone.now()
    others, per_row_defaults = [], []
    for fld in meta.concrete_fields:
        if fld.name in field_names or fld.primary_key:
            continue
        if getattr(fld, "auto_now", False) or getattr(fld, "auto_now_add", False):
            others.append((fld, now))
        elif fld.has_default() and callable(fld.default):
            per_row_defaults.append(fld)
        else:
            others.append((fld, fld.get_default()))
    columns = [fld.column for fld in given + per_row_defaults + [fld for fld, _ in others]]

    if connection.vendor not in ("postgresql", "sqlite"):
        count = 0
        for batch in _batched(rows, batch_size):
            objs = []
            for row in batch:
                values = dict(zip(field_names, row, strict=True))
                values.update({fld.attname: value for fld, value in others})
                objs.append(model(**values))
            model.objects.bulk_create(objs, batch_size=1000)
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

    converters = [_sqlite_converter(fld, connection) for fld in given + per_row_defaults]
    constants = tuple(fld.get_db_prep_save(value, connection) for fld, value in others)
    table = connection.ops.quote_name(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    count = 0
    identity = [convert is None for convert in converters]
    with connection.cursor() as cursor:
        for batch in _batched(rows, batch_size):
            params = []
            for row in batch:
                values = [
                    v if plain else convert(v)
                    for plain, convert, v in zip(identity, converters, row, strict=False)
                ]
                for i, fld in enumerate(per_row_defaults):
                    convert = converters[len(given) + i]
                    value = fld.get_default()
                    values.append(value if convert is None else convert(value))
                params.append((*values, *constants))
            cursor.executemany(sql, params)
            count += len(batch)
    return count


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


_PLAIN_TYPES = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # includes BigIntegerField, PositiveIntegerField
    models.ForeignKey,
)


def _sqlite_converter(fld, connection):
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
        cache: dict = {}

        def convert(value):
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
    if isinstance(fld, models.UUIDField):
        return lambda value: None if value is None else value.hex
    return lambda value: fld.get_db_prep_save(value, connection)


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_converter(fld) -> Callable[[object], str]:
    """A value in PostgreSQL COPY text format."""

    def convert(value):
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
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return _copy_escape(str(value))

    return convert


# --------------------------------------------------------------------------- the tree


def subtree_resellers(top: Node) -> dict[str, Node]:
    """The resellers of `top`'s subtree (itself included) by lower-cased name."""
    return {
        node.name.lower(): node
        for node in Node.objects.within(top)
        .resellers()
        .only("id", "name", "parent_id", "tree_id", "lft", "rght", "level")
    }


def append_leaves(tree_id: int, leaves_by_parent: dict[int, list[Node]]) -> None:
    """Insert new leaf nodes as the last children of their parents, in one tree.

    Must run inside the tree's lock (services.lock_tree). Reads the parents' current
    values, shifts every existing lft/rght to the right of an insertion point by twice
    the number of nodes inserted before it (one UPDATE), then bulk-creates the leaves
    with their computed tree values.
    """
    if not leaves_by_parent:
        return
    parents = {
        pk: (lft, rght, level)
        for pk, lft, rght, level in Node.objects.filter(
            pk__in=list(leaves_by_parent), tree_id=tree_id
        ).values_list("pk", "lft", "rght", "level")
    }
    if len(parents) != len(leaves_by_parent):
        raise IntegrityError("a parent of the new nodes has gone")
    # Insertion points in the order of the parents' rght values.
    points = sorted((parents[pk][1], pk) for pk in leaves_by_parent)
    before = 0  # nodes inserted before the current point
    cumulative = []  # (rght of the point, shift of values >= it)
    new_rows = []
    for rght, pk in points:
        _, _, level = parents[pk]
        start = rght + 2 * before
        for offset, leaf in enumerate(leaves_by_parent[pk]):
            leaf.parent_id = pk
            leaf.tree_id = tree_id
            leaf.level = level + 1
            leaf.lft = start + 2 * offset
            leaf.rght = leaf.lft + 1
            new_rows.append(leaf)
        before += len(leaves_by_parent[pk])
        cumulative.append((rght, 2 * before))

    def shifted(column: str):
        whens = [
            When(**{f"{column}__gte": rght}, then=Value(shift))
            for rght, shift in reversed(cumulative)
        ]
        return F(column) + Case(*whens, default=Value(0), output_field=models.IntegerField())

    Node.objects.filter(tree_id=tree_id, rght__gte=cumulative[0][0]).update(
        lft=shifted("lft"), rght=shifted("rght")
    )
    Node.objects.bulk_create(new_rows, batch_size=500)


# --------------------------------------------------------------------------- resellers


def import_resellers(
    top: Node,
    stream: TextIO,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    acting_user=None,
    origin: str = "",
) -> Summary:
    """Sub-resellers inside `top`'s subtree: columns name, parent (empty = under `top`).

    A parent may be defined earlier in the same file. With update, a sub-reseller that
    exists in the subtree under another parent is moved there.
    """
    rows = CSVRows(stream, columns=RESELLER_COLUMNS, required=("name",), label=label)
    get_name, get_parent = rows.getter("name"), rows.getter("parent")
    known = subtree_resellers(top)  # lower name -> node
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    plan: list[tuple[str, str, str]] = []  # (action, name, parent lower name)
    summary = Summary(dry_run=dry_run)
    for line, row in progress(rows, enabled=show_progress, desc="Checking"):
        if problem := too_wide(rows, line, row):
            errors.append(problem)
            continue
        try:
            name = services._clean_reseller_name(get_name(row))
        except ValidationError as exc:
            errors.extend((line, col, msg) for col, msg in validation_messages(exc))
            continue
        key = name.lower()
        parent_name = get_parent(row)
        parent_key = parent_name.lower() if parent_name else top.name.lower()
        if key in seen:
            errors.append((line, "name", f"{name} is also on line {seen[key]}."))
            continue
        seen[key] = line
        if parent_key == key:
            errors.append((line, "parent", "A reseller cannot be its own parent."))
            continue
        parent_known = parent_key in known or any(
            action == "create" and new.lower() == parent_key for action, new, _ in plan
        )
        if not parent_known:
            errors.append(
                (
                    line,
                    "parent",
                    f"No reseller named {parent_name} in {top.name}'s subtree "
                    "(nor earlier in this file).",
                )
            )
        existing = known.get(key)
        if existing is not None:
            if existing.pk == top.pk:
                errors.append((line, "name", f"{name} is the reseller you import into."))
            elif not update:
                errors.append((line, "name", f"{name} already exists (use --update to move it)."))
            elif parent_known:
                if existing.parent_id == known.get(parent_key, top).pk and parent_key in known:
                    summary.unchanged += 1
                else:
                    plan.append(("move", name, parent_key))
            continue
        if services.reseller_name_taken(name, parent=top):
            errors.append((line, "name", "A reseller with this name already exists."))
            continue
        if parent_known:
            plan.append(("create", name, parent_key))
    # A move under one of its own descendants would cut the subtree loose.
    for action, name, parent_key in plan:
        if action == "move" and parent_key in known:
            node, parent = known[name.lower()], known[parent_key]
            if node.lft <= parent.lft and parent.rght <= node.rght:
                errors.append(
                    (seen[name.lower()], "parent", f"{parent.name} is inside {name} itself.")
                )
    if errors:
        raise ImportFailed(errors)
    summary.created = sum(1 for action, *_ in plan if action == "create")
    summary.updated = sum(1 for action, *_ in plan if action == "move")
    if dry_run:
        return summary
    try:
        with transaction.atomic():
            services.lock_tree(top.tree_id)
            nodes = dict(known)
            for action, name, parent_key in plan:
                parent = Node.objects.get(pk=nodes[parent_key].pk)
                if action == "create":
                    nodes[name.lower()] = services.create_reseller(
                        parent, name=name, acting_user=acting_user, origin=origin
                    )
                else:
                    node = Node.objects.get(pk=nodes[name.lower()].pk)
                    node.move_to(parent, "last-child")
            audit.record_import("resellers", top, summary, acting_user=acting_user, origin=origin)
    except InvalidMove as exc:
        raise BadFile(f"Cannot move a reseller there: {exc}") from None
    except (IntegrityError, ValidationError):
        raise BadFile(CHANGED_DURING_IMPORT) from None
    return summary


# --------------------------------------------------------------------------- customers

_CUSTOMER_FIELDS = (
    "name",
    "contact_name",
    "contact_email",
    "usage_space_bytes",
    "auto_add_clients",
    "email_reports",
    "trial_days",
)
_FIELD_TO_COLUMN = {"usage_space_bytes": "usage_space"}


def import_customers(
    top: Node,
    stream: TextIO,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    acting_user=None,
    origin: str = "",
) -> Summary:
    """Customers inside `top`'s subtree (see CUSTOMER_COLUMNS); `reseller` places a
    customer under a sub-reseller (default: `top`)."""
    rows = CSVRows(
        stream, columns=CUSTOMER_COLUMNS, required=("name", "contact_email"), label=label
    )
    get = {column: rows.getter(column) for column in CUSTOMER_COLUMNS}
    resellers = subtree_resellers(top)
    existing = {
        (c["parent_id"], c["name"].lower()): c
        for c in Node.objects.within(top).customers().values("pk", "parent_id", *_CUSTOMER_FIELDS)
    }
    errors: list[tuple[int, str, str]] = []
    seen: dict[tuple[int, str], int] = {}
    creates: dict[int, list[Node]] = {}
    updates: list[tuple[int, dict]] = []
    summary = Summary(dry_run=dry_run)

    for line, row in progress(rows, enabled=show_progress, desc="Checking"):
        if problem := too_wide(rows, line, row):
            errors.append(problem)
            continue
        row_errors: list[tuple[str, str]] = []
        given: dict = {}  # the optional fields this row sets
        usage = get["usage_space"](row)
        if usage:
            try:
                given["usage_space_bytes"] = parse_usage_space(usage)
            except ValidationError as exc:
                row_errors.append(("usage_space", exc.messages[0]))
        for column in ("auto_add_clients", "email_reports"):
            text = get[column](row)
            if text:
                try:
                    given[column] = parse_bool(text)
                except ValidationError as exc:
                    row_errors.append((column, exc.messages[0]))
        days = get["trial_days"](row)
        if days:
            try:
                given["trial_days"] = int(days)
            except ValueError:
                row_errors.append(("trial_days", "Enter a whole number of days."))
        if "contact_name" in rows.present:
            given["contact_name"] = get["contact_name"](row)
        reseller_name = get["reseller"](row)
        parent = resellers.get(reseller_name.lower()) if reseller_name else top
        if parent is None:
            row_errors.append(
                ("reseller", f"No reseller named {reseller_name} in {top.name}'s subtree.")
            )
        name, email = get["name"](row), get["contact_email"](row)
        key = (parent.pk if parent else None, name.lower())
        current = existing.get(key) if parent else None
        base = (
            {f: current[f] for f in _CUSTOMER_FIELDS}
            if current and update
            else {
                "contact_name": "",
                "usage_space_bytes": DEFAULT_USAGE_SPACE,
                "auto_add_clients": False,
                "email_reports": False,
                "trial_days": DEFAULT_TRIAL_DAYS,
            }
        )
        values = {**base, **given, "name": name, "contact_email": email}
        try:
            cleaned = services.clean_customer_fields(**values)
        except ValidationError as exc:
            cleaned = None
            for column, message in validation_messages(exc, _FIELD_TO_COLUMN):
                if not any(column == c for c, _ in row_errors):
                    row_errors.append((column, message))
        if not row_errors and parent is not None:
            if key in seen:
                row_errors.append(
                    ("name", f"{name} under {parent.name} is also on line {seen[key]}.")
                )
            elif current and not update:
                row_errors.append(
                    (
                        "name",
                        f"{parent.name} already has a customer named {current['name']} "
                        "(use --update to change it).",
                    )
                )
            seen.setdefault(key, line)
        if row_errors:
            errors.extend((line, column, message) for column, message in row_errors)
            continue
        if current:
            changes = {f: v for f, v in cleaned.items() if current[f] != v}
            if changes:
                updates.append((current["pk"], changes))
                summary.updated += 1
            else:
                summary.unchanged += 1
        else:
            creates.setdefault(parent.pk, []).append(Node(kind=Node.Kind.CUSTOMER, **cleaned))
            summary.created += 1
    if errors:
        raise ImportFailed(errors)
    if dry_run:
        return summary
    now = timezone.now()
    for leaves in creates.values():
        for leaf in leaves:
            leaf.code = uuid.uuid4()
            leaf.registration_key = new_registration_key()
            leaf.used_bytes = 0
            leaf.created_at = leaf.updated_at = now
    try:
        with transaction.atomic():
            services.lock_tree(top.tree_id)
            append_leaves(top.tree_id, creates)
            for pk, changes in updates:
                Node.objects.filter(pk=pk).update(**changes, updated_at=now)
            audit.record_import("customers", top, summary, acting_user=acting_user, origin=origin)
    except IntegrityError:
        raise BadFile(CHANGED_DURING_IMPORT) from None
    return summary


# --------------------------------------------------------------------------- export


def _write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([guard_cell(value) for value in row])
            count += 1
    return count


def export_tree(top: Node, out_dir: Path) -> tuple[int, int]:
    """Write resellers.csv and customers.csv of `top`'s subtree; returns the counts.

    Resellers come in tree order (a parent before its children, so the file imports
    back as is); customers by reseller name then name.
    """
    nodes = list(
        Node.objects.within(top)
        .order_by("lft")
        .values("pk", "kind", "name", "parent_id", *_CUSTOMER_FIELDS[1:])
    )
    names = {n["pk"]: n["name"] for n in nodes if n["kind"] == Node.Kind.RESELLER}
    resellers = [
        (n["name"], "" if n["parent_id"] == top.pk else names[n["parent_id"]])
        for n in nodes
        if n["kind"] == Node.Kind.RESELLER and n["pk"] != top.pk
    ]
    customers = sorted(
        (n for n in nodes if n["kind"] == Node.Kind.CUSTOMER),
        key=lambda n: (names[n["parent_id"]].lower(), n["name"].lower(), n["name"]),
    )
    os.makedirs(out_dir, exist_ok=True)
    reseller_count = _write_csv(out_dir / "resellers.csv", RESELLER_COLUMNS, resellers)
    customer_count = _write_csv(
        out_dir / "customers.csv",
        CUSTOMER_COLUMNS,
        (
            (
                n["name"],
                n["contact_name"],
                n["contact_email"],
                format_usage_space(n["usage_space_bytes"]),
                "yes" if n["auto_add_clients"] else "no",
                "yes" if n["email_reports"] else "no",
                n["trial_days"],
                names[n["parent_id"]],
            )
            for n in customers
        ),
    )
    return reseller_count, customer_count


def find_reseller(name: str) -> Node | None:
    """A reseller by name (case-insensitive), for the commands' --reseller: the top-level
    reseller of that name, else the one sub-reseller of that name. None when there is
    none; CommandError when sub-resellers in several trees have it."""
    from django.core.management.base import CommandError

    resellers = Node.objects.resellers().filter(name__iexact=(name or "").strip())
    top = resellers.filter(parent=None).first()
    if top is not None:
        return top
    found = list(resellers.select_related("parent")[:2])
    if len(found) > 1:
        raise CommandError(
            f"Several sub-resellers are named {name!r}, under different resellers: give "
            "the top-level reseller's name."
        )
    return found[0] if found else None


# --------------------------------------------------------------------------- commands


class ImportCommand:
    """What import_resellers, import_customers and import_clients share (a mixin for
    BaseCommand): arguments, opening the file, printing errors and the summary."""

    what = "rows"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, comma or semicolon), or - for stdin")
        parser.add_argument(
            "--reseller", required=True, help="The reseller whose subtree the file fills"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check everything, write nothing"
        )
        parser.add_argument(
            "--update", action="store_true", help="Update existing rows instead of refusing them"
        )

    def run_import(self, options) -> None:
        from django.core.management.base import CommandError

        top = find_reseller(options["reseller"])
        if top is None:
            raise CommandError(f"No reseller named {options['reseller']!r}.")
        path = options["file"]
        label = "standard input" if path == "-" else path
        tty = hasattr(self.stderr, "isatty") and self.stderr.isatty()
        origin = f"command {self.__module__.rsplit('.', 1)[-1]}"
        started = time_now()
        try:
            with open_source(path) as stream:
                summary = self.do_import(
                    top,
                    stream,
                    update=options["update"],
                    dry_run=options["dry_run"],
                    label=label,
                    show_progress=tty,
                    origin=origin,
                )
        except BadFile as exc:
            raise CommandError(str(exc)) from None
        except ImportFailed as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(
                f"{len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''} in {label}; "
                "nothing was written."
            ) from None
        for note in summary.notes:
            self.stdout.write(note)
        elapsed = time_now() - started
        self.stdout.write(self.style.SUCCESS(f"{summary} ({self.what}, {elapsed:.1f} s)"))


def time_now() -> float:
    import time

    return time.perf_counter()
