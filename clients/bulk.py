"""Bulk import and export of client accounts.

The import streams the file once to validate it (in chunks: duplicates against the
database are checked with one IN query per chunk), keeping only compact tuples of the
good rows; then it hashes any clear-text passwords on every core and writes everything
in one transaction with the database's fastest bulk path (COPY on PostgreSQL).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from clients.models import AgentToken, Client
from clients.services import (
    ID_TAKEN,
    PASSWORD_REQUIRED,
    clean_new_client,
    refresh_customer_totals,
)
from hierarchy import audit, bulk
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
# Hash in worker processes only when it takes longer than this in one process.
POOL_THRESHOLD_SECONDS = 1.0
_PLANS = {value: value for value in Client.Plan.values}
_STATUSES = {value: value for value in Client.Status.values}


@dataclass(slots=True)
class _Customer:
    """What validation needs of a customer (a stand-in accepted by clean_new_client)."""

    pk: int
    name: str
    parent_id: int
    auto_add_clients: bool
    trial_days: int
    is_customer: bool = True


# --------------------------------------------------------------------------- hashing


def _hash_many(passwords: list[str]) -> list[str]:
    return [make_password(password) for password in passwords]


def hash_passwords(passwords: list[str], *, say=print) -> list[str]:
    """make_password of each, on all cores when it is worth it; says how long it takes."""
    if not passwords:
        return []
    started = time.perf_counter()
    first = make_password(passwords[0])
    each = max(time.perf_counter() - started, 1e-6)
    cores = os.cpu_count() or 1
    rest = passwords[1:]
    alone = each * len(rest)
    if cores > 1 and alone > POOL_THRESHOLD_SECONDS:
        say(
            f"Hashing {len(passwords)} clear-text passwords: about {alone / cores:.0f} s "
            f"on {cores} cores ({each * 1000:.0f} ms each)."
        )
        # The configured hasher itself goes to the workers (it is a plain object), so they
        # hash exactly as this process would (the tests' fast hasher included) without
        # setting Django up; spawn gives them no copy of this process's database connection.
        work = functools.partial(make_password, hasher=get_hasher("default"))
        with ProcessPoolExecutor(
            max_workers=cores, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            hashed = list(pool.map(work, rest, chunksize=max(1, len(rest) // (cores * 8))))
    else:
        if alone > 0.5:
            say(f"Hashing {len(passwords)} clear-text passwords: about {alone:.0f} s.")
        hashed = _hash_many(rest)
    return [first, *hashed]


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


def import_clients(
    top: Node,
    stream: TextIO,
    *,
    update: bool = False,
    dry_run: bool = False,
    label: str = "file",
    show_progress: bool = False,
    say=print,
    acting_user=None,
    origin: str = "",
) -> bulk.Summary:
    """Clients of customers inside `top`'s subtree (see CLIENT_COLUMNS)."""
    rows = bulk.CSVRows(
        stream, columns=CLIENT_COLUMNS, required=("securecloud_id", "customer"), label=label
    )
    # Clear-text passwords are never exported, so never guarded: taken as written.
    get = {column: rows.getter(column, unguard=column != "password") for column in CLIENT_COLUMNS}
    present = rows.present
    resellers = {
        pk: name for pk, name in Node.objects.within(top).resellers().values_list("pk", "name")
    }
    reseller_keys = {name.lower() for name in resellers.values()}
    customers_by_name: dict[str, list[_Customer]] = defaultdict(list)
    customers_by_pk: dict[int, _Customer] = {}
    for pk, name, parent_id, auto_add, trial_days in (
        Node.objects.within(top)
        .customers()
        .values_list("pk", "name", "parent_id", "auto_add_clients", "trial_days")
    ):
        customer = _Customer(pk, name, parent_id, auto_add, trial_days)
        customers_by_name[name.lower()].append(customer)
        customers_by_pk[pk] = customer

    now = timezone.now()
    errors: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    # Compact rows: [line, id, customer pk, name, email, password or hash, plan,
    # trial end, status, clear-text?, needs a password if new]
    pending: list[list] = []
    creates: list[list] = []
    updates: list[tuple] = []  # (pk, customer, name, email, password, plan, end, status)
    revoke: list[int] = []
    moved_bytes: dict[int, int] = defaultdict(int)
    summary = bulk.Summary(dry_run=dry_run)

    def check_chunk() -> None:
        if not pending:
            return
        found = {
            values[1]: values
            for values in Client.objects.filter(
                securecloud_id__in=[item[1] for item in pending]
            ).values_list(
                "pk",
                "securecloud_id",
                "customer_id",
                "name",
                "email",
                "password",
                "plan",
                "trial_ends_at",
                "status",
                "used_bytes",
            )
        }
        for item in pending:
            (
                line,
                sid,
                customer_pk,
                name,
                email,
                secret,
                plan,
                ends,
                status,
                clear,
                needs_password,
            ) = item
            current = found.get(sid)
            if current is None:
                if needs_password:
                    errors.append((line, "password", PASSWORD_REQUIRED))
                    continue
                creates.append(item)
                continue
            if not update:
                if current[2] in customers_by_pk:
                    errors.append(
                        (
                            line,
                            "securecloud_id",
                            "This client already exists (use --update to change it).",
                        )
                    )
                else:
                    errors.append((line, "securecloud_id", ID_TAKEN))
                continue
            if current[2] not in customers_by_pk:  # another reseller's client
                errors.append((line, "securecloud_id", ID_TAKEN))
                continue
            (
                pk,
                _,
                old_customer,
                old_name,
                old_email,
                old_password,
                old_plan,
                old_ends,
                old_status,
                used,
            ) = current
            new = [
                customer_pk,
                name if "name" in present else old_name,
                email if "email" in present else old_email,
                secret if secret else old_password,
                plan or old_plan,
                None,
                status or old_status,
            ]
            if new[4] == Client.Plan.TRIAL:
                new[5] = ends or (
                    old_ends
                    if old_plan == Client.Plan.TRIAL
                    else now + timedelta(days=customers_by_pk[customer_pk].trial_days)
                )
            if clear:
                changed = True  # a new clear-text password is always a change
            else:
                changed = new != [
                    old_customer,
                    old_name,
                    old_email,
                    old_password,
                    old_plan,
                    old_ends,
                    old_status,
                ]
            if not changed:
                summary.unchanged += 1
                continue
            summary.updated += 1
            updates.append((pk, *new, clear, line))
            if new[3] != old_password or (
                new[6] == Client.Status.DISABLED and old_status != Client.Status.DISABLED
            ):
                revoke.append(pk)
            if customer_pk != old_customer:
                moved_bytes[old_customer] -= used
                moved_bytes[customer_pk] += used
        pending.clear()

    for line, row in bulk.progress(rows, enabled=show_progress, desc="Checking"):
        if problem := bulk.too_wide(rows, line, row):
            errors.append(problem)
            continue
        row_errors: list[tuple[str, str]] = []
        customer_name = get["customer"](row)
        reseller_name = get["reseller"](row)
        customer = None
        if not customer_name:
            row_errors.append(("customer", "Enter the customer's name."))
        elif reseller_name and reseller_name.lower() not in reseller_keys:
            row_errors.append(
                ("reseller", f"No reseller named {reseller_name} in {top.name}'s subtree.")
            )
        else:
            candidates = customers_by_name.get(customer_name.lower(), ())
            if reseller_name:
                wanted = reseller_name.lower()
                candidates = [c for c in candidates if resellers[c.parent_id].lower() == wanted]
            if not candidates:
                where = f"under {reseller_name}" if reseller_name else f"in {top.name}'s subtree"
                row_errors.append(("customer", f"No customer named {customer_name} {where}."))
            elif len(candidates) > 1:
                under = ", ".join(sorted(resellers[c.parent_id] for c in candidates))
                row_errors.append(
                    (
                        "customer",
                        f"{len(candidates)} customers are named {customer_name} "
                        f"(under {under}): give the reseller column.",
                    )
                )
            else:
                customer = candidates[0]

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
            row_errors.extend(bulk.validation_messages(exc))
        needs_password = (
            customer is not None
            and not customer.auto_add_clients
            and not password
            and not password_hash
        )
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
            row_errors.append(("status", "Enter pending, active or disabled."))

        if cleaned is not None:
            sid = cleaned["securecloud_id"]
            if sid in seen:
                row_errors.append(("securecloud_id", f"{sid} is also on line {seen[sid]}."))
            else:
                seen[sid] = line
        if row_errors:
            errors.extend((line, column, message) for column, message in row_errors)
            continue
        pending.append(
            [
                line,
                sid,
                customer.pk,
                cleaned["name"],
                cleaned["email"],
                password or password_hash,
                plan,
                ends,  # None: the customer's trial length from today
                status,
                bool(password),
                needs_password,
            ]
        )
        if len(pending) >= CHUNK:
            check_chunk()
    check_chunk()
    if errors:
        raise bulk.ImportFailed(errors)
    summary.created = len(creates)
    if dry_run:
        return summary

    # Clear-text passwords: hash them all before taking any lock.
    to_hash = [item for item in creates if item[9]]
    to_hash_updates = [i for i, item in enumerate(updates) if item[-2]]
    hashed = hash_passwords(
        [item[5] for item in to_hash] + [updates[i][4] for i in to_hash_updates], say=say
    )
    for item, value in zip(to_hash, hashed, strict=False):
        item[5] = value
    for i, value in zip(to_hash_updates, hashed[len(to_hash) :], strict=True):
        row = list(updates[i])
        row[4] = value
        updates[i] = tuple(row)

    ends_for = {pk: now + timedelta(days=c.trial_days) for pk, c in customers_by_pk.items()}

    def new_rows() -> Iterable[tuple]:
        uuid4 = uuid.uuid4
        for _, sid, customer_pk, name, email, secret, plan, ends, status, _, _ in creates:
            plan = plan or Client.Plan.TRIAL
            if plan == Client.Plan.TRIAL:
                ends = ends or ends_for[customer_pk]
            else:
                ends = None
            yield (
                uuid4(),
                customer_pk,
                sid,
                name,
                email,
                secret,
                plan,
                ends,
                status or Client.Status.PENDING,
            )

    try:
        with transaction.atomic():
            bulk.fast_insert(
                Client,
                [
                    "code",
                    "customer",
                    "securecloud_id",
                    "name",
                    "email",
                    "password",
                    "plan",
                    "trial_ends_at",
                    "status",
                ],
                bulk.progress(
                    new_rows(), enabled=show_progress, desc="Writing", total=len(creates)
                ),
            )
            if updates:
                _apply_updates(updates, now)
            if revoke:
                for start in range(0, len(revoke), CHUNK):
                    AgentToken.objects.filter(client_id__in=revoke[start : start + CHUNK]).delete()
            touched = {item[2] for item in creates} | set(moved_bytes)
            for start in range(0, len(touched), CHUNK):
                chunk = list(touched)[start : start + CHUNK]
                refresh_customer_totals(Node.objects.filter(pk__in=chunk))
            audit.record_import("clients", top, summary, acting_user=acting_user, origin=origin)
    except IntegrityError:
        raise bulk.BadFile(bulk.CHANGED_DURING_IMPORT) from None
    return summary


# The customer clean_new_client sees: it checks the fields; the import itself demands a
# password (with the console's message) only of rows that create a client.
_ANY_CUSTOMER = _Customer(0, "", 0, True, 30)


def _apply_updates(updates: list[tuple], now) -> None:
    table = connection.ops.quote_name(Client._meta.db_table)
    fields = [
        "customer",
        "name",
        "email",
        "password",
        "plan",
        "trial_ends_at",
        "status",
        "updated_at",
    ]
    meta = Client._meta
    columns = [meta.get_field(name) for name in fields]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in columns)
    sql = f"UPDATE {table} SET {sets} WHERE id = %s"
    ends_field = meta.get_field("trial_ends_at")
    stamp = meta.get_field("updated_at").get_db_prep_save(now, connection)
    params = [
        (
            customer,
            name,
            email,
            password,
            plan,
            ends_field.get_db_prep_save(ends, connection),
            status,
            stamp,
            pk,
        )
        for pk, customer, name, email, password, plan, ends, status, _, _ in updates
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])


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

    def lines():
        for sid, customer_pk, name, email, password, plan, ends, status in rows:
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
                status,
                nodes[parent_pk][0],
            )

    os.makedirs(out_dir, exist_ok=True)
    return bulk._write_csv(Path(out_dir) / "clients.csv", CLIENT_COLUMNS, lines())
