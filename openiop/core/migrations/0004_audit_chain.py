# The audit log's hash chain and the database's refusal to change it (issue 8, point 6;
# 45 CFR 170.315(d)(2), (d)(10)). See openiop/core/chain.py.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 1000


def chain_existing_events(apps, schema_editor):
    """Chain the events written before this migration, in id order, and set the head."""
    from openiop.core.chain import CHAIN_FIELDS, chain_rows

    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    db = schema_editor.connection.alias
    columns = ("id", *CHAIN_FIELDS)
    prev_hash, seq, last_id = "", 0, 0
    while True:
        # Keyset pages (not one open cursor) so that the updates never touch a table
        # that is still being read.
        rows = list(
            AuditEvent.objects.using(db)
            .filter(id__gt=last_id)
            .order_by("id")
            .values(*columns)[:BATCH]
        )
        if not rows:
            break
        updates = [
            AuditEvent(id=event_id, seq=n, prev_hash=prev, hash=digest)
            for event_id, n, prev, digest in chain_rows(rows, prev_hash, seq)
        ]
        AuditEvent.objects.using(db).bulk_update(updates, ["seq", "prev_hash", "hash"])
        last = updates[-1]
        prev_hash, seq, last_id = last.hash, last.seq, last.id
    AuditChainHead.objects.using(db).create(id=1, seq=seq, hash=prev_hash)


def install_triggers(apps, schema_editor):
    from openiop.core.chain import install_triggers

    install_triggers(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    from openiop.core.chain import remove_triggers

    remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_security"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-seq"]},
        ),
        # The actor's id stays as recorded when an account is removed: nulling it would
        # be an UPDATE (refused below) and would break the event's hash.
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="auditchainhead_one_row"
                    )
                ],
            },
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
