import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0002_node_require_two_factor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("actor_label", models.CharField(max_length=300)),
                ("origin", models.CharField(blank=True, max_length=300)),
                ("action", models.CharField(max_length=50)),
                ("object_type", models.CharField(max_length=20)),
                ("object_code", models.UUIDField(blank=True, null=True)),
                ("object_repr", models.CharField(max_length=300)),
                ("customer_code", models.UUIDField(blank=True, null=True)),
                ("changes", models.JSONField(blank=True, default=dict)),
                ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("reseller", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="hierarchy.node")),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "indexes": [
                    models.Index(fields=["reseller", "at"], name="audit_reseller_at_idx"),
                    models.Index(fields=["object_code", "at"], name="audit_object_at_idx"),
                    models.Index(fields=["customer_code", "at"], name="audit_customer_at_idx"),
                ],
            },
        ),
    ]
