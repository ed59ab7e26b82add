"""Bulk import and export of client accounts.

The import runs parse → plan → write: it streams the file once to check every row,
keeping a Row of each good one; plans creates and updates against the database (one IN
query per chunk of IDs); then hashes any clear-text passwords on every core and writes
everything in one transaction through clients.bulk_services, which applies the
one-object rules with the database's fastest bulk path (COPY on PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from clients.bulk_services import (
    ClientState,
    ClientUpdate,
    NewClient,
    create_clients,
    plan_trial_end,
    update_clients,
)
from clients.hashing import hash_passwords
from clients.models import Client, shown_status_of
from clients.services import ID_TAKEN, PASSWORD_REQUIRED, clean_new_client
from hierarchy import audit
from hierarchy.bulk import CHANGED_DURING_IMPORT, ImportFailed, Summary, validation_messages
from hierarchy.csvfiles import BadFile, CSVRows, Utf8Lines, progress, too_wide, write_csv
from hierarchy.models import Node

CLIENT_COLUMNS = (
    "securecloud_id",
    "customer",
    "name",
    "email",
    "password",
    "password_hash",
    "plan",
    "trial_ends_at",
    "status",
    "reseller",
)
# The width of Client.password.
MAX_PASSWORD_HASH_LENGTH = 256
CHUNK = 900  # IDs per IN query (under SQLite's old 999-variable limit)
_PLANS = {value: value for value in Client.Plan.values}
# "expired" is what an export shows for a trial past its end: on import it leaves the
# status open, as an empty cell does (the trial's end, in its own column, makes it show).
_STATUSES = {**{value: value for value in Client.Status.values}, Client.EXPIRED: ""}


@dataclass(slots=True)
class _Customer:
    """What validation needs of a customer (a stand-in accepted by clean_new_client)."""

    pk: int
    name: str
    parent_id: int
    auto_add_clients: bool
    trial_days: int
    is_customer: bool = True


# --------------------------------------------------------------------------- import


def _parse_when(text: str):
    """ISO 8601 date-time (naive = UTC) or date (midnight UTC); None if unreadable."""
    try:
        value = parse_datetime(text)
    except ValueError:
        return None
    if value is None:
        try:
            day = parse_date(text)
        except ValueError:
            return None
        if day is None:
            return None
        value = datetime(day.year, day.month, day.day)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


@dataclass(slots=True)
class Row:
    """One good row of the file, as parsed: the cleaned fields, and what the row leaves
    open (an empty plan or status keeps the current one, or takes the default)."""

    line: int
    securecloud_id: str
    customer_id: int
    name: str
    email: str
    secret: str  # a clear-text password, a password hash, or ""
    clear: bool  # secret is a clear-text password (to hash before writing)
    plan: str
    trial_ends_at: datetime | None
    status: str
    needs_password: bool  # a new client of this row must have a password


@dataclass
class Plan:
    """What an import writes: new clients, and changes to existing ones."""

    creates: list[Row]
    updates: list[tuple[Row, int, uuid.UUID, int, ClientState]]  # row, pk, code, bytes, before


def import_clients(
    top: Node,
    stream: TextIO | Utf8Lines,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    say=print,
    acting_user,
    origin: str,
) -> Summary:
    """Clients of customers inside `top`'s subtree (see CLIENT_COLUMNS): parse every row,
    plan the creates and updates against the database, then write them through
    clients.bulk_services."""
    customers = _Customers(top)
    rows, errors = _parse(top, stream, customers, label=label, show_progress=show_progress)
    summary = Summary(dry_run=dry_run)
    plan = _plan(rows, customers, update=update, errors=errors, summary=summary)
    if errors:
        raise ImportFailed(errors)
    summary.created = len(plan.creates)
    if dry_run:
        return summary
    _write(top, plan, customers, summary, say=say, show_progress=show_progress,
           acting_user=acting_user, origin=origin)  # fmt: skip
    return summary


class _Customers:
    """The customers of `top`'s subtree, by name and by pk, and its resellers' names."""

    def __init__(self, top: Node):
        self.resellers = {
            pk: name for pk, name in Node.objects.within(top).resellers().values_list("pk", "name")
        }
        self.reseller_keys = {name.lower() for name in self.resellers.values()}
        self.by_name: dict[str, list[_Customer]] = defaultdict(list)
        self.by_pk: dict[int, _Customer] = {}
        for pk, name, parent_id, auto_add, trial_days in (
            Node.objects.within(top)
            .customers()
            .values_list("pk", "name", "parent_id", "auto_add_clients", "trial_days")
        ):
            customer = _Customer(pk, name, parent_id, auto_add, trial_days)
            self.by_name[name.lower()].append(customer)
            self.by_pk[pk] = customer


def _parse(top, stream, customers: _Customers, *, label, show_progress):
    """The good rows of the file, and the errors of the bad ones (line, column, message)."""
    rows = CSVRows(
        stream, columns=CLIENT_COLUMNS, required=("securecloud_id", "customer"), label=label
    )
    # Clear-text passwords are never exported, so never guarded: taken as written.
    get = {column: rows.getter(column, unguard=column != "password") for column in CLIENT_COLUMNS}
    present = rows.present
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    good: list[Row] = []
    for line, row in progress(rows, enabled=show_progress, desc="Checking"):
        if problem := too_wide(rows, line, row):
            errors.append(problem)
            continue
        row_errors: list[tuple[str, str]] = []
        customer = _find_customer(
            top, customers, get["customer"](row), get["reseller"](row), row_errors
        )
        password, password_hash = get["password"](row), get["password_hash"](row)
        # The console's rules for a new client's fields; whether a password is required
        # depends on whether the row creates a client, known after the database check.
        sid = get["securecloud_id"](row)
        try:
            cleaned = clean_new_client(
                _ANY_CUSTOMER,
                securecloud_id=sid,
                password=password or None,
                name=get["name"](row),
                email=get["email"](row),
                check_taken=False,
            )
        except ValidationError as exc:
            cleaned = None
            row_errors.extend(validation_messages(exc))
        _check_hash(password, password_hash, row_errors)
        plan = get["plan"](row).lower()
        if plan and plan not in _PLANS:
            row_errors.append(("plan", "Enter trial or paid."))
        ends_text = get["trial_ends_at"](row)
        ends = None
        if ends_text:
            ends = _parse_when(ends_text)
            if ends is None:
                row_errors.append(
                    (
                        "trial_ends_at",
                        "Enter an ISO 8601 date or date-time, "
                        "such as 2026-05-31 or 2026-05-31T12:00:00+00:00.",
                    )
                )
            elif plan == Client.Plan.PAID:
                row_errors.append(("trial_ends_at", "A paid client has no trial end."))
        status = get["status"](row).lower()
        if status and status not in _STATUSES:
            row_errors.append(("status", "Enter pending, active, expired or disabled."))
        status = _STATUSES.get(status, status)
        if cleaned is not None:
            sid = cleaned["securecloud_id"]
            if sid in seen:
                row_errors.append(("securecloud_id", f"{sid} is also on line {seen[sid]}."))
            else:
                seen[sid] = line
        if row_errors or customer is None or cleaned is None:
            errors.extend((line, column, message) for column, message in row_errors)
            continue
        good.append(
            Row(
                line=line,
                securecloud_id=sid,
                customer_id=customer.pk,
                # An update keeps what the file has no column for (None: not given).
                name=cleaned["name"] if "name" in present else None,
                email=cleaned["email"] if "email" in present else None,
                secret=password or password_hash,
                clear=bool(password),
                plan=plan,
                trial_ends_at=ends,
                status=status,
                needs_password=(
                    not customer.auto_add_clients and not password and not password_hash
                ),
            )
        )
    return good, errors


def _find_customer(top, customers: _Customers, customer_name, reseller_name, row_errors):
    if not customer_name:
        row_errors.append(("customer", "Enter the customer's name."))
        return None
    if reseller_name and reseller_name.lower() not in customers.reseller_keys:
        row_errors.append(
            ("reseller", f"No reseller named {reseller_name} in {top.name}'s subtree.")
        )
        return None
    candidates = customers.by_name.get(customer_name.lower(), ())
    if reseller_name:
        wanted = reseller_name.lower()
        candidates = [c for c in candidates if customers.resellers[c.parent_id].lower() == wanted]
    if not candidates:
        where = f"under {reseller_name}" if reseller_name else f"in {top.name}'s subtree"
        row_errors.append(("customer", f"No customer named {customer_name} {where}."))
        return None
    if len(candidates) > 1:
        under = ", ".join(sorted(customers.resellers[c.parent_id] for c in candidates))
        row_errors.append(
            (
                "customer",
                f"{len(candidates)} customers are named {customer_name} "
                f"(under {under}): give the reseller column.",
            )
        )
        return None
    return candidates[0]


def _check_hash(password: str, password_hash: str, row_errors) -> None:
    if password and password_hash:
        row_errors.append(("password_hash", "Give either password or password_hash, not both."))
    elif password_hash and len(password_hash) > MAX_PASSWORD_HASH_LENGTH:
        row_errors.append(
            (
                "password_hash",
                f"A password hash has at most {MAX_PASSWORD_HASH_LENGTH} characters.",
            )
        )
    elif password_hash:
        try:
            identify_hasher(password_hash)
        except ValueError:
            row_errors.append(
                (
                    "password_hash",
                    "Not a password hash this server knows "
                    "(expected Django's algorithm$...$... form).",
                )
            )


def _plan(rows: list[Row], customers: _Customers, *, update, errors, summary) -> Plan:
    """Sort the good rows into creates and updates, one IN query per chunk of IDs; rows
    that would take another reseller's ID, or change a client without --update, are
    errors."""
    plan = Plan(creates=[], updates=[])
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        found = {
            values[1]: values
            for values in Client.objects.filter(
                securecloud_id__in=[row.securecloud_id for row in chunk]
            ).values_list(
                "pk",
                "securecloud_id",
                "code",
                "used_bytes",
                "customer_id",
                "name",
                "email",
                "password",
                "plan",
                "trial_ends_at",
                "status",
            )
        }
        for row in chunk:
            current = found.get(row.securecloud_id)
            if current is None:
                if row.needs_password:
                    errors.append((row.line, "password", PASSWORD_REQUIRED))
                else:
                    plan.creates.append(row)
                continue
            pk, _, code, used, *stored = current
            ours = stored[0] in customers.by_pk
            if not ours:  # another reseller's client
                errors.append((row.line, "securecloud_id", ID_TAKEN))
                continue
            if not update:
                errors.append(
                    (
                        row.line,
                        "securecloud_id",
                        "This client already exists (use --update to change it).",
                    )
                )
                continue
            before = ClientState(*stored)
            if not row.clear and _after(row, before, customers, hashed=None) == before:
                summary.unchanged += 1
                continue
            summary.updated += 1  # (a new clear-text password is always a change)
            plan.updates.append((row, pk, code, used, before))
    return plan


def _after(row: Row, before: ClientState, customers: _Customers, *, hashed) -> ClientState:
    """The client as the row leaves it: what the row gives, else what it has."""
    plan = row.plan or before.plan
    return ClientState(
        customer_id=row.customer_id,
        name=before.name if row.name is None else row.name,
        email=before.email if row.email is None else row.email,
        password=hashed or row.secret or before.password,
        plan=plan,
        trial_ends_at=plan_trial_end(
            plan,
            row.trial_ends_at,
            before=before,
            trial_days=customers.by_pk[row.customer_id].trial_days,
            now=timezone.now(),
        ),
        status=row.status or before.status,
    )


def _write(top, plan: Plan, customers, summary, *, say, show_progress, acting_user, origin):
    # Clear-text passwords: hash them all before taking any lock.
    clear = [row for row in plan.creates if row.clear] + [
        row for row, *_ in plan.updates if row.clear
    ]
    hashed = dict(
        zip(map(id, clear), hash_passwords([row.secret for row in clear], say=say), strict=True)
    )
    creates = [
        NewClient(
            customer_id=row.customer_id,
            securecloud_id=row.securecloud_id,
            name=row.name or "",
            email=row.email or "",
            password=hashed.get(id(row), row.secret),
            plan=row.plan,
            trial_ends_at=row.trial_ends_at,
            status=row.status,
        )
        for row in plan.creates
    ]
    updates = [
        ClientUpdate(
            pk=pk,
            code=code,
            securecloud_id=row.securecloud_id,
            used_bytes=used,
            before=before,
            after=_after(row, before, customers, hashed=hashed.get(id(row))),
        )
        for row, pk, code, used, before in plan.updates
    ]
    try:
        with transaction.atomic():
            create_clients(
                creates,
                acting_user=acting_user,
                origin=origin,
                progress=lambda rows: progress(
                    rows, enabled=show_progress, desc="Writing", total=len(creates)
                ),
            )
            update_clients(updates, acting_user=acting_user, origin=origin)
            audit.record_import("clients", top, summary, acting_user=acting_user, origin=origin)
    except IntegrityError:
        raise BadFile(CHANGED_DURING_IMPORT) from None


# The customer clean_new_client sees: it checks the fields; the import itself demands a
# password (with the console's message) only of rows that create a client.
_ANY_CUSTOMER = _Customer(0, "", 0, True, 30)


# --------------------------------------------------------------------------- export


def export_clients(top: Node, out_dir: Path, *, include_password_hashes: bool) -> int:
    """Write clients.csv of `top`'s subtree, ordered by SecureCloud ID; returns the count."""
    nodes = {
        pk: (name, parent_id)
        for pk, name, parent_id in Node.objects.within(top).values_list("pk", "name", "parent")
    }
    rows = sorted(
        Client.objects.within(top)
        .values_list(
            "securecloud_id",
            "customer_id",
            "name",
            "email",
            "password",
            "plan",
            "trial_ends_at",
            "status",
        )
        .iterator(chunk_size=5000)
    )

    now = timezone.now()

    def lines():
        for sid, customer_pk, name, email, password, plan, ends, status in rows:
            shown = shown_status_of(plan, ends, status, now)
            customer_name, parent_pk = nodes[customer_pk]
            yield (
                sid,
                customer_name,
                name,
                email,
                "",
                password if include_password_hashes else "",
                plan,
                ends.astimezone(UTC).isoformat() if ends else "",
                shown,
                nodes[parent_pk][0],
            )

    os.makedirs(out_dir, exist_ok=True)
    return write_csv(Path(out_dir) / "clients.csv", CLIENT_COLUMNS, lines())
