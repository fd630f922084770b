"""Trigram indexes for the participant search on PostgreSQL (issue 13).

The participant list searches names, record number and phone with `icontains`, which
PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%word%')`: without an index that reads
every participant ever admitted. A GIN trigram index on each searched expression lets
PostgreSQL answer from the index (a bitmap OR across the five). SQLite has no such index
and scans, as before. pg_trgm is a trusted extension (PostgreSQL 13+): a database owner
may create it; where even that is not allowed the search still works, unindexed.
"""

from django.db import migrations, transaction

FIELDS = ["legal_first_name", "legal_last_name", "preferred_name", "record_number", "phone"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001  (no privilege: keep the search unindexed)
        return
    for field in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS participant_{field}_trgm ON participants_participant "
            f"USING gin ((UPPER({field}::text)) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS participant_{field}_trgm")


class Migration(migrations.Migration):
    dependencies = [("participants", "0003_copy_emergency_contacts")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
