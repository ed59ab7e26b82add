"""EmailDelivery and HealthSnapshot now belong to the mail app, RateLimitHit to accounts.

The tables stay as they are (same names, same rows, indexes and constraints): this
drops the three models from the hierarchy app's state only, after mail 0001 and
accounts 0001 have added them to theirs. Their content types (and so any permission
granted on them) follow them to the new app labels.
"""

from django.db import migrations

MOVED = {
    "emaildelivery": ("hierarchy", "mail"),
    "healthsnapshot": ("hierarchy", "mail"),
    "ratelimithit": ("hierarchy", "accounts"),
}


def _relabel(apps, schema_editor, *, forward):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.db_manager(schema_editor.connection.alias)
    for model, (old, new) in MOVED.items():
        source, target = (old, new) if forward else (new, old)
        # A content type already made for the target label (there is none in an ordinary
        # upgrade) wins; the source's one is then left stale, as Django leaves them.
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)
    rows.clear_cache()


def relabel_forward(apps, schema_editor):
    _relabel(apps, schema_editor, forward=True)


def relabel_backward(apps, schema_editor):
    _relabel(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("hierarchy", "0008_ratelimithit"),
        ("mail", "0001_initial"),
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="EmailDelivery"),
                migrations.DeleteModel(name="HealthSnapshot"),
                migrations.DeleteModel(name="RateLimitHit"),
            ],
        ),
        migrations.RunPython(relabel_forward, relabel_backward),
    ]
