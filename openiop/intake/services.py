"""Every write of the intake area: referrals, contact attempts, closing a referral,
pre-admission screens, ASAM assessments and admission. Each function is atomic and
audited; refusals raise `IntakeRefused` (or `lifecycle.TransitionRefused`) with a
message the user can act on, and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import lock_for_edit, save_change
from openiop.instruments import services as instrument_services
from openiop.instruments.models import AlertRisk
from openiop.participants import lifecycle
from openiop.participants import services as participant_services
from openiop.participants.choices import PRE_ADMISSION, EpisodeStatus
from openiop.participants.models import Episode, Participant

from . import asam, icd10, prescreen
from .choices import AssessmentStatus, NotAdmittedReason, Outcome
from .models import Admission, Assessment, ContactAttempt, Diagnosis, PreScreen, Referral

REFERRAL_FIELDS = [
    "urgency",
    "referrer_name",
    "referrer_organisation",
    "referrer_phone",
    "referrer_email",
    "reason",
    "insurance_payer",
    "insurance_member_id",
    "insurance_verified",
    "assigned_to",
]
ASSESSMENT_FIELDS = [
    "assessed_on",
    "form_source",
    "licensed_tool",
    "licensed_reference",
    *[f"rating_{n}" for n in range(1, 7)],
    *[f"narrative_{n}" for n in range(1, 7)],
    "summary",
    "chosen_level",
    "override_reason",
]


class IntakeRefused(Exception):
    """A step the intake rules do not allow now; the message says why."""


# --- referrals ------------------------------------------------------------------------


def possible_duplicates(program_ids: list[int], *, last_name: str, date_of_birth: dt.date):
    """Participants who may be the person being referred: same birth date and surname."""
    return (
        Participant.objects.filter(
            program_id__in=program_ids,
            voided=False,
            date_of_birth=date_of_birth,
            legal_last_name__iexact=last_name.strip(),
        )
        .select_related("current_episode")
        .order_by("pk")[:5]
    )


def create_referral(
    *,
    actor: Any,
    program: Any,
    referral_source: str,
    referral_date: dt.date,
    details: Mapping[str, Any],
    identity: Mapping[str, Any] | None = None,
    participant: Participant | None = None,
    at: dt.datetime | None = None,
) -> Referral:
    """Record a referral: a new participant, or a new episode of a returning one."""
    at = at or timezone.now()
    if referral_date > program.today(at):
        raise IntakeRefused("The referral date cannot be in the future.")
    with transaction.atomic():
        if participant is None:
            if identity is None:
                raise IntakeRefused("Give the person's name and date of birth.")
            participant = participant_services.register_participant(
                actor=actor,
                program=program,
                identity=dict(identity),
                referral_source=referral_source,
                referral_date=referral_date,
                at=at,
            )
            episode = participant.current_episode
        else:
            try:
                episode = participant_services.open_episode(
                    participant,
                    actor=actor,
                    program=program,
                    referral_source=referral_source,
                    referral_date=referral_date,
                    at=at,
                )
            except participant_services.EpisodeAlreadyOpen as exc:
                raise IntakeRefused(
                    f"{participant.display_name} ({participant.record_number}) already has an "
                    "open episode: add to that referral instead of starting another."
                ) from exc
        if episode is None:  # pragma: no cover - register_participant always opens one
            raise IntakeRefused("The referral episode could not be opened.")
        referral = Referral.objects.create(
            episode=episode,
            participant=participant,
            program=program,
            received_at=at,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            **{k: details[k] for k in REFERRAL_FIELDS if k in details},
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=referral,
            changes=audit.diff({}, audit.snapshot(referral, ["urgency", "referrer_organisation"])),
        )
    return referral


def referral_for(episode: Episode, *, actor: Any) -> Referral:
    """The episode's referral, created empty for an episode registered without one."""
    try:
        return episode.referral
    except Referral.DoesNotExist:
        pass
    with transaction.atomic():
        referral, created = Referral.objects.get_or_create(
            episode=episode,
            defaults={
                "participant_id": episode.participant_id,
                "program_id": episode.program_id,
                "received_at": episode.created_at,
                "reason": "",
                "created_by": actor,
                "updated_by": actor,
            },
        )
        if created:
            audit.record(AuditAction.CREATE, actor=actor, obj=referral)
    return referral


def update_referral(
    referral: Referral, *, actor: Any, changes: Mapping[str, Any], expected_version: int
) -> Referral:
    with transaction.atomic():
        current = lock_for_edit(Referral, referral.pk, expected_version, what="referral")
        if current.outcome:
            raise IntakeRefused("This referral is closed; its details are kept as they were.")
        before = audit.snapshot(current, REFERRAL_FIELDS)
        fields = [k for k in REFERRAL_FIELDS if k in changes]
        for key in fields:
            setattr(current, key, changes[key])
        save_change(
            current,
            actor=actor,
            fields=fields,
            changes=audit.diff(before, audit.snapshot(current, REFERRAL_FIELDS)),
        )
    return current


def log_contact(
    referral: Referral,
    *,
    actor: Any,
    method: str,
    outcome: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> ContactAttempt:
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise IntakeRefused("A contact attempt cannot be in the future.")
    if referral.outcome:
        raise IntakeRefused("This referral is closed; contact attempts are no longer logged.")
    with transaction.atomic():
        attempt = ContactAttempt.objects.create(
            referral=referral,
            at=at,
            method=method,
            outcome=outcome,
            note=note.strip()[:500],
            by=actor,
            by_name=participant_services._name(actor),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            object_type="intake.contactattempt",
            object_id=str(attempt.pk),
            object_repr=f"contact attempt {attempt.pk}",
            participant_id=referral.participant_id,
            changes={"method": [None, method], "outcome": [None, outcome]},
        )
    return attempt


def close_referral(
    referral: Referral,
    *,
    actor: Any,
    outcome: str,
    effective_date: dt.date,
    reason_code: str = "",
    referred_to: str = "",
    note: str = "",
) -> Referral:
    """Close as not admitted (with a reason) or referred elsewhere (to whom, why)."""
    note = note.strip()
    referred_to = referred_to.strip()
    if outcome == Outcome.NOT_ADMITTED:
        if reason_code not in NotAdmittedReason.values:
            raise IntakeRefused("Choose why the person was not admitted.")
        if reason_code == NotAdmittedReason.OTHER and not note:
            raise IntakeRefused("Say why the person was not admitted.")
        label = NotAdmittedReason(reason_code).label
        reason = f"{label}. {note}".strip() if note else label
        to_status = EpisodeStatus.NOT_ADMITTED
    elif outcome == Outcome.REFERRED_ELSEWHERE:
        if not referred_to:
            raise IntakeRefused("Say where the person was referred.")
        if not note:
            raise IntakeRefused("Say why the person was referred elsewhere.")
        reason = f"Referred to {referred_to}: {note}"
        to_status = EpisodeStatus.REFERRED_ELSEWHERE
        reason_code = ""
    else:
        raise IntakeRefused("A referral is closed as not admitted or referred elsewhere.")
    with transaction.atomic():
        current = Referral.objects.select_for_update().get(pk=referral.pk)
        if current.outcome:
            raise IntakeRefused(
                f"This referral is already closed ({current.get_outcome_display()})."
            )
        participant_services.transition_episode(
            current.episode, to_status, actor=actor, effective_date=effective_date, reason=reason
        )
        current.outcome = outcome
        current.closed_at = timezone.now()
        current.not_admitted_reason = reason_code
        current.referred_to = referred_to[:200]
        current.close_note = note[:2000]
        before = {"outcome": ""}
        save_change(
            current,
            actor=actor,
            fields=["outcome", "closed_at", "not_admitted_reason", "referred_to", "close_note"],
            changes=audit.diff(before, {"outcome": outcome}),
        )
    return current


# --- pre-admission screening ------------------------------------------------------------


def record_prescreen(
    episode: Episode,
    *,
    actor: Any,
    answers: Mapping[str, Any],
    screened_on: dt.date,
    note: str = "",
    at: dt.datetime | None = None,
) -> PreScreen:
    """Keep the answers and the flags they raise; move a new referral into screening.

    A positive suicide-risk answer raises a safety alert at once.
    """
    result = prescreen.evaluate(answers)
    if episode.status not in PRE_ADMISSION:
        raise IntakeRefused("Pre-admission screening is for referrals not yet admitted.")
    if screened_on > episode.program.today():
        raise IntakeRefused("The screening date cannot be in the future.")
    with transaction.atomic():
        screen = PreScreen.objects.create(
            episode=episode,
            participant_id=episode.participant_id,
            screened_on=screened_on,
            answers=dict(answers),
            flags=[
                {
                    "question": f.question,
                    "severity": f.severity,
                    "message": f.message,
                    "points_to": f.points_to,
                }
                for f in result.flags
            ],
            fits=result.fits,
            note=note.strip(),
            screened_by=actor,
            created_by=actor,
            updated_by=actor,
            created_at=at or timezone.now(),
            updated_at=at or timezone.now(),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=screen,
            participant_id=episode.participant_id,
            changes={"fits": [None, result.fits], "flags": [None, len(result.flags)]},
        )
        if episode.status == EpisodeStatus.REFERRED:
            participant_services.transition_episode(
                episode, EpisodeStatus.SCREENING, actor=actor, effective_date=screened_on, at=at
            )
        for flag in result.flags:
            if flag.severity == "urgent":
                instrument_services.raise_alert(
                    episode.participant,
                    actor=actor,
                    episode=episode,
                    source="Pre-admission screen",
                    risk=AlertRisk.HIGH,
                    message=flag.message,
                )
    return screen


# --- ASAM assessment ------------------------------------------------------------------


def _apply(assessment: Assessment, values: Mapping[str, Any]) -> list[str]:
    fields = [k for k in ASSESSMENT_FIELDS if k in values]
    for key in fields:
        value = values[key]
        setattr(assessment, key, value if value is not None or key.startswith("rating") else "")
    _recompute(assessment)
    return [*fields, "recommended_level", "rules_fired"]


def _recompute(assessment: Assessment) -> None:
    """The recommendation from the ratings, once every rated dimension has a rating."""
    ratings = assessment.ratings
    try:
        rec = asam.recommend(assessment.edition, ratings)
    except ValueError:
        assessment.recommended_level = ""
        assessment.rules_fired = []
        return
    assessment.recommended_level = rec.level
    assessment.rules_fired = [r.code for r in rec.fired]


def start_assessment(
    episode: Episode,
    *,
    actor: Any,
    values: Mapping[str, Any],
    kind: str,
    edition: str,
) -> Assessment:
    with transaction.atomic():
        assessment = Assessment(
            episode=episode,
            participant_id=episode.participant_id,
            kind=kind,
            edition=edition,
            created_by=actor,
            updated_by=actor,
        )
        _apply(assessment, values)
        assessment.save()
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=assessment,
            participant_id=episode.participant_id,
            changes={"status": [None, AssessmentStatus.DRAFT]},
        )
    return assessment


def save_assessment(
    assessment: Assessment, *, actor: Any, values: Mapping[str, Any], expected_version: int
) -> Assessment:
    with transaction.atomic():
        current = lock_for_edit(Assessment, assessment.pk, expected_version, what="assessment")
        if current.is_signed:
            raise IntakeRefused("A signed assessment never changes: start a reassessment instead.")
        before = audit.snapshot(current, [*ASSESSMENT_FIELDS, "recommended_level"])
        fields = _apply(current, values)
        after = audit.snapshot(current, [*ASSESSMENT_FIELDS, "recommended_level"])
        save_change(current, actor=actor, fields=fields, changes=audit.diff(before, after))
    return current


def sign_assessment(
    assessment: Assessment,
    *,
    actor: Any,
    values: Mapping[str, Any],
    expected_version: int,
    at: dt.datetime | None = None,
) -> Assessment:
    """Save and sign. Needs every risk rating, a narrative for each rated dimension, and a
    reason when the chosen level is not the recommended one. An initial assessment of a
    referral moves its episode to Assessed."""
    at = at or timezone.now()
    with transaction.atomic():
        current = lock_for_edit(Assessment, assessment.pk, expected_version, what="assessment")
        if current.is_signed:
            raise IntakeRefused("This assessment is already signed.")
        before = audit.snapshot(current, [*ASSESSMENT_FIELDS, "recommended_level"])
        fields = _apply(current, values)
        dims = asam.DIMENSIONS[current.edition]
        missing = [d.name for d in dims if d.risk_rated and current.ratings[d.number - 1] is None]
        if missing:
            raise IntakeRefused("Rate every dimension before signing: " + "; ".join(missing) + ".")
        if current.form_source == "openiop":
            unwritten = [d.name for d in dims if not current.narratives[d.number - 1].strip()]
            if unwritten:
                raise IntakeRefused(
                    "Write what you found for each dimension before signing: "
                    + "; ".join(unwritten)
                    + "."
                )
        elif not current.licensed_tool.strip():
            raise IntakeRefused("Name the licensed tool the ratings come from.")
        if not current.chosen_level:
            current.chosen_level = current.recommended_level
            fields.append("chosen_level")
        try:
            asam.check_choice(
                current.recommended_level, current.chosen_level, current.override_reason
            )
        except ValueError as exc:
            raise IntakeRefused(str(exc)) from exc
        if current.assessed_on > current.episode.program.today(at):
            raise IntakeRefused("The assessment date cannot be in the future.")
        current.status = AssessmentStatus.SIGNED
        current.signed_at = at
        current.signed_by = actor
        current.signed_by_name = (
            actor.get_full_name() if hasattr(actor, "get_full_name") else ""
        ) or participant_services._name(actor)
        current.signed_credential = str(getattr(actor, "credentials", "") or "")[:60]
        fields += ["status", "signed_at", "signed_by", "signed_by_name", "signed_credential"]
        after = audit.snapshot(current, [*ASSESSMENT_FIELDS, "recommended_level"])
        save_change(current, actor=actor, fields=fields, changes=audit.diff(before, after))
        audit.record(
            AuditAction.SIGN,
            actor=actor,
            obj=current,
            changes={
                "recommended_level": [None, current.recommended_level],
                "chosen_level": [None, current.chosen_level],
            },
        )
        episode = Episode.objects.get(pk=current.episode_id)
        day = min(current.assessed_on, episode.program.today(at))
        day = max(day, episode.referral_date)
        if episode.status == EpisodeStatus.REFERRED:
            episode = participant_services.transition_episode(
                episode, EpisodeStatus.SCREENING, actor=actor, effective_date=day, at=at
            )
        if episode.status == EpisodeStatus.SCREENING:
            participant_services.transition_episode(
                episode, EpisodeStatus.ASSESSED, actor=actor, effective_date=day, at=at
            )
    return current


# --- admission --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagnosisInput:
    code: str
    description: str = ""
    primary: bool = False


def admit(
    episode: Episode,
    *,
    actor: Any,
    identity: Mapping[str, Any],
    level_of_care: str,
    track: Any,
    primary_counsellor: Any,
    admission_date: dt.date,
    diagnoses: list[DiagnosisInput],
    consent_signed_on: dt.date,
    consent_signature: str,
    notice_given_on: dt.date,
    notice_acknowledged: bool,
    level_reason: str = "",
    participant_version: int | None = None,
    at: dt.datetime | None = None,
) -> Admission:
    """One step: confirm identity, record diagnoses and consents, open the episode as
    Admitted with its level, track and counsellor, and close the referral as admitted."""
    at = at or timezone.now()
    with transaction.atomic():
        # Lock and re-read: the checks below must see the episode as it is now.
        episode = (
            Episode.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=episode.pk)
        )
        return _admit_locked(
            episode,
            actor=actor,
            identity=identity,
            level_of_care=level_of_care,
            track=track,
            primary_counsellor=primary_counsellor,
            admission_date=admission_date,
            diagnoses=diagnoses,
            consent_signed_on=consent_signed_on,
            consent_signature=consent_signature,
            notice_given_on=notice_given_on,
            notice_acknowledged=notice_acknowledged,
            level_reason=level_reason,
            participant_version=participant_version,
            at=at,
        )


def _admit_locked(episode: Episode, *, actor: Any, at: dt.datetime, **given: Any) -> Admission:
    """`admit` on an episode locked in the caller's transaction."""
    identity: Mapping[str, Any] = given["identity"]
    level_of_care: str = given["level_of_care"]
    admission_date: dt.date = given["admission_date"]
    diagnoses: list[DiagnosisInput] = given["diagnoses"]
    consent_signature: str = given["consent_signature"]
    level_reason: str = given["level_reason"]
    participant_version: int | None = given["participant_version"]
    track, primary_counsellor = given["track"], given["primary_counsellor"]
    consent_signed_on, notice_given_on = given["consent_signed_on"], given["notice_given_on"]
    notice_acknowledged: bool = given["notice_acknowledged"]
    if episode.status != EpisodeStatus.ASSESSED:
        raise IntakeRefused(
            "Admission follows a signed assessment: this referral is "
            f"{episode.get_status_display()}."
        )
    assessment = (
        Assessment.objects.filter(episode=episode, status=AssessmentStatus.SIGNED, voided=False)
        .order_by("-signed_at")
        .first()
    )
    if assessment is None:
        raise IntakeRefused("Sign an ASAM assessment before admitting.")
    if assessment.chosen_level != level_of_care and not level_reason.strip():
        raise IntakeRefused(
            "The assessment chose a different level of care: say why the person is admitted "
            "at this one."
        )
    if not diagnoses:
        raise IntakeRefused("Record at least one diagnosis.")
    codes = []
    for d in diagnoses:
        try:
            codes.append(icd10.normalize(d.code))
        except ValueError as exc:
            raise IntakeRefused(str(exc)) from exc
    if len(set(codes)) != len(codes):
        raise IntakeRefused("The same diagnosis is listed twice.")
    primaries = [d for d in diagnoses if d.primary]
    if len(primaries) != 1:
        raise IntakeRefused("Mark exactly one diagnosis as primary.")
    if not icd10.is_sud(icd10.normalize(primaries[0].code)):
        raise IntakeRefused(
            "The primary diagnosis of an IOP admission is a substance use disorder (F10–F19)."
        )
    if not consent_signature.strip():
        raise IntakeRefused("Record the participant's signature on the consent to treatment.")
    if not notice_acknowledged:
        raise IntakeRefused(
            "The participant must be given the confidentiality notice (42 CFR §2.22) and "
            "acknowledge it before admission."
        )
    today = episode.program.today(at)
    for label, day in (
        ("admission date", admission_date),
        ("consent date", consent_signed_on),
        ("notice date", notice_given_on),
    ):
        if day > today:
            raise IntakeRefused(f"The {label} cannot be in the future.")
    with transaction.atomic():
        participant = Participant.objects.get(pk=episode.participant_id)
        if identity:
            participant_services.update_participant(
                participant,
                actor=actor,
                changes=dict(identity),
                expected_version=participant_version
                if participant_version is not None
                else participant.version,
            )
        admitted = participant_services.transition_episode(
            episode,
            EpisodeStatus.ADMITTED,
            actor=actor,
            effective_date=admission_date,
            changes={
                "level_of_care": level_of_care,
                "track": track,
                "primary_counsellor": primary_counsellor,
            },
            today=today,
            at=at,
        )
        for d, code in zip(diagnoses, codes, strict=True):
            description = d.description.strip() or icd10.describe(code)
            if not description:
                raise IntakeRefused(f"Describe the diagnosis {code}: it is not in our list.")
            diagnosis = Diagnosis.objects.create(
                episode=admitted,
                participant=participant,
                code=code,
                description=description[:250],
                primary=d.primary,
                noted_on=admission_date,
                created_by=actor,
                updated_by=actor,
            )
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=diagnosis,
                changes={"code": [None, code], "primary": [None, d.primary]},
            )
        admission = Admission.objects.create(
            episode=admitted,
            participant=participant,
            assessment=assessment,
            treatment_consent_signed_on=consent_signed_on,
            treatment_consent_signature=consent_signature.strip()[:200],
            notice_given_on=notice_given_on,
            notice_acknowledged=True,
            level_reason=level_reason.strip(),
            witnessed_by=actor,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=admission,
            changes={"level_of_care": [None, level_of_care]},
        )
        referral = referral_for(admitted, actor=actor)
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        referral.outcome = Outcome.ADMITTED
        referral.closed_at = at
        referral.days_to_admission = (admission_date - admitted.referral_date).days
        save_change(
            referral,
            actor=actor,
            fields=["outcome", "closed_at", "days_to_admission"],
            changes={
                "outcome": ["", Outcome.ADMITTED],
                "days_to_admission": [None, referral.days_to_admission],
            },
        )
    return admission


def transition_refusal(episode: Episode, to_status: str) -> str | None:
    """Why the episode cannot move to `to_status` now, or None."""
    try:
        lifecycle.check(
            episode,
            lifecycle.Request(to_status, episode.program.today()),
            today=episode.program.today(),
        )
    except lifecycle.TransitionRefused as exc:
        return str(exc)
    return None
