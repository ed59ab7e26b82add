from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="node",
            name="require_two_factor",
            field=models.BooleanField(default=False, verbose_name="Require two-factor sign-in"),
        ),
    ]
