"""Participant and episode services: history, audit, refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.core.models import AuditEvent
from openiop.core.records import StaleEdit
from openiop.participants import lifecycle, services
from openiop.participants.access import visible_participants
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import (
    Episode,
    EpisodeTransition,
    Participant,
    format_record_number,
    luhn_digit,
)
from openiop.testing import make_participant, make_user

pytestmark = pytest.mark.django_db


def test_registration_opens_a_referred_episode_with_a_record_number(world):
    p = world.referred
    assert p.record_number.startswith("OI-")
    assert p.current_episode.status == S.REFERRED
    assert list(p.current_episode.transitions.values_list("to_status", flat=True)) == ["referred"]
    assert AuditEvent.objects.filter(participant_id=p.pk, action="create").count() == 2


def test_record_numbers_are_unique_and_check_digit_catches_typos():
    numbers = {format_record_number(n) for n in range(1, 2000)}
    assert len(numbers) == 1999
    assert format_record_number(123) == f"OI-000123-{luhn_digit('000123')}"


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=0, max_value=5))
def test_luhn_detects_any_single_digit_change(n, position):
    body = f"{n:06d}"
    wrong = body[:position] + str((int(body[position]) + 1) % 10) + body[position + 1 :]
    assert luhn_digit(body) != luhn_digit(wrong)


def test_full_path_records_every_step_and_dates(world):
    p = make_participant(
        world.program, world.intake, last="Path", status=S.ALUMNI, counsellor=world.counsellor
    )
    ep = p.current_episode
    steps = list(ep.transitions.values_list("from_status", "to_status"))
    assert steps == [
        ("", "referred"),
        ("referred", "screening"),
        ("screening", "assessed"),
        ("assessed", "admitted"),
        ("admitted", "active"),
        ("active", "discharged"),
        ("discharged", "alumni"),
    ]
    assert ep.admission_date and ep.discharge_date and ep.discharge_date >= ep.admission_date
    assert ep.version == 7
    assert (
        AuditEvent.objects.filter(
            object_type="participants.episode", object_id=str(ep.pk), action="transition"
        ).count()
        == 6
    )


def test_refused_transition_changes_nothing(world):
    ep = world.referred.current_episode
    before = (ep.version, EpisodeTransition.objects.count(), AuditEvent.objects.count())
    with pytest.raises(lifecycle.TransitionRefused):
        services.transition_episode(
            ep, S.ACTIVE, actor=world.counsellor, effective_date=world.program.today()
        )
    ep.refresh_from_db()
    assert ep.status == S.REFERRED
    assert (ep.version, EpisodeTransition.objects.count(), AuditEvent.objects.count()) == before


def test_admission_form_values_are_not_saved_when_refused(world):
    p = make_participant(world.program, world.intake, last="Assessed", status=S.ASSESSED)
    ep = p.current_episode
    with pytest.raises(lifecycle.TransitionRefused):
        services.transition_episode(
            ep,
            S.ADMITTED,
            actor=world.intake,
            effective_date=world.program.today(),
            changes={
                "track": world.program.tracks.first(),
                "level_of_care": "3:2.1",
                "primary_counsellor": None,
            },
        )
    ep.refresh_from_db()
    assert ep.track_id is None and ep.status == S.ASSESSED


def test_only_one_open_episode(world):
    with pytest.raises(services.EpisodeAlreadyOpen):
        services.open_episode(
            world.active,
            actor=world.intake,
            program=world.program,
            referral_source="self",
            referral_date=world.program.today(),
        )
    assert Episode.objects.filter(participant=world.active).count() == 1


def test_returning_participant_gets_a_new_episode_and_keeps_history(world):
    p = make_participant(world.program, world.intake, last="Back", status=S.DISCHARGED)
    old = p.current_episode
    new = services.open_episode(
        p,
        actor=world.intake,
        program=world.program,
        referral_source="family",
        referral_date=world.program.today(),
    )
    p.refresh_from_db()
    assert p.current_episode == new and new != old
    assert old.transitions.count() == 6


def test_stale_edit_is_refused_not_overwritten(world):
    p = world.referred
    services.update_participant(
        p, actor=world.counsellor, changes={"phone": "(207) 555-0199"}, expected_version=p.version
    )
    with pytest.raises(StaleEdit):
        services.update_participant(
            p, actor=world.intake, changes={"phone": "(207) 555-0000"}, expected_version=p.version
        )  # the version they opened
    p.refresh_from_db()
    assert p.phone == "(207) 555-0199"


def test_update_audits_the_change_with_before_and_after(world):
    p = world.referred
    services.update_participant(
        p, actor=world.counsellor, changes={"pronouns": "they/them"}, expected_version=p.version
    )
    event = AuditEvent.objects.filter(participant_id=p.pk, action="change").latest("id")
    assert event.changes == {"pronouns": ["", "they/them"]}
    assert event.actor_username == "counsellor"


def test_clinical_records_cannot_be_deleted(world):
    with pytest.raises(TypeError, match="void"):
        world.referred.delete()
    with pytest.raises(TypeError, match="void"):
        world.referred.current_episode.delete()


def test_care_team_narrowing(world):
    program = world.program
    program.counsellors_see_care_team_only = True
    program.save()
    other_counsellor = make_user("c2", ["counsellor"], [program])
    mine = make_participant(
        program, world.intake, last="Mine", status=S.ACTIVE, counsellor=world.counsellor
    )
    theirs = make_participant(
        program, world.intake, last="Theirs", status=S.ACTIVE, counsellor=other_counsellor
    )
    for u in (world.counsellor, other_counsellor, world.supervisor):
        u.forget_cached_access()
    mine_visible = set(visible_participants(world.counsellor))
    assert mine in mine_visible and theirs not in mine_visible
    # Supervisors oversee the whole program.
    assert {mine, theirs} <= set(visible_participants(world.supervisor))
    # Joining the care team opens the record.
    ep = theirs.current_episode
    services.update_episode(
        ep,
        actor=world.supervisor,
        changes={},
        care_team=[world.counsellor],
        expected_version=ep.version,
    )
    assert theirs in set(visible_participants(world.counsellor))


def test_outsider_and_voided_are_not_visible(world):
    assert world.foreign not in set(visible_participants(world.counsellor))
    Participant.objects.filter(pk=world.referred.pk).update(voided=True, void_reason="duplicate")
    assert world.referred not in set(visible_participants(world.counsellor))


def test_days_in_program(world):
    ep = world.active.current_episode
    today = ep.admission_date + dt.timedelta(days=10)
    assert ep.days_in_program(today) == 10


def test_closed_episodes_are_not_edited(world):
    p = make_participant(world.program, world.intake, last="Closed", status=S.DISCHARGED)
    ep = p.current_episode
    with pytest.raises(services.EpisodeClosed):
        services.update_episode(
            ep,
            actor=world.supervisor,
            changes={"track": None},
            care_team=[],
            expected_version=ep.version,
        )
    ep.refresh_from_db()
    assert ep.track is not None


def test_void_requires_a_reason_and_happens_once(world):
    with pytest.raises(ValueError, match="reason"):
        services.void_participant(world.referred, actor=world.director, reason=" ")
    services.void_participant(world.referred, actor=world.director, reason="Wrong person")
    with pytest.raises(services.AlreadyVoided):
        services.void_participant(world.referred, actor=world.director, reason="Again")
