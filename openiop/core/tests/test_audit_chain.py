"""The audit log's hash chain, the database's refusal to change it, and its verification
(issue 8, point 6; 45 CFR 170.315(d)(2), (d)(10); DOMAIN.md §3).

Tests that play a tamperer lift the database's triggers first, as a database owner could
(`chain.remove_triggers`: DROP TRIGGER, rolled back with the test's transaction), then
change rows with raw SQL, as such a person would.
"""

from __future__ import annotations

import itertools
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from openiop.core import audit, chain, jobs
from openiop.core.context import request_context
from openiop.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def lifted() -> None:
    """Drop the refusing triggers, as a database owner can (undone by the test's
    rollback)."""
    chain.remove_triggers(connection)
    assert not chain.triggers_installed(connection)


def ten_events(world) -> list[AuditEvent]:
    with request_context(client_ip="10.0.0.7", path="/test/", source="test"):
        return [
            audit.record(
                "view", actor=world.counsellor, obj=world.active, changes={"n": n, "k": [n, n + 1]}
            )
            for n in range(10)
        ]


def verify(**kwargs) -> chain.ChainReport:
    return chain.verify_chain(chunk_size=7, **kwargs)  # small chunks: cross chunk borders


# --- the chain --------------------------------------------------------------------------------


def test_each_event_links_to_the_one_before(world):
    made = ten_events(world)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == ""
    for before, event in itertools.pairwise(rows):
        assert event.prev_hash == before.hash
        assert len(event.hash) == 64 and event.hash != before.hash
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    assert made[-1].seq == rows[-1].seq
    # Time follows the chain (taken under the head's lock).
    assert [e.at for e in rows[-10:]] == sorted(e.at for e in rows[-10:])


def test_the_hash_recomputes_identically_after_a_round_trip(world):
    """What is hashed at write time is what either database gives back: JSON keys in any
    order, floats and huge whole floats, text beyond ASCII, microseconds, IPv6 spelled
    in a long form (PostgreSQL's inet rewrites it)."""
    tricky = {
        "zeta": 1,
        "alpha": {"b": [1.5, 0.1 + 0.2, 1e16, -0.0, 2.0, 1e-7], "a": None},
        10: True,
        "naïve": "Zoë → ✓ 😀",
        "nan": float("nan"),
    }
    events = []
    for ip in ["2001:0db8:0000:0000:0000:0000:0000:0001", "::ffff:10.1.2.3", "10.1.2.3", None]:
        with request_context(client_ip=ip, path="/ü/", source="test"):
            events.append(audit.record("change", actor=world.director, changes=tricky))
    with request_context(client_ip="not an address"):
        events.append(audit.record("view", actor=world.director, object_type="x"))
    for made in events:
        stored = AuditEvent.objects.get(pk=made.pk)
        fields = {name: getattr(stored, name) for name in chain.CHAIN_FIELDS}
        assert chain.link_hash(stored.prev_hash, stored.seq, fields) == stored.hash
        assert stored.at == made.at  # microseconds kept
    assert AuditEvent.objects.get(pk=events[-1].pk).client_ip is None  # forged header
    assert AuditEvent.objects.get(pk=events[0].pk).changes["alpha"]["b"][2] == 10**16
    assert verify().ok


def test_an_event_rolled_back_with_its_transaction_leaves_no_gap(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("change", actor=world.director, object_type="x")
        raise RuntimeError("the service failed after auditing")
    audit.record("change", actor=world.director, object_type="y")
    assert verify().ok


def test_the_head_is_made_again_from_the_last_event_after_a_flush(world):
    """After `flush` (the test runner between transactional tests) the head row is gone;
    the next event recreates it from the last event, so the chain goes on."""
    ten_events(world)
    last = AuditEvent.objects.order_by("-seq").first()
    lifted()
    sql("DELETE FROM core_auditchainhead")
    chain.install_triggers(connection)
    report = verify()
    assert not report.ok and "chain head is missing" in report.message
    event = audit.record("view", actor=world.director, object_type="z")
    assert (event.seq, event.prev_hash) == (last.seq + 1, last.hash)
    assert verify().ok


# --- verification over a log made by the app ------------------------------------------------


def test_verify_passes_on_a_log_written_by_the_apps_pages_and_services(world):
    """Hundreds of events from the services (the world) and from every page of the
    application, each opened by the persona allowed to open it."""
    from openiop.tests.test_url_access import RULES

    for name, rule in sorted(RULES.items()):
        client = Client(raise_request_exception=False)
        client.force_login(world.users[rule.allowed])
        try:
            url = reverse(name, kwargs=rule.kwargs(world))
        except Exception:  # noqa: S112  (a page another change broke is not this test's)
            continue
        client.get(url)
    client = Client()
    client.force_login(world.compliance)
    client.post(reverse("core:audit_log"), {"participant": world.active.record_number})
    client.post(reverse("core:audit_verify"))
    count = AuditEvent.objects.count()
    assert count >= 300
    report = verify()
    assert report.ok, report.message
    assert report.events == AuditChainHead.objects.get().seq
    assert report.message.startswith(f"OK: {report.events} events")
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert f"OK: {count} events" in out.getvalue()
    assert f"Anchor for a later run: {count}:" in out.getvalue()


# --- tampering is detected --------------------------------------------------------------------


def test_an_edited_event_is_named(world):
    events = ten_events(world)
    target = events[4]
    lifted()
    sql("UPDATE core_auditevent SET reason = %s WHERE id = %s", ["nothing to see", target.pk])
    report = verify()
    assert not report.ok
    assert report.message == (
        f"BROKEN: event #{target.pk} (seq {target.seq}) was altered: its hash does not match "
        "its contents."
    )
    assert (report.broken_seq, report.broken_event_id) == (target.seq, target.pk)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_username", "someone else"),
        ("action", "change"),
        ("object_id", "999"),
        ("participant_id", 424242),
        ("client_ip", "10.9.9.9"),
        ("path", "/elsewhere/"),
        ("source", "command"),
        ("request_id", "0" * 32),
        ("changes", '{"n": 99, "k": [4, 5]}'),
    ],
)
def test_every_recorded_field_is_covered_by_the_hash(world, column, value):
    target = ten_events(world)[3]
    lifted()
    sql(f"UPDATE core_auditevent SET {column} = %s WHERE id = %s", [value, target.pk])  # noqa: S608
    report = verify()
    assert not report.ok and report.broken_event_id == target.pk, report.message


def test_an_edited_time_is_detected(world):
    target = ten_events(world)[3]
    lifted()
    AuditEvent.objects.filter(pk=target.pk).update(at=target.at.replace(microsecond=0))
    assert verify().broken_event_id == target.pk


def test_an_edited_event_whose_hash_was_recomputed_breaks_the_next_link(world):
    events = ten_events(world)
    target, following = events[4], events[5]
    lifted()
    forged = {name: getattr(target, name) for name in chain.CHAIN_FIELDS}
    forged["reason"] = "forged"
    digest = chain.link_hash(target.prev_hash, target.seq, forged)
    sql(
        "UPDATE core_auditevent SET reason = %s, hash = %s WHERE id = %s",
        ["forged", digest, target.pk],
    )
    report = verify()
    assert report.message.startswith(
        f"BROKEN: event #{following.pk} (seq {following.seq}) is not linked to seq {target.seq}"
    )


def test_a_deleted_event_in_the_middle_is_named_by_its_seq(world):
    events = ten_events(world)
    before, gone, after = events[3], events[4], events[5]
    lifted()
    sql("DELETE FROM core_auditevent WHERE id = %s", [gone.pk])
    report = verify()
    assert report.message == (
        f"BROKEN: seq {gone.seq} is missing: the event between #{before.pk} (seq {before.seq}) "
        f"and #{after.pk} (seq {after.seq}) was deleted."
    )
    assert report.broken_seq == gone.seq


def test_several_deleted_events_are_counted(world):
    events = ten_events(world)
    lifted()
    sql(
        "DELETE FROM core_auditevent WHERE id IN (%s, %s, %s)",
        [events[2].pk, events[3].pk, events[4].pk],
    )
    report = verify()
    assert report.message.startswith(
        f"BROKEN: seq {events[2].seq}–{events[4].seq} are missing: the 3 events between "
        f"#{events[1].pk}"
    )


def test_the_first_event_deleted_is_reported(world):
    first = AuditEvent.objects.order_by("seq").first()
    lifted()
    sql("DELETE FROM core_auditevent WHERE id = %s", [first.pk])
    report = verify()
    assert report.message.startswith("BROKEN: seq 1 is missing: the first event of the log")


def test_events_deleted_at_the_end_are_reported_through_the_head(world):
    events = ten_events(world)
    lifted()
    sql("DELETE FROM core_auditevent WHERE id IN (%s, %s)", [events[-1].pk, events[-2].pk])
    report = verify()
    assert report.message == (
        f"BROKEN: the chain head says the log ends at seq {events[-1].seq}, but it ends at seq "
        f"{events[-3].seq}: the last 2 events (after #{events[-3].pk} (seq {events[-3].seq})) "
        "were deleted."
    )


def test_a_head_that_disagrees_with_the_last_event_is_reported(world):
    ten_events(world)
    lifted()
    sql("UPDATE core_auditchainhead SET hash = %s", ["0" * 64])
    assert "the chain head's hash does not match the last event" in verify().message


def test_a_rewritten_log_is_caught_by_an_anchor_noted_down_earlier(world):
    """A tamperer who re-hashes every event after the one changed, and the head, leaves a
    consistent chain; the head noted down before (printed by every run) tells."""
    events = ten_events(world)
    anchor = (events[-1].seq, events[-1].hash)
    lifted()
    prev = events[3].prev_hash
    for event in AuditEvent.objects.filter(seq__gte=events[3].seq).order_by("seq"):
        fields = {name: getattr(event, name) for name in chain.CHAIN_FIELDS}
        if event.pk == events[3].pk:
            fields["reason"] = "rewritten"
        digest = chain.link_hash(prev, event.seq, fields)
        sql(
            "UPDATE core_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [fields["reason"], prev, digest, event.pk],
        )
        prev = digest
    sql("UPDATE core_auditchainhead SET hash = %s", [prev])
    assert verify().ok
    report = verify(anchor=anchor)
    assert not report.ok and "no longer has the hash noted down for it" in report.message
    assert verify(anchor=(10**9, "a" * 64)).message.endswith("is not in the log.")


# --- the database refuses changes ---------------------------------------------------------------


def refused(statement: str, params: list | None = None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        sql(statement, params)


def test_the_database_refuses_to_update_or_delete_events(world):
    event = ten_events(world)[0]
    assert chain.triggers_installed(connection)
    refused("UPDATE core_auditevent SET reason = 'x' WHERE id = %s", [event.pk])
    refused("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    refused("DELETE FROM core_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    if connection.vendor == "postgresql":
        refused("TRUNCATE core_auditevent")
        refused("TRUNCATE core_auditchainhead")
    assert AuditEvent.objects.get(pk=event.pk).reason == ""
    assert verify().ok


def test_the_database_lets_the_head_move_only_forward_to_a_real_event(world):
    events = ten_events(world)
    refused("UPDATE core_auditchainhead SET seq = seq - 2, hash = %s", [events[-3].hash])
    refused("UPDATE core_auditchainhead SET seq = seq + 1")
    refused("UPDATE core_auditchainhead SET hash = %s", ["0" * 64])
    refused("DELETE FROM core_auditchainhead")
    assert verify().ok


def test_the_model_refuses_too(world):
    event = ten_events(world)[0]
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def test_missing_triggers_are_reported_and_can_be_put_back(world):
    ten_events(world)
    lifted()
    report = verify()
    assert report.ok and not report.protected
    assert "triggers that refuse changes" in report.summary
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify", stdout=StringIO())
    assert raised.value.returncode == 3
    out = StringIO()
    call_command("audit", "protect", stdout=out)
    assert "refuses changes" in out.getvalue()
    assert chain.triggers_installed(connection) and verify().protected


# --- the command, the service, the job -------------------------------------------------------


def test_the_command_reports_the_first_broken_link_and_fails(world):
    events = ten_events(world)
    lifted()
    sql("UPDATE core_auditevent SET object_repr = 'x' WHERE id = %s", [events[2].pk])
    sql("DELETE FROM core_auditevent WHERE id = %s", [events[6].pk])
    chain.install_triggers(connection)
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify", stdout=out)
    assert raised.value.returncode == 1
    assert f"event #{events[2].pk} (seq {events[2].seq}) was altered" in out.getvalue()
    assert "missing" not in out.getvalue()  # the first broken link only


def test_the_command_checks_an_anchor(world):
    events = ten_events(world)
    out = StringIO()
    call_command("audit", "verify", "--anchor", f"{events[2].seq}:{events[2].hash}", stdout=out)
    assert out.getvalue().startswith("OK")
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit", "verify", "--anchor", "yesterday", stdout=StringIO())
    with pytest.raises(CommandError, match="altered"):
        call_command(
            "audit", "verify", "--anchor", f"{events[2].seq}:{'0' * 64}", stdout=StringIO()
        )


def test_a_verification_is_audited_with_its_outcome(world):
    report = audit.verify_log(actor=world.compliance)
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.object_type, event.actor_id) == (audit.VERIFY_TYPE, world.compliance.pk)
    assert event.changes["ok"] is True and event.changes["events"] == report.events
    assert event.reason == report.summary


def test_the_nightly_job_fails_when_the_log_was_altered(world):
    events = ten_events(world)
    assert jobs.verify_audit_chain("2026-01-01").startswith("OK")
    lifted()
    sql("DELETE FROM core_auditevent WHERE id = %s", [events[4].pk])
    chain.install_triggers(connection)
    with pytest.raises(jobs.AuditChainBroken, match=f"seq {events[4].seq} is missing"):
        jobs.verify_audit_chain("2026-01-02")


# --- writers at the same time ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    """Writers in several threads (own connections), each inside a longer transaction:
    they take turns on the head's lock (PostgreSQL) or the write lock (SQLite)."""
    from openiop.testing import make_user

    user = make_user("writer", [], [])
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(8):
                with transaction.atomic():
                    audit.record("view", actor=user, object_type="t", object_id=f"{n}-{i}")
                    time.sleep(0.002)  # other work in the same transaction
                    audit.record("change", actor=user, object_type="t", object_id=f"{n}-{i}")
        except BaseException as exc:  # pragma: no cover  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert AuditEvent.objects.filter(object_type="t").count() == 64
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    report = chain.verify_chain()
    assert report.ok and report.protected, report.message


# --- the data migration ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_events_written_before_it_in_id_order():
    from django.db.migrations.executor import MigrationExecutor

    before = [("core", "0003_security")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("core", "AuditEvent")
        ids = [
            old.objects.create(
                actor_username=f"u{n}", action="view", object_type="x", changes={"n": n}
            ).pk
            for n in range(2500)  # more than one batch of the migration
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(AuditEvent.objects.order_by("seq").values_list("id", "seq"))
    assert rows == [(pk, n) for n, pk in enumerate(ids, start=1)]
    assert chain.triggers_installed(connection)
    report = chain.verify_chain()
    assert report.ok and report.events == 2500 and report.head_seq == 2500
    assert audit.record("view", actor=None, object_type="after").seq == 2501


def test_events_written_together_extend_the_same_chain(world, django_assert_num_queries):
    """Issue 12: `record_many` (an API page's events, one per participant) writes the
    same chain as `record`, in n + 2 queries (lock, insert, the head moved per event)."""
    ten_events(world)
    events = [
        {"object_type": "fhir.Patient", "participant_id": world.active.pk, "changes": {"n": n}}
        for n in range(7)
    ]
    with request_context(client_ip="10.0.0.8", path="/fhir/R4/Patient", source="test"):
        with django_assert_num_queries(7 + 2):
            assert audit.record_many("view", actor=world.counsellor, events=events) == 7
        audit.record("view", actor=world.counsellor, obj=world.active)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + len(rows)))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert verify().ok
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    assert audit.record_many("view", actor=world.counsellor, events=[]) == 0
