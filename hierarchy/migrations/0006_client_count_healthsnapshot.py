"""Customers count their clients (filled in here from the clients table); a shared
snapshot of each reseller's backup health; and, on PostgreSQL, trigram indexes that let
the console's search find names and emails without reading every row."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

TRIGRAM_INDEXES = {
    "node_name_trgm_idx": ("hierarchy_node", "name"),
    "node_contact_email_trgm_idx": ("hierarchy_node", "contact_email"),
}


def fill_client_counts(apps, schema_editor):
    node = apps.get_model("hierarchy", "Node")
    client = apps.get_model("clients", "Client")
    counts = (
        client.objects.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    node.objects.filter(kind="customer").update(
        client_count=Coalesce(Subquery(counts, output_field=models.IntegerField()), 0)
    )


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0005_opaque_codes"),
        ("clients", "0002_authfailure_backupreport"),
    ]

    operations = [
        migrations.AddField(
            model_name="node",
            name="client_count",
            field=models.PositiveIntegerField(default=0, verbose_name="Clients"),
        ),
        migrations.RunPython(fill_client_counts, migrations.RunPython.noop),
        migrations.CreateModel(
            name="HealthSnapshot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("computed_at", models.DateTimeField()),
                ("failed", models.PositiveIntegerField()),
                ("stale", models.PositiveIntegerField()),
                ("over", models.PositiveIntegerField()),
                ("reseller", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="hierarchy.node")),
            ],
        ),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
