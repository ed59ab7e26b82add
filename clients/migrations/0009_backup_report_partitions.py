"""On PostgreSQL, the backup report table becomes partitioned by month of finished_at.

Reports are the one table that grows with time; monthly partitions let retention drop a
month at once (`prune_backup_reports`) instead of deleting rows. The key is finished_at,
not created_at: the console, the emailed reports and usage recording read reports by
client and finished_at (report_client_finished_idx), so those reads touch only the
months they ask for.

The table is rebuilt under an exclusive lock (writes to the clients wait too), its rows
copied over, with the same columns, indexes, foreign key and constraint names:

- range partitions, one per calendar month in UTC, named clients_backupreport_pYYYY_MM:
  every month that holds reports, and the current month with the next three (kept ahead
  by clients.report_partitions.ensure_partitions, which run_alerts and the prune call);
- a DEFAULT partition, clients_backupreport_default, so that an insert never fails for
  lack of a month (a report finished in a month that has no partition lands there);
- the primary key is (id, finished_at): PostgreSQL wants the partition key in every
  unique index. id alone stays unique (one sequence) and stays the model's primary key;
- id takes its values from a sequence owned by the column (PostgreSQL 15 has no identity
  columns on partitioned tables), which continues where the old one stopped.

Django's state does not change, so this is a RunPython with no state operation. SQLite
keeps its plain table. Reversible: the reverse copies the rows back into a plain table
with an identity id, as migration 0002 made it.
"""

from django.db import migrations

TABLE = "clients_backupreport"
DEFAULT_PARTITION = f"{TABLE}_default"
SET_ASIDE = f"{TABLE}_rebuilt"
MONTHS_AHEAD = 3


def _month_literal(year: int, month: int) -> str:
    return f"'{year:04d}-{month:02d}-01 00:00:00+00'"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _definition(cursor) -> dict:
    """What the rebuilt table must have again: its constraints and indexes (by name and
    definition, read before the rename changes the name they print) and the next id."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass ORDER BY conname",
        [TABLE],
    )
    constraints = cursor.fetchall()
    unique = [name for name, kind, _ in constraints if kind in ("u", "x")]
    if unique:
        # A unique constraint without finished_at cannot exist on the partitioned table.
        raise RuntimeError(f"{TABLE} has unique constraints {unique}: partition them by hand")
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        "   WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)"
        " ORDER BY i.indexrelid",
        [TABLE],
    )
    # A partitioned table's index prints as "ON ONLY table"; the plain table's as "ON table".
    indexes = [definition.replace(" ON ONLY ", " ON ") for (definition,) in cursor.fetchall()]
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    last_value, is_called = cursor.fetchone()
    cursor.execute(f"SELECT max(id) FROM {TABLE}")
    (highest,) = cursor.fetchone()
    return {
        "primary_key": next(name for name, kind, _ in constraints if kind == "p"),
        "others": [(name, text) for name, kind, text in constraints if kind != "p"],
        "indexes": indexes,
        # Ids are never given twice, even those of reports deleted since.
        "next_id": max(last_value + 1 if is_called else last_value, (highest or 0) + 1),
    }


def _rebuild(cursor, *, partitioned: bool) -> None:
    # The foreign key added again at the end takes this lock on the clients: taken first,
    # in the order of the agents' backup write (the client, then the report), so that a
    # write arriving meanwhile waits instead of deadlocking.
    cursor.execute("LOCK TABLE clients_client IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    definition = _definition(cursor)
    months: set[tuple[int, int]] = set()
    if partitioned:
        cursor.execute(
            "SELECT DISTINCT CAST(extract(year FROM finished_at AT TIME ZONE 'UTC') AS int),"
            f" CAST(extract(month FROM finished_at AT TIME ZONE 'UTC') AS int) FROM {TABLE}"
        )
        months = set(cursor.fetchall())
        cursor.execute(
            "SELECT CAST(extract(year FROM now() AT TIME ZONE 'UTC') AS int),"
            " CAST(extract(month FROM now() AT TIME ZONE 'UTC') AS int)"
        )
        month = cursor.fetchone()
        for _ in range(MONTHS_AHEAD + 1):
            months.add(month)
            month = _next_month(*month)

    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {SET_ASIDE}")
    # LIKE copies the columns in their order with their types and NOT NULL, nothing else.
    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {SET_ASIDE})"
        + (" PARTITION BY RANGE (finished_at)" if partitioned else "")
    )
    if partitioned:
        cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
        for year, month in sorted(months):
            cursor.execute(
                f"CREATE TABLE {TABLE}_p{year:04d}_{month:02d} PARTITION OF {TABLE}"
                f" FOR VALUES FROM ({_month_literal(year, month)})"
                f" TO ({_month_literal(*_next_month(year, month))})"
            )
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {SET_ASIDE}")
    # Its partitions, indexes, constraints and sequence go with it, freeing their names.
    cursor.execute(f"DROP TABLE {SET_ASIDE}")

    next_id = int(definition["next_id"])
    if partitioned:
        cursor.execute(
            f"CREATE SEQUENCE {TABLE}_id_seq AS bigint START WITH {next_id}"
            f" OWNED BY {TABLE}.id"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        key = "id, finished_at"
    else:
        cursor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN id"
            f" ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {next_id})"
        )
        key = "id"
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {definition['primary_key']} PRIMARY KEY ({key})")
    for name, text in definition["others"]:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {text}")
    for index in definition["indexes"]:
        cursor.execute(index)


def partition_reports(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _rebuild(cursor, partitioned=True)


def unpartition_reports(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _rebuild(cursor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0008_client_customer_status_idx"),
    ]

    operations = [
        migrations.RunPython(partition_reports, unpartition_reports),
    ]
