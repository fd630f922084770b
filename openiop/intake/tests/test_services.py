"""The intake rules as the services enforce them: referrals, duplicates, closing,
screening, signing assessments and admission. Every refusal says why and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.core.models import AuditEvent
from openiop.instruments.models import SafetyAlert
from openiop.intake import services
from openiop.intake.choices import AssessmentStatus, Outcome
from openiop.intake.models import Admission, Assessment, Diagnosis, PreScreen, Referral
from openiop.intake.prescreen import QUESTIONS
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant

pytestmark = pytest.mark.django_db

IDENTITY = {
    "legal_first_name": "Robin",
    "legal_last_name": "Hale",
    "date_of_birth": dt.date(1988, 2, 29),
}
DETAILS = {"reason": "Daily drinking; wants help.", "urgency": "routine"}
RATINGS_21 = [1, 1, 2, 2, 2, 1]  # → 2.1 by the "any dimension 2" rule


def referral(world, **kw):
    return services.create_referral(
        actor=world.intake,
        program=world.program,
        referral_source="self",
        referral_date=world.program.today() - dt.timedelta(days=5),
        details=DETAILS,
        identity=IDENTITY,
        **kw,
    )


def fits() -> dict:
    answers: dict = {q.code: "no" for q in QUESTIONS}
    answers.update(stable_housing="yes", can_attend="yes", has_transport="yes", motivation=8)
    return answers


def values(world, ratings=RATINGS_21, **extra):
    out = {
        "assessed_on": world.program.today(),
        "form_source": "openiop",
        "summary": "",
        "chosen_level": "",
        "override_reason": "",
        **{f"rating_{n}": r for n, r in enumerate(ratings, start=1)},
        **{f"narrative_{n}": f"Findings {n}" for n in range(1, 7)},
    }
    out.update(extra)
    return out


def signed(world, ref, **extra):
    a = services.start_assessment(
        ref.episode, actor=world.intake, values=values(world), kind="initial", edition="3"
    )
    return services.sign_assessment(
        a, actor=world.intake, values=values(world, **extra), expected_version=a.version
    )


def admit(world, episode, **kw):
    args = {
        "identity": {},
        "level_of_care": "3:2.1",
        "track": world.program.tracks.first(),
        "primary_counsellor": world.counsellor,
        "admission_date": world.program.today(),
        "diagnoses": [services.DiagnosisInput("F10.20", primary=True)],
        "consent_signed_on": world.program.today(),
        "consent_signature": "Robin Hale",
        "notice_given_on": world.program.today(),
        "notice_acknowledged": True,
    }
    args.update(kw)
    return services.admit(episode, actor=world.intake, **args)


def test_a_referral_registers_the_person_and_opens_a_referred_episode(world):
    ref = referral(world)
    assert ref.participant.legal_name == "Robin Hale"
    assert ref.episode.status == S.REFERRED
    assert AuditEvent.objects.filter(object_type="intake.referral", action="create").exists()


def test_a_returning_person_gets_a_new_episode_on_their_record(world):
    first = referral(world)
    services.close_referral(
        first,
        actor=world.intake,
        outcome=Outcome.NOT_ADMITTED,
        effective_date=world.program.today(),
        reason_code="declined",
    )
    dupes = list(
        services.possible_duplicates(
            [world.program.pk], last_name="hale", date_of_birth=IDENTITY["date_of_birth"]
        )
    )
    assert [p.pk for p in dupes] == [first.participant_id]
    again = referral(world, participant=first.participant)
    assert again.participant_id == first.participant_id
    assert Participant.objects.filter(legal_last_name="Hale").count() == 1
    with pytest.raises(services.IntakeRefused, match="already has an open episode"):
        referral(world, participant=first.participant)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": Outcome.NOT_ADMITTED}, "Choose why"),
        ({"outcome": Outcome.NOT_ADMITTED, "reason_code": "other"}, "Say why"),
        ({"outcome": Outcome.REFERRED_ELSEWHERE, "note": "Needs residential"}, "Say where"),
        ({"outcome": Outcome.REFERRED_ELSEWHERE, "referred_to": "Bayview"}, "Say why"),
        ({"outcome": Outcome.ADMITTED}, "not admitted or referred elsewhere"),
    ],
)
def test_closing_needs_its_reasons(world, kwargs, message):
    ref = referral(world)
    with pytest.raises(services.IntakeRefused, match=message):
        services.close_referral(
            ref, actor=world.intake, effective_date=world.program.today(), **kwargs
        )
    ref.refresh_from_db()
    assert ref.outcome == "" and ref.episode.status == S.REFERRED


def test_referred_elsewhere_records_to_whom_and_why(world):
    ref = referral(world)
    services.close_referral(
        ref,
        actor=world.intake,
        outcome=Outcome.REFERRED_ELSEWHERE,
        effective_date=world.program.today(),
        referred_to="Bayview Residential",
        note="Needs 24-hour structure",
    )
    ref.refresh_from_db()
    assert ref.outcome == Outcome.REFERRED_ELSEWHERE and ref.referred_to == "Bayview Residential"
    assert ref.episode.status == S.REFERRED_ELSEWHERE
    assert "Bayview" in ref.episode.transitions.last().reason
    with pytest.raises(services.IntakeRefused, match="closed"):
        services.log_contact(ref, actor=world.intake, method="phone", outcome="reached")


def test_a_screen_moves_the_referral_to_screening_and_keeps_its_flags(world):
    ref = referral(world)
    answers = fits() | {"withdrawal_now": "yes", "has_transport": "unknown"}
    screen = services.record_prescreen(
        ref.episode, actor=world.intake, answers=answers, screened_on=world.program.today()
    )
    assert not screen.fits
    severities = {f["question"]: f["severity"] for f in screen.flags}
    assert severities["withdrawal_now"] == "refer"
    assert severities["has_transport"] == "unanswered"
    ref.episode.refresh_from_db()
    assert ref.episode.status == S.SCREENING
    assert not SafetyAlert.objects.filter(participant=ref.participant).exists()


def test_suicidal_thoughts_at_screening_raise_a_safety_alert(world):
    ref = referral(world)
    services.record_prescreen(
        ref.episode,
        actor=world.intake,
        answers=fits() | {"suicidal": "yes"},
        screened_on=world.program.today(),
    )
    alert = SafetyAlert.objects.get(participant=ref.participant)
    assert (alert.participant_id, alert.risk, alert.source) == (
        ref.participant_id,
        "high",
        "Pre-admission screen",
    )


def test_a_bad_screen_answer_is_refused_and_writes_nothing(world):
    ref = referral(world)
    with pytest.raises(ValueError):
        services.record_prescreen(
            ref.episode,
            actor=world.intake,
            answers=fits() | {"motivation": 11},
            screened_on=world.program.today(),
        )
    assert not PreScreen.objects.filter(episode=ref.episode).exists()


def test_signing_recommends_the_level_and_moves_the_referral_to_assessed(world):
    ref = referral(world)
    a = signed(world, ref)
    assert a.status == AssessmentStatus.SIGNED
    assert (a.recommended_level, a.chosen_level) == ("3:2.1", "3:2.1")
    assert a.signed_by == world.intake and a.signed_at is not None
    ref.episode.refresh_from_db()
    assert ref.episode.status == S.ASSESSED
    statuses = list(ref.episode.transitions.values_list("to_status", flat=True))
    assert statuses == [S.REFERRED, S.SCREENING, S.ASSESSED]
    with pytest.raises(services.IntakeRefused, match="never changes"):
        services.save_assessment(a, actor=world.intake, values={}, expected_version=a.version)


def test_an_override_without_a_reason_is_refused(world):
    ref = referral(world)
    a = services.start_assessment(
        ref.episode, actor=world.intake, values=values(world), kind="initial", edition="3"
    )
    with pytest.raises(services.IntakeRefused, match="reason"):
        services.sign_assessment(
            a,
            actor=world.intake,
            values=values(world, chosen_level="3:2.5"),
            expected_version=a.version,
        )
    a.refresh_from_db()
    assert a.status == AssessmentStatus.DRAFT
    a = services.sign_assessment(
        a,
        actor=world.intake,
        values=values(world, chosen_level="3:2.5", override_reason="Lives alone; relapsed twice."),
        expected_version=a.version,
    )
    assert a.overridden and a.chosen_level == "3:2.5"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating_3": None}, "Rate every dimension"),
        ({"narrative_5": "  "}, "Write what you found"),
        ({"form_source": "licensed"}, "Name the licensed tool"),
    ],
)
def test_signing_needs_every_rating_and_finding(world, change, message):
    ref = referral(world)
    a = services.start_assessment(
        ref.episode, actor=world.intake, values=values(world), kind="initial", edition="3"
    )
    with pytest.raises(services.IntakeRefused, match=message):
        services.sign_assessment(
            a, actor=world.intake, values=values(world, **change), expected_version=a.version
        )
    assert Assessment.objects.get(episode=ref.episode).status == AssessmentStatus.DRAFT


def test_admission_records_diagnoses_consents_and_time_to_admission(world):
    ref = referral(world)
    signed(world, ref)
    admission = admit(
        world,
        ref.episode,
        diagnoses=[
            services.DiagnosisInput("f1020", primary=True),
            services.DiagnosisInput("F41.1"),
        ],
    )
    ref.refresh_from_db()
    ep = ref.episode
    ep.refresh_from_db()
    assert ep.status == S.ADMITTED and ep.primary_counsellor == world.counsellor
    assert ep.admission_date == world.program.today()
    assert ref.outcome == Outcome.ADMITTED and ref.days_to_admission == 5
    dx = Diagnosis.objects.filter(episode=ep)
    assert sorted(dx.values_list("code", "primary")) == [("F10.20", True), ("F41.1", False)]
    assert dx.get(code="F10.20").description.startswith("Alcohol dependence")
    assert admission.notice_acknowledged and admission.treatment_consent_signature == "Robin Hale"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"diagnoses": []}, "at least one diagnosis"),
        ({"diagnoses": [services.DiagnosisInput("F41.1", primary=True)]}, "substance use"),
        ({"diagnoses": [services.DiagnosisInput("F10.20")]}, "exactly one"),
        ({"diagnoses": [services.DiagnosisInput("10.20", primary=True)]}, "ICD-10"),
        (
            {
                "diagnoses": [
                    services.DiagnosisInput("F10.20", primary=True),
                    services.DiagnosisInput("f10.20"),
                ]
            },
            "twice",
        ),
        ({"notice_acknowledged": False}, "confidentiality notice"),
        ({"consent_signature": "  "}, "signature"),
        ({"level_of_care": "3:2.5"}, "different level"),
        ({"admission_date": dt.date(2099, 1, 1)}, "future"),
    ],
)
def test_admission_refusals_say_why_and_change_nothing(world, kwargs, message):
    ref = referral(world)
    signed(world, ref)
    with pytest.raises(services.IntakeRefused, match=message):
        admit(world, ref.episode, **kwargs)
    ref.episode.refresh_from_db()
    assert ref.episode.status == S.ASSESSED
    assert not Admission.objects.filter(episode=ref.episode).exists()
    assert not Diagnosis.objects.filter(episode=ref.episode).exists()
    assert Referral.objects.get(pk=ref.pk).outcome == ""


def test_admission_needs_a_signed_assessment(world):
    ref = referral(world)
    with pytest.raises(services.IntakeRefused, match="signed assessment"):
        admit(world, ref.episode)
