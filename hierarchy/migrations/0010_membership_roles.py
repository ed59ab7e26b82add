"""Admins get roles: Administrator, Technician, Read-only, Billing.

Every admin could do everything before: each existing membership ("admin") becomes an
Administrator. Back again, every role reads "admin", as there was only the one.
"""

from django.db import migrations, models


def to_administrator(apps, schema_editor):
    membership = apps.get_model("hierarchy", "Membership")
    membership.objects.using(schema_editor.connection.alias).update(role="administrator")


def to_admin(apps, schema_editor):
    membership = apps.get_model("hierarchy", "Membership")
    membership.objects.using(schema_editor.connection.alias).update(role="admin")


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0009_move_mail_and_accounts_models"),
    ]

    operations = [
        migrations.RunPython(to_administrator, to_admin),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("administrator", "Administrator"),
                    ("technician", "Technician"),
                    ("read_only", "Read-only"),
                    ("billing", "Billing"),
                ],
                max_length=20,
                verbose_name="Role",
            ),
        ),
    ]
