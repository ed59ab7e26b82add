"""The agent API's hot path in SQL: the token lookup and the backup write.

Agents call hundreds of times a second. Measured on a 2-core machine, the ORM's share
of such a call (compiling a four-table select_related per request, then a transaction
of six round trips for a report) and PostgreSQL's planning of those statements were
most of its cost (see BENCHMARKS.md). So these statements are written out here once:

- the token lookup reads a token with its client, customer and reseller in one query
  and builds the model instances from the row (both databases);
- a status call marks the client seen, at most once a minute (one conditional update);
- a backup report on PostgreSQL is one statement, committed on its own: it locks the
  client row, moves the customer's total by the change, updates the client, inserts
  the report and its events (the outbox: a failed backup, storage crossing 90% or 100%
  of the usage space). SQLite has no data-modifying WITH, so it runs the same steps in one
  transaction (IMMEDIATE: it holds the write lock throughout);
- on PostgreSQL both are prepared once per database connection (PREPARE, then EXECUTE):
  planning the lookup cost more than running it. A session that lost them (DISCARD ALL)
  prepares them again; a pooler in transaction mode (PgBouncer) hands each statement to
  any server session, so there set DATABASE_PREPARED_STATEMENTS=0.

The business rules stay in clients.agent_services; the one rule repeated in SQL below,
"over quota", mirrors Node.over_quota.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.db.models import DEFERRED, Q
from django.dispatch import receiver
from django.utils.functional import cached_property

from clients import events
from clients.models import AgentToken, Client, Event
from hierarchy.models import Node


@dataclass(frozen=True)
class Statement:
    """A statement with %(name)s parameters, preparable on PostgreSQL."""

    name: str
    sql: str
    # PostgreSQL type of each parameter, in the order of EXECUTE's arguments.
    parameters: dict[str, str]

    @cached_property
    def prepared_name(self) -> str:
        """The name on the server, which changes with the text: during a rolling deploy
        a session never runs another version's statement under the same name."""
        text = self.sql + repr(self.parameters)
        return f"{self.name}_{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    @cached_property
    def prepare_sql(self) -> str:
        body = self.sql
        for number, parameter in enumerate(self.parameters, start=1):
            body = body.replace(f"%({parameter})s", f"${number}")
        types = ", ".join(self.parameters.values())
        return f"PREPARE {self.prepared_name} ({types}) AS {body}"

    @cached_property
    def execute_sql(self) -> str:
        # Built once: it is part of every agent request.
        arguments = ", ".join(f"%({parameter})s" for parameter in self.parameters)
        return f"EXECUTE {self.prepared_name} ({arguments})"


def _prepared_names() -> set[str]:
    """The statements this database session holds, read from the server once per
    session: a pooler in session mode may hand over a session that already has some."""
    names = getattr(connection, "agent_prepared_statements", None)
    if names is None:
        # Setting up the session, as Django's own SET TIME ZONE is: straight on the
        # driver's connection, not one of the request's queries.
        with connection.connection.cursor() as raw:
            raw.execute("SELECT name FROM pg_prepared_statements")
            names = {name for (name,) in raw.fetchall()}
        connection.agent_prepared_statements = names  # type: ignore[attr-defined]
    return names


@receiver(connection_created)
def _forget_prepared_statements(sender, connection, **kwargs) -> None:
    """A new database session: what it holds is read again on first use."""
    connection.agent_prepared_statements = None


# PostgreSQL's "prepared statement ... does not exist".
INVALID_SQL_STATEMENT_NAME = "26000"


def _fetchone(statement: Statement, params: dict[str, Any]) -> tuple | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS:
            try:
                _execute_prepared(cursor, statement, params)
            except DatabaseError as exc:
                # The session lost prepared statements (DEALLOCATE, or DISCARD ALL as
                # poolers send between clients): read what it holds, prepare again. Only
                # outside a transaction, which the failed statement would have aborted;
                # the hot path runs outside one.
                pgcode = getattr(exc.__cause__, "pgcode", None)
                if pgcode != INVALID_SQL_STATEMENT_NAME or not connection.get_autocommit():
                    raise
                connection.agent_prepared_statements = None  # type: ignore[attr-defined]
                _execute_prepared(cursor, statement, params)
        else:
            cursor.execute(statement.sql, params)
        return cursor.fetchone()


def _execute_prepared(cursor, statement: Statement, params: dict[str, Any]) -> None:
    names = _prepared_names()
    if statement.prepared_name not in names:
        with connection.connection.cursor() as raw:
            raw.execute(statement.prepare_sql)
        names.add(statement.prepared_name)
    cursor.execute(statement.execute_sql, params)


# ---------------------------------------------------------------------------
# Token lookup
# ---------------------------------------------------------------------------

TOKEN_LOOKUP = Statement(
    name="agent_token_lookup",
    sql="""
        SELECT t.id, t.digest,
               c.id, c.securecloud_id, c.plan, c.trial_ends_at, c.status, c.used_bytes,
               c.last_seen_at, c.created_at,
               cu.id, cu.name, cu.usage_space_bytes, cu.used_bytes,
               r.id, r.name
        FROM clients_agenttoken t
        JOIN clients_client c ON c.id = t.client_id
        JOIN hierarchy_node cu ON cu.id = c.customer_id
        LEFT JOIN hierarchy_node r ON r.id = cu.parent_id
        WHERE t.digest = %(digest)s
    """,
    parameters={"digest": "varchar"},
)


def _instance(model, values: dict[str, Any]):
    """A model instance as the ORM builds one from a row; fields not given are deferred."""
    fields = model._meta.concrete_fields
    row = [values.get(field.attname, DEFERRED) for field in fields]
    return model.from_db(connection.alias, [field.attname for field in fields], row)


def _datetime(value: Any) -> datetime | None:
    # psycopg2 gives aware datetimes; SQLite's driver gives naive UTC ones (or text),
    # which the ORM would convert with this same backend function.
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)  # type: ignore[attr-defined]


def find_token(digest: str) -> AgentToken | None:
    """The token with this digest, with its client, customer and reseller; None if none."""
    row = _fetchone(TOKEN_LOOKUP, {"digest": digest})
    if row is None:
        return None
    (
        token_id, token_digest,
        client_id, securecloud_id, plan, trial_ends_at, status, used_bytes, last_seen_at,
        created_at,
        customer_id, customer_name, quota, customer_used,
        reseller_id, reseller_name,
    ) = row  # fmt: skip
    reseller = _instance(Node, {"id": reseller_id, "name": reseller_name}) if reseller_id else None
    customer = _instance(
        Node,
        {
            "id": customer_id,
            "name": customer_name,
            "parent_id": reseller_id,
            "usage_space_bytes": quota,
            "used_bytes": customer_used,
        },
    )
    customer.parent = reseller
    client = _instance(
        Client,
        {
            "id": client_id,
            "customer_id": customer_id,
            "securecloud_id": securecloud_id,
            "plan": plan,
            "trial_ends_at": _datetime(trial_ends_at),
            "status": status,
            "used_bytes": used_bytes,
            "last_seen_at": _datetime(last_seen_at),
            "created_at": _datetime(created_at),
        },
    )
    client.customer = customer
    token = _instance(AgentToken, {"id": token_id, "client_id": client_id, "digest": token_digest})
    token.client = client
    return token


# ---------------------------------------------------------------------------
# Backup write
# ---------------------------------------------------------------------------

# The rule constants the services use, written into the statements below: a disabled
# client takes no report; a success moves the last success. The storage totals move by
# the change of the client's used bytes, as clients.services.shift_customer_totals does.
DISABLED = Client.Status.DISABLED.value
SUCCESS = Client.BackupStatus.SUCCESS.value
FAILED = Client.BackupStatus.FAILED.value
# The events of a report, written in the same statement (the outbox, clients.events):
# a failed backup, and the customer's storage crossing 90% (warning) or 100% (full) of
# its usage space with this report. The storage rule is `storage_crossed` below.
BACKUP_FAILED = Event.Type.BACKUP_FAILED.value
STORAGE_WARNING = Event.Type.STORAGE_WARNING.value
STORAGE_FULL = Event.Type.STORAGE_FULL.value


def storage_crossed(before: int, after: int, quota: int | None) -> str | None:
    """The storage event of a customer's total moving from `before` to `after`: full at
    100% of the usage space, warning at 90% (below 100%), None when no line is crossed."""
    if quota is None:
        return None
    if after >= quota > before:
        return STORAGE_FULL
    if after * 10 >= quota * 9 > before * 10 and after < quota:
        return STORAGE_WARNING
    return None


@dataclass(frozen=True)
class BackupWritten:
    customer_used_bytes: int
    quota_bytes: int | None
    over_quota: bool
    client_used_bytes: int
    events: int = 0


# The client row is locked first (FOR UPDATE), so two reports of one client cannot lose
# a delta: the second waits, then reads the first one's used_bytes. A client disabled
# meanwhile is not written to (its tokens are gone too).
#
# The client's last backup and last success only move forward: a report that finished
# before the client's last backup (an agent sending an old one late) is kept in the
# history, but changes neither the last backup, its status, nor the storage used (which
# is the size after the newest backup); a success moves the last success only forward.
BACKUP_WRITE = Statement(
    name="agent_backup_write",
    sql=f"""
        WITH client AS (
            SELECT id, customer_id, used_bytes,
                last_backup_at IS NULL OR last_backup_at <= %(finished_at)s AS newest
            FROM clients_client
            WHERE id = %(client_id)s AND status <> '{DISABLED}'
            FOR UPDATE
        ), customer AS (
            UPDATE hierarchy_node
            SET used_bytes = hierarchy_node.used_bytes + CASE WHEN client.newest
                THEN %(used_bytes)s - client.used_bytes ELSE 0 END
            FROM client WHERE hierarchy_node.id = client.customer_id
            RETURNING hierarchy_node.used_bytes, hierarchy_node.usage_space_bytes,
                hierarchy_node.usage_space_bytes IS NOT NULL
                AND hierarchy_node.used_bytes > hierarchy_node.usage_space_bytes AS over_quota
        ), updated AS (
            UPDATE clients_client
            SET used_bytes = CASE WHEN client.newest THEN %(used_bytes)s
                             ELSE clients_client.used_bytes END,
                last_backup_at = CASE WHEN client.newest THEN %(finished_at)s
                                 ELSE clients_client.last_backup_at END,
                last_backup_status = CASE WHEN client.newest THEN %(status)s
                                     ELSE clients_client.last_backup_status END,
                last_success_at = CASE WHEN %(status)s = '{SUCCESS}'
                                  THEN GREATEST(clients_client.last_success_at, %(finished_at)s)
                                  ELSE clients_client.last_success_at END,
                last_seen_at = %(now)s,
                updated_at = %(now)s
            FROM client WHERE clients_client.id = client.id
            RETURNING clients_client.id, clients_client.used_bytes
        ), delta AS (
            SELECT CASE WHEN client.newest THEN %(used_bytes)s - client.used_bytes ELSE 0 END
                AS bytes
            FROM client
        ), events AS (
            INSERT INTO clients_event (code, type, created_at, customer_id, client_id, data)
            SELECT gen_random_uuid(), e.type, %(now)s, client.customer_id, client.id, e.data
            FROM client, customer, delta, LATERAL (
                SELECT %(status)s = '{FAILED}' AS wanted, '{BACKUP_FAILED}' AS type,
                    CAST(%(event_data)s AS jsonb) AS data
                UNION ALL
                SELECT customer.usage_space_bytes IS NOT NULL
                    AND customer.used_bytes >= customer.usage_space_bytes
                    AND customer.used_bytes - delta.bytes < customer.usage_space_bytes,
                    '{STORAGE_FULL}', jsonb_build_object('securecloud_id', %(securecloud_id)s,
                    'used_bytes', customer.used_bytes,
                    'usage_space_bytes', customer.usage_space_bytes)
                UNION ALL
                SELECT customer.usage_space_bytes IS NOT NULL
                    AND customer.used_bytes < customer.usage_space_bytes
                    AND customer.used_bytes * 10 >= customer.usage_space_bytes * 9
                    AND (customer.used_bytes - delta.bytes) * 10
                        < customer.usage_space_bytes * 9,
                    '{STORAGE_WARNING}', jsonb_build_object('securecloud_id', %(securecloud_id)s,
                    'used_bytes', customer.used_bytes,
                    'usage_space_bytes', customer.usage_space_bytes)
            ) AS e
            WHERE e.wanted
            RETURNING 1
        ), report AS (
            INSERT INTO clients_backupreport (client_id, started_at, finished_at, status,
                used_bytes, files, message, over_quota, created_at)
            SELECT client.id, %(started_at)s, %(finished_at)s, %(status)s, %(used_bytes)s,
                CAST(%(files)s AS bigint), %(message)s, customer.over_quota, %(now)s
            FROM client, customer
            RETURNING id
        )
        SELECT customer.used_bytes, customer.usage_space_bytes, customer.over_quota,
            updated.used_bytes, (SELECT count(*) FROM events)
        FROM customer, updated, report
    """,
    parameters={
        "client_id": "bigint",
        "used_bytes": "bigint",
        "started_at": "timestamptz",
        "finished_at": "timestamptz",
        "status": "varchar",
        "files": "bigint",
        "message": "text",
        "now": "timestamptz",
        "event_data": "text",
        "securecloud_id": "varchar",
    },
)


def mark_seen(client_id: int, now: datetime, *, since: datetime) -> None:
    """Record that the client's agent called at `now`, unless it was seen after `since`
    (one statement: concurrent calls write it once)."""
    Client.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=since), pk=client_id
    ).update(last_seen_at=now)


def write_backup(
    client_id: int,
    *,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    used_bytes: int,
    files: int | None,
    message: str,
    now: datetime,
    securecloud_id: str = "",
) -> BackupWritten | None:
    """Store a report and move the client's and its customer's storage used, with its
    events (a failed backup, storage crossing 90% or 100%) in the same transaction;
    their delivery is asked for after the commit.

    None when the client was disabled or deleted since its token was read.
    """
    params = {
        "client_id": client_id,
        "used_bytes": used_bytes,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status,
        "files": files,
        "message": message,
        "now": now,
        "securecloud_id": securecloud_id,
        "event_data": json.dumps(
            {
                "securecloud_id": securecloud_id,
                "status": status,
                "started_at": started_at.isoformat(),
                "finished_at": finished_at.isoformat(),
                "message": message,
            }
        ),
    }
    if connection.vendor == "postgresql":
        row = _fetchone(BACKUP_WRITE, params)
    else:
        row = _write_backup_in_steps(params)
    if row is None:
        return None
    customer_used, quota, over_quota, client_used, written_events = row
    if written_events:
        events.dispatch_after_commit()
    return BackupWritten(customer_used, quota, bool(over_quota), client_used, written_events)


def _write_backup_in_steps(params: dict[str, Any]) -> tuple | None:
    """BACKUP_WRITE for databases without data-modifying WITH (SQLite)."""
    given = params
    # Datetimes stored as the ORM stores them, so that its comparisons still hold.
    params = {
        name: connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, datetime)
        else value
        for name, value in params.items()
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Stored datetimes are text in one format, so they compare as text.
        cursor.execute(
            "SELECT used_bytes, customer_id,"
            " last_backup_at IS NULL OR last_backup_at <= %(finished_at)s"
            f" FROM clients_client WHERE id = %(client_id)s AND status <> '{DISABLED}'",
            params,
        )
        row = cursor.fetchone()
        if row is None:
            return None
        previous, customer_id, newest = row
        client_used = params["used_bytes"] if newest else previous
        cursor.execute(
            "UPDATE hierarchy_node SET used_bytes = used_bytes + %(delta)s"
            " WHERE id = %(customer_id)s RETURNING used_bytes, usage_space_bytes",
            {"delta": client_used - previous, "customer_id": customer_id},
        )
        customer_used, quota = cursor.fetchone()
        over_quota = quota is not None and customer_used > quota
        cursor.execute(
            "INSERT INTO clients_backupreport (client_id, started_at, finished_at, status,"
            " used_bytes, files, message, over_quota, created_at)"
            " VALUES (%(client_id)s, %(started_at)s, %(finished_at)s, %(status)s,"
            " %(used_bytes)s, %(files)s, %(message)s, %(over_quota)s, %(now)s)",
            {**params, "over_quota": over_quota},
        )
        newest_sets = (
            " used_bytes = %(used_bytes)s, last_backup_at = %(finished_at)s,"
            " last_backup_status = %(status)s,"
            if newest
            else ""
        )
        cursor.execute(
            "UPDATE clients_client SET" + newest_sets + " last_success_at = CASE"
            f" WHEN %(status)s = '{SUCCESS}' AND (last_success_at IS NULL"
            " OR last_success_at < %(finished_at)s) THEN %(finished_at)s"
            " ELSE last_success_at END,"
            " last_seen_at = %(now)s, updated_at = %(now)s WHERE id = %(client_id)s",
            params,
        )
        written = _write_events_in_steps(
            given,
            customer_id,
            before=customer_used - (client_used - previous),
            after=customer_used,
            quota=quota,
        )
    return customer_used, quota, over_quota, client_used, written


def _write_events_in_steps(
    params: dict[str, Any], customer_id: int, *, before: int, after: int, quota: int | None
) -> int:
    """The events CTE of BACKUP_WRITE, in the same transaction (SQLite)."""
    rows = []
    if params["status"] == FAILED:
        rows.append(Event(type=BACKUP_FAILED, data=json.loads(params["event_data"])))
    crossed = storage_crossed(before, after, quota)
    if crossed:
        data = {
            "securecloud_id": params["securecloud_id"],
            "used_bytes": after,
            "usage_space_bytes": quota,
        }
        rows.append(Event(type=crossed, data=data))
    for event in rows:
        event.customer_id = customer_id
        event.client_id = params["client_id"]
        event.created_at = params["now"]
        event.save()
    return len(rows)
