"""The password reset limits' counted requests, moved here from the hierarchy app.

The table already exists (created by hierarchy 0008 as `hierarchy_ratelimithit`, the
name the model keeps): this migration only tells Django's state that the model now lives
here. It changes nothing in the database; hierarchy 0009 then drops it from the
hierarchy app's state.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("hierarchy", "0008_ratelimithit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="RateLimitHit",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "hierarchy_ratelimithit",
                        "indexes": [
                            models.Index(fields=["key", "created_at"], name="ratelimithit_key_created_idx"),
                            models.Index(fields=["created_at"], name="ratelimithit_created_idx"),
                        ],
                    },
                ),
            ],
        ),
    ]
