"""`openiop backup` and `openiop restore` (issue 13, point 5, the last fault): a small
world (participants, signed notes and plans, schedule, audit events) is backed up, the
database emptied, and the backup restored into it with identical counts and checksums.

The "second empty database" is this test database after `flush` (every table empty,
migrations applied): migrating a fresh database takes half a minute here, too slow for
the suite. `make restore-check` runs the full path, into a newly created database.
Transactional, because a restore commits (and the backup reads a committed snapshot).
"""

from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiop.core import chain
from openiop.perf import backup
from openiop.testing import build_world


def _rewrite(src: Path, dest: Path, change: Any) -> None:
    """Copy a backup, passing each decoded line through `change` (None drops it)."""
    with gzip.open(src, "rb") as inp, gzip.open(dest, "wb") as out:
        for line in inp:
            record = change(json.loads(line))
            if record is not None:
                out.write(json.dumps(record).encode() + b"\n")


def _alter_a_note(path: Path, dest: Path) -> None:
    """Change one character of a text value of the first notes_note row (same length,
    so the database would take it), leaving the checksum as it was."""
    state = {"in_notes": False, "done": False, "kinds": []}

    def change(record: Any) -> Any:
        if isinstance(record, dict) and record.get("kind") == "table":
            state["in_notes"] = record["table"] == "notes_note"
            state["kinds"] = record["kinds"]
        elif isinstance(record, list) and state["in_notes"] and not state["done"]:
            for i, kind in enumerate(state["kinds"]):
                if kind == "text" and record[i]:
                    record[i] = ("Y" if record[i][0] == "X" else "X") + record[i][1:]
                    state["done"] = True
                    break
        return record

    _rewrite(path, dest, change)
    assert state["done"]


@pytest.mark.django_db(transaction=True)
def test_backup_restore_round_trip(tmp_path: Path) -> None:
    world = build_world()
    signed_note = world.signed_note
    path = tmp_path / "openiop.jsonl.gz"
    call_command("backup", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.part"))

    before = backup.database_digests()
    manifest = backup.check_file(path)
    assert manifest["tables"] == before
    assert {"accounts_user", "django_content_type", "django_session", chain.EVENT_TABLE} <= set(
        before
    )
    assert before["notes_note"]["rows"] >= 3 and before[chain.EVENT_TABLE]["rows"] > 10
    assert manifest["migrations"] == backup.applied_migrations()

    # The database holding the world is not empty: refused, exit status 2, untouched.
    with pytest.raises(CommandError, match="holds data") as refused:
        call_command("restore", str(path))
    assert refused.value.returncode == 2
    assert backup.database_digests() == before

    call_command("flush", interactive=False, verbosity=0)
    assert not backup.data_tables()
    emptied = backup.database_digests()

    # A changed row is caught, named, and nothing is left behind.
    altered = tmp_path / "altered.jsonl.gz"
    _alter_a_note(path, altered)
    with pytest.raises(CommandError, match="notes_note") as failed:
        call_command("restore", str(altered))
    assert failed.value.returncode == 1
    assert backup.database_digests() == emptied
    with pytest.raises(backup.VerificationFailed):
        backup.check_file(altered)

    # A file cut off before its manifest is refused as well.
    cut = tmp_path / "cut.jsonl.gz"
    _rewrite(path, cut, lambda r: None if isinstance(r, dict) and r["kind"] == "manifest" else r)
    with pytest.raises(CommandError, match="before its manifest"):
        call_command("restore", str(cut))
    assert backup.database_digests() == emptied

    call_command("restore", str(path), verbosity=0)
    assert backup.database_digests() == before
    report = chain.verify_chain()
    assert report.ok and report.protected, report.summary

    # Signed documents came back signed, as they were; new rows get fresh keys.
    from openiop.core import audit
    from openiop.notes.models import Note

    note = Note.objects.get(pk=signed_note.pk)
    assert note.signed_at == signed_note.signed_at and note.status == signed_note.status
    audit.record("view", obj=note, actor=None)
    assert chain.verify_chain().ok


def test_canonical_values_agree_across_databases() -> None:
    """What each database hands back for the same data gives the same checksum bytes."""
    import datetime as dt
    from decimal import Decimal

    utc = dt.UTC
    same = [
        ("datetime", dt.datetime(2024, 5, 1, 13, 0, tzinfo=utc)),
        ("decimal", Decimal("12.50")),
        ("binary", b"\x00\x01"),
        ("json", {"b": 1.0, "a": [1e16]}),
    ]
    for kind, value in same:
        assert backup.canonical(kind, backup.encode(kind, value)) is not None
    assert backup.encode("binary", memoryview(b"\x00\x01")) == backup.encode("binary", b"\x00\x01")
    assert backup.canonical("json", {"n": 1e16}) == backup.canonical("json", {"n": 10**16})
    assert backup.canonical("ip", "::ffff:10.0.0.1") == backup.canonical("ip", "::ffff:a00:1")
    eastern = dt.timezone(dt.timedelta(hours=-4))
    assert backup.encode("datetime", dt.datetime(2024, 5, 1, 9, 0, tzinfo=eastern)) == (
        backup.encode("datetime", dt.datetime(2024, 5, 1, 13, 0, tzinfo=utc))
    )
