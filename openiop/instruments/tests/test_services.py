"""Recording answers, safety alerts and who sees them, program settings and due lists."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.instruments import services
from openiop.instruments.due import GRACE_DAYS, due_for
from openiop.instruments.models import InstrumentResponse, Occasion, SafetyAlert
from openiop.instruments.safety import open_alerts_for
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode
from openiop.testing import make_participant, make_user

pytestmark = pytest.mark.django_db

PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]
PHQ9_CALM = [0, 1, 0, 0, 1, 0, 0, 0, 0]


def give(world, participant, answers, code="PHQ-9", day=None, actor=None):
    return services.record_response(
        participant,
        actor=actor or world.intake,
        instrument=code,
        answers=answers,
        administered_on=day or world.program.today(),
        occasion=Occasion.SCHEDULED,
    )


def test_a_response_keeps_the_score_band_and_flags(world):
    r = give(world, world.active, PHQ9_CALM)
    assert (r.total, r.band, r.severity) == (2, "Minimal depression", 0)
    assert r.flags == [] and r.episode_id == world.active.current_episode_id
    assert not SafetyAlert.objects.filter(response=r).exists()


def test_bad_answers_and_future_dates_are_refused_and_write_nothing(world):
    before = InstrumentResponse.objects.count()
    with pytest.raises(ValueError, match="9 items"):
        give(world, world.active, [0] * 8)
    with pytest.raises(ValueError, match="future"):
        give(world, world.active, PHQ9_CALM, day=world.program.today() + dt.timedelta(days=1))
    assert InstrumentResponse.objects.count() == before


def test_an_instrument_switched_off_is_refused(world):
    services.save_settings(
        world.program,
        actor=world.director,
        rows={"DAST-10": {"enabled": False, "routine": False, "interval_days": 14}},
    )
    with pytest.raises(ValueError, match="switched off"):
        give(world, world.active, [0] * 10, code="DAST-10")


def test_item_9_raises_an_alert_for_the_counsellor_and_supervisor_not_others(world):
    r = give(world, world.active, PHQ9_ITEM9)
    alert = SafetyAlert.objects.get(response=r)
    assert alert.risk == "high" and alert.is_open
    assert alert in open_alerts_for(world.counsellor)  # primary counsellor
    assert alert in open_alerts_for(world.supervisor)
    assert alert in open_alerts_for(world.director)
    colleague = make_user("colleague", ["counsellor"], [world.program])
    assert alert not in open_alerts_for(colleague)  # not on this participant's team
    for outsider in (world.lab, world.billing, world.outsider, world.norole):
        assert alert not in open_alerts_for(outsider)


def test_an_alert_stays_until_a_response_is_documented(world):
    alert = SafetyAlert.objects.get(response=give(world, world.active, PHQ9_ITEM9))
    with pytest.raises(ValueError, match="Describe the response"):
        services.respond_to_alert(
            alert, actor=world.counsellor, actions=["assessed"], risk_after="low", note=" "
        )
    assert alert in open_alerts_for(world.counsellor)
    services.respond_to_alert(
        alert,
        actor=world.counsellor,
        actions=["assessed", "safety_plan"],
        risk_after="moderate",
        note="Seen same day; safety plan updated.",
    )
    assert alert not in open_alerts_for(world.counsellor)
    alert.refresh_from_db()
    assert alert.resolved_by == world.counsellor and alert.risk_after == "moderate"
    with pytest.raises(services.AlertAlreadyResolved):
        services.respond_to_alert(
            alert, actor=world.supervisor, actions=[], risk_after="low", note="Again"
        )


def test_a_referral_alert_reaches_intake_before_anyone_is_counsellor(world):
    referred = make_participant(world.program, world.director, last="Nocounsellor")
    r = give(world, referred, PHQ9_ITEM9, actor=world.director)
    alert = SafetyAlert.objects.get(response=r)
    assert alert in open_alerts_for(world.intake)


def test_due_at_admission_then_every_interval(world):
    p = make_participant(
        world.program, world.intake, last="Due", status=S.ACTIVE, counsellor=world.counsellor
    )
    ep = Episode.objects.select_related("program", "participant").get(pk=p.current_episode_id)
    today = world.program.today()
    codes = {d.instrument.code for d in due_for([ep])}
    assert codes == {"PHQ-9", "GAD-7", "BAM", "CRAVING", "BARC-10"}
    admission = next(d for d in due_for([ep]) if d.instrument.code == "PHQ-9")
    assert admission.due_on == ep.admission_date and admission.occasion == Occasion.ADMISSION
    late = (today - ep.admission_date).days > GRACE_DAYS
    assert admission.state == ("overdue" if late else "due")
    give(world, p, PHQ9_CALM, day=today - dt.timedelta(days=10))
    assert "PHQ-9" not in {d.instrument.code for d in due_for([ep], soon_days=0)}
    soon = next(d for d in due_for([ep], soon_days=4) if d.instrument.code == "PHQ-9")
    assert soon.due_on == today + dt.timedelta(days=4) and soon.state == "soon"
    give(world, p, PHQ9_CALM, day=today - dt.timedelta(days=30))  # an older one changes nothing
    assert "PHQ-9" not in {d.instrument.code for d in due_for([ep], soon_days=0)}


def test_a_program_chooses_what_is_routine_and_how_often(world):
    p = make_participant(
        world.program, world.intake, last="Routine", status=S.ACTIVE, counsellor=world.counsellor
    )
    services.save_settings(
        world.program,
        actor=world.director,
        rows={
            "PHQ-9": {"enabled": True, "routine": True, "interval_days": 7},
            "GAD-7": {"enabled": True, "routine": False, "interval_days": 14},
            "PCL-5": {"enabled": False, "routine": True, "interval_days": 14},
        },
    )
    ep = Episode.objects.select_related("program", "participant").get(pk=p.current_episode_id)
    codes = {d.instrument.code for d in due_for([ep])}
    assert "GAD-7" not in codes and "PCL-5" not in codes and "PHQ-9" in codes
    give(world, p, PHQ9_CALM, day=world.program.today() - dt.timedelta(days=8))
    assert "PHQ-9" in {d.instrument.code for d in due_for([ep], soon_days=0)}
