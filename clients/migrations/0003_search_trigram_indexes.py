"""On PostgreSQL, trigram indexes for the console's search over clients (a search for
part of a SecureCloud ID, name or email otherwise reads every client)."""

from django.db import migrations

TRIGRAM_INDEXES = {
    "client_securecloud_id_trgm_idx": "securecloud_id",
    "client_name_trgm_idx": "name",
    "client_email_trgm_idx": "email",
}


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "clients_client" '
            f'USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_authfailure_backupreport"),
    ]

    operations = [
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
