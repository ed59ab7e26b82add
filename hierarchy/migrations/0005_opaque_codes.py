"""Opaque codes for admin memberships and email deliveries, so that no URL carries a
sequential primary key. Existing rows get a code each before the field turns unique."""

import uuid

from django.db import migrations, models


def fill_codes(apps, schema_editor):
    for model_name in ("Membership", "EmailDelivery"):
        model = apps.get_model("hierarchy", model_name)
        for pk in model.objects.filter(code__isnull=True).values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(code=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0004_emaildelivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="code",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="emaildelivery",
            name="code",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="code",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="emaildelivery",
            name="code",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
