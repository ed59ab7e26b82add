from django.db import migrations, models
from django.utils import timezone


def add_the_row(apps, schema_editor):
    apps.get_model("healthcheck", "Heartbeat").objects.create(pk=1, checked_at=timezone.now())


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checked_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(add_the_row, migrations.RunPython.noop),
    ]
