"""Bulk import and export of the organisation tree (sub-resellers and customers), and
what every import shares: collecting errors by line, the run's summary.

Every import runs in three steps: parse and check every row (collecting all errors as
``line N, column: message``), plan what changes, then, only if there were no errors,
write everything in one transaction through the bulk services (hierarchy.bulk_services,
clients.bulk_services), which apply the same rules as the one-object services.
``--reseller`` bounds what a file can touch: names are looked up inside that reseller's
subtree only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from mptt.exceptions import InvalidMove

from hierarchy import audit, bulk_services, services
from hierarchy.csvfiles import BadFile, CSVRows, Utf8Lines, progress, too_wide, write_csv
from hierarchy.models import Node
from hierarchy.validators import (
    clean_reseller_name,
    format_usage_space,
    parse_bool,
    parse_usage_space,
)

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


# --------------------------------------------------------------------------- the tree


def subtree_resellers(top: Node) -> dict[str, Node]:
    """The resellers of `top`'s subtree (itself included) by lower-cased name."""
    return {
        node.name.lower(): node
        for node in Node.objects.within(top)
        .resellers()
        .only("id", "name", "parent_id", "tree_id", "lft", "rght", "level")
    }


# --------------------------------------------------------------------------- resellers


def import_resellers(
    top: Node,
    stream: TextIO | Utf8Lines,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    acting_user,
    origin: str,
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
            name = clean_reseller_name(get_name(row))
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
                parent = nodes[parent_key]
                if action == "create":
                    nodes[name.lower()] = services.create_reseller(
                        parent, name=name, acting_user=acting_user, origin=origin
                    )
                else:
                    services.move_reseller(
                        nodes[name.lower()], parent, acting_user=acting_user, origin=origin
                    )
            audit.record_import("resellers", top, summary, acting_user=acting_user, origin=origin)
    except InvalidMove as exc:
        raise BadFile(f"Cannot move a reseller there: {exc}") from None
    except (IntegrityError, ValidationError):
        raise BadFile(CHANGED_DURING_IMPORT) from None
    return summary


# --------------------------------------------------------------------------- customers

_CUSTOMER_FIELDS = services.CUSTOMER_SETTINGS
_FIELD_TO_COLUMN = {"usage_space_bytes": "usage_space"}


def import_customers(
    top: Node,
    stream: TextIO | Utf8Lines,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    acting_user,
    origin: str,
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
        for c in Node.objects.within(top)
        .customers()
        .values("pk", "code", "parent_id", *_CUSTOMER_FIELDS)
    }
    errors: list[tuple[int, str, str]] = []
    seen: dict[tuple[int, str], int] = {}
    creates: dict[int, list[dict]] = {}  # parent pk -> cleaned settings
    updates: list[bulk_services.CustomerUpdate] = []
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
        # An update starts from the stored settings; a new customer from the defaults
        # of clean_customer_fields, as one made in the console.
        base = {f: current[f] for f in _CUSTOMER_FIELDS} if current and update else {}
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
            change = bulk_services.CustomerUpdate(
                pk=current["pk"],
                code=current["code"],
                name=current["name"],
                parent_id=current["parent_id"],
                before={f: current[f] for f in _CUSTOMER_FIELDS},
                after=cleaned,
            )
            if change.changes:
                updates.append(change)
                summary.updated += 1
            else:
                summary.unchanged += 1
        else:
            creates.setdefault(parent.pk, []).append(cleaned)
            summary.created += 1
    if errors:
        raise ImportFailed(errors)
    if dry_run:
        return summary
    try:
        with transaction.atomic():
            bulk_services.create_customers(
                top.tree_id, creates, acting_user=acting_user, origin=origin
            )
            bulk_services.update_customers(updates, acting_user=acting_user, origin=origin)
            audit.record_import("customers", top, summary, acting_user=acting_user, origin=origin)
    except IntegrityError:
        raise BadFile(CHANGED_DURING_IMPORT) from None
    return summary


# --------------------------------------------------------------------------- export


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
    reseller_count = write_csv(out_dir / "resellers.csv", RESELLER_COLUMNS, resellers)
    customer_count = write_csv(
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
