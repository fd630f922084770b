"""The discharge service, the summary's edits, signing, addenda and the hooks."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.core.models import AuditEvent, SignedRecordError
from openiop.core.records import StaleEdit
from openiop.discharge import hooks, services
from openiop.discharge.models import Discharge, DischargeSummary, SummaryAddendum
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, EpisodeTransition

pytestmark = pytest.mark.django_db


def discharge(world, participant, **changes):
    today = world.program.today()
    values = {
        "actor": world.counsellor,
        "reason": "completed",
        "discharge_date": today,
        "last_contact_date": today - dt.timedelta(days=1),
    }
    values.update(changes)
    return services.discharge_participant(participant.current_episode, **values)


def test_discharge_moves_the_episode_and_opens_a_draft_summary(world, leaver):
    episode = leaver.current_episode
    record = discharge(world, leaver, teds={"sub1_d": 2, "freq1_d": 1, "employ_d": None})
    episode.refresh_from_db()
    assert episode.status == S.DISCHARGED
    assert episode.discharge_date == world.program.today()
    transition = EpisodeTransition.objects.filter(episode=episode).latest("at", "pk")
    assert transition.to_status == S.DISCHARGED
    assert transition.reason == "Completed treatment"
    assert record.level_at_discharge == episode.level_of_care == "3:2.1"
    assert (record.sub1_d, record.freq1_d, record.employ_d) == (2, 1, None)
    assert record.teds_reason == 1
    assert record.discharged_by == world.counsellor
    summary = record.summary
    assert summary.status == "draft"
    assert summary.facts["discharge"]["reason"] == "completed"
    assert summary.facts["dates"]["length_of_stay_days"] == 28
    assert summary.course.startswith("Attended 0 sessions")
    actions = set(
        AuditEvent.objects.filter(participant_id=leaver.pk, actor=world.counsellor).values_list(
            "object_type", "action"
        )
    )
    assert {
        ("discharge.discharge", "create"),
        ("discharge.dischargesummary", "create"),
        ("participants.episode", "transition"),
    } <= actions


def test_the_reason_and_detail_go_to_the_transition(world, leaver):
    discharge(world, leaver, reason="against_advice", reason_detail="Stopped coming after week 2")
    t = EpisodeTransition.objects.filter(episode=leaver.current_episode).latest("at", "pk")
    assert t.reason == "Left against clinical advice: Stopped coming after week 2"


def test_a_step_down_keeps_the_level_and_receiving_program(world, leaver):
    record = discharge(
        world,
        leaver,
        reason="step_down",
        reason_detail="Stable; ready for weekly therapy",
        next_level="4:1.5",
        receiving_program="Harbor Outpatient",
        receiving_contact="(207) 555-0199",
    )
    assert (record.next_level, record.receiving_program) == ("4:1.5", "Harbor Outpatient")
    assert record.teds_reason == 4
    assert record.summary.facts["discharge"]["next_level"] == "Level 1.5"


def test_a_step_up_to_a_lower_level_is_refused_and_nothing_is_kept(world, leaver):
    with pytest.raises(services.DischargeRefused, match="higher"):
        discharge(
            world,
            leaver,
            reason="step_up",
            reason_detail="x",
            next_level="3:1",
            receiving_program="Residential",
        )
    assert Episode.objects.get(pk=leaver.current_episode_id).status == S.ACTIVE
    assert not Discharge.objects.exists()


def test_one_discharge_per_episode(world, leaver):
    discharge(world, leaver)
    with pytest.raises(services.DischargeRefused, match="already been discharged"):
        discharge(world, leaver)
    assert Discharge.objects.count() == 1


def test_a_future_date_is_refused(world, leaver):
    tomorrow = world.program.today() + dt.timedelta(days=1)
    with pytest.raises(services.DischargeRefused, match="future"):
        discharge(world, leaver, discharge_date=tomorrow, last_contact_date=tomorrow)


def test_a_referred_participant_cannot_be_discharged(world):
    with pytest.raises(services.DischargeRefused, match="in care"):
        discharge(world, world.referred)


def test_roles_without_discharge_write_are_refused(world, leaver):
    with pytest.raises(services.DischargeRefused, match="roles"):
        discharge(world, leaver, actor=world.billing)


def test_a_teds_value_that_is_not_a_code_is_refused(world, leaver):
    with pytest.raises(services.DischargeRefused, match="not a code"):
        discharge(world, leaver, teds={"sub1_d": 99})
    with pytest.raises(services.DischargeRefused, match="not a TEDS"):
        discharge(world, leaver, teds={"sub2_d": 1})
    assert not Discharge.objects.exists()


def test_hooks_run_in_the_transaction(world, leaver, monkeypatch):
    seen = []
    monkeypatch.setattr(hooks, "_HOOKS", [lambda d, actor: seen.append((d.pk, actor))])
    record = discharge(world, leaver)
    assert seen == [(record.pk, world.counsellor)]


def test_a_failing_hook_rolls_the_discharge_back(world, leaver, monkeypatch):
    def boom(d, actor):
        raise RuntimeError("hook failed")

    monkeypatch.setattr(hooks, "_HOOKS", [boom])
    with pytest.raises(RuntimeError):
        discharge(world, leaver)
    assert Episode.objects.get(pk=leaver.current_episode_id).status == S.ACTIVE
    assert not Discharge.objects.exists() and not DischargeSummary.objects.exists()


def test_on_discharge_registers_once(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])

    def fn(d, actor):
        return None

    hooks.on_discharge(fn)
    hooks.on_discharge(fn)
    registered = hooks._HOOKS
    assert registered == [fn]


# --- the summary --------------------------------------------------------------------------


def test_save_checks_the_version(world, leaver):
    summary = discharge(world, leaver).summary
    saved = services.save_summary(
        summary,
        actor=world.counsellor,
        expected_version=summary.version,
        values={"condition": "Stable, sober 20 days."},
    )
    assert saved.version == summary.version + 1
    with pytest.raises(StaleEdit):
        services.save_summary(
            summary,
            actor=world.supervisor,
            expected_version=summary.version,
            values={"condition": "Overwritten"},
        )
    assert DischargeSummary.objects.get(pk=summary.pk).condition == "Stable, sober 20 days."


def test_refresh_reassembles_the_facts_of_a_draft(world, leaver):
    from .conftest import diagnose

    summary = discharge(world, leaver).summary
    assert summary.facts["diagnoses"] == []
    diagnose(leaver)
    refreshed = services.refresh_summary(
        summary, actor=world.counsellor, expected_version=summary.version
    )
    assert refreshed.facts["diagnoses"][0]["code"] == "F10.20"


def test_signing_locks_the_summary_for_good(world, leaver):
    summary = discharge(world, leaver).summary
    signed = services.sign_summary(
        summary, actor=world.counsellor, expected_version=summary.version
    )
    assert signed.is_signed and signed.signed_by == world.counsellor
    assert signed.signed_by_name == "Counsellor Tester"
    assert len(signed.content_sha256) == 64
    assert signed.content_sha256 == services.content_hash(signed)
    with pytest.raises(SignedRecordError):
        services.save_summary(
            signed,
            actor=world.counsellor,
            expected_version=signed.version,
            values={"course": "changed"},
        )
    with pytest.raises(SignedRecordError):
        services.refresh_summary(signed, actor=world.counsellor, expected_version=signed.version)
    with pytest.raises(SignedRecordError):
        services.sign_summary(signed, actor=world.counsellor, expected_version=signed.version)
    # The model itself refuses, whatever the path.
    row = DischargeSummary.objects.get(pk=signed.pk)
    row.course = "changed behind the service's back"
    with pytest.raises(SignedRecordError):
        row.save()
    with pytest.raises(SignedRecordError):
        row.save(update_fields=["course"])


def test_addenda_on_a_signed_summary_only(world, leaver):
    summary = discharge(world, leaver).summary
    with pytest.raises(services.DischargeRefused, match="signed summary"):
        services.add_addendum(summary, actor=world.counsellor, text="Later note")
    signed = services.sign_summary(
        summary, actor=world.counsellor, expected_version=summary.version
    )
    addendum = services.add_addendum(signed, actor=world.supervisor, text="  Called: doing well. ")
    assert addendum.text == "Called: doing well."
    assert addendum.signed_by_name == "Supervisor Tester"
    with pytest.raises(services.DischargeRefused):
        services.add_addendum(signed, actor=world.counsellor, text="   ")
    assert SummaryAddendum.objects.count() == 1


def test_summaries_to_sign_are_the_caseload_drafts(world, leaver):
    summary = discharge(world, leaver).summary
    assert list(services.summaries_to_sign(world.counsellor)) == [summary]
    assert list(services.summaries_to_sign(world.supervisor)) == []
    services.sign_summary(summary, actor=world.counsellor, expected_version=summary.version)
    assert list(services.summaries_to_sign(world.counsellor)) == []
