"""EpisodeOfCare: one per admission, from referral to discharge (DOMAIN.md §7).

Status is the episode's lifecycle in FHIR's words: before admission (referred, screening,
assessed) the episode is `planned` (the program is still assessing whether to take the
person on); admitted or active is `active`; discharged or alumni is `finished`; not
admitted or referred elsewhere is `cancelled` ("the patient may have gone elsewhere").
`statusHistory` follows the episode's transitions, merged where the FHIR status stays
the same (referred → screening → assessed is one `planned` stretch).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Prefetch, Q
from django.db.models.functions import Coalesce

from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, EpisodeTransition
from openiop.programs.choices import LevelOfCare

from ..registry import Provider, Source, register
from .patient import patient_reference

# Local code system (no standard one exists): the ASAM level of care with its edition,
# codes as stored ("3:2.1" = Level 2.1, 3rd edition; DOMAIN.md §1.1, §1.2).
ASAM_LEVEL_SYSTEM = "urn:openiop:asam-level-of-care"

LEVEL_LABELS: dict[str, str] = dict(LevelOfCare.choices)

EPISODE_STATUS: dict[str, str] = {
    S.REFERRED: "planned",
    S.SCREENING: "planned",
    S.ASSESSED: "planned",
    S.ADMITTED: "active",
    S.ACTIVE: "active",
    S.DISCHARGED: "finished",
    S.ALUMNI: "finished",
    S.NOT_ADMITTED: "cancelled",
    S.REFERRED_ELSEWHERE: "cancelled",
}


def episode_reference(episode: Any) -> dict[str, str]:
    """`{"reference": "EpisodeOfCare/<id>"}` for an episode (Encounter uses it)."""
    return {"reference": f"EpisodeOfCare/{episode.uuid}"}


def _statuses(fhir: str) -> list[str]:
    return sorted(k for k, v in EPISODE_STATUS.items() if v == fhir)


def status_history(transitions: list[Any]) -> list[dict[str, Any]]:
    """[{status, period}] from transitions in order: runs of one FHIR status merged, each
    ending where the next starts (a back-dated transition never ends before it starts)."""
    runs: list[tuple[str, dt.date]] = []
    for t in transitions:
        status = EPISODE_STATUS.get(t.to_status)
        if status is None:
            continue
        if runs and runs[-1][0] == status:
            continue
        runs.append((status, t.effective_date))
    history = []
    for i, (status, start) in enumerate(runs):
        period = {"start": start.isoformat()}
        if i + 1 < len(runs):
            period["end"] = max(runs[i + 1][1], start).isoformat()
        history.append({"status": status, "period": period})
    return history


class EpisodeSource(Source):
    model = Episode
    category = "enrolment"
    # `date` searches the start of the period: the admission date, or the referral date
    # of an episode never admitted (an annotation of the queryset, whole program days).
    date_field = "fhir_period_start"
    date_kind = "date"
    status_filters = {
        code: Q(status__in=_statuses(code)) for code in sorted(set(EPISODE_STATUS.values()))
    }

    def program_q(self, program_ids: list[int]) -> Q:
        # The episode's own program too: a participant who moved keeps the old program's
        # episodes in that program (42 CFR Part 2 records are per program).
        return super().program_q(program_ids) & Q(program_id__in=program_ids)

    def queryset(self):
        return (
            Episode.objects.filter(voided=False, participant__voided=False)
            .select_related("participant", "program", "primary_counsellor")
            .prefetch_related(
                Prefetch("transitions", queryset=EpisodeTransition.objects.order_by("at", "pk"))
            )
            .annotate(fhir_period_start=Coalesce(F("admission_date"), F("referral_date")))
        )

    def to_resource(self, obj: Episode, ctx: Any) -> dict[str, Any]:
        status = EPISODE_STATUS.get(obj.status, "planned")
        period: dict[str, str] = {"start": (obj.admission_date or obj.referral_date).isoformat()}
        if obj.admission_date and obj.discharge_date:
            period["end"] = max(obj.discharge_date, obj.admission_date).isoformat()
        elif status == "cancelled":
            period["end"] = max(obj.status_date, obj.referral_date).isoformat()
        resource: dict[str, Any] = {"status": status}
        history = status_history(list(obj.transitions.all()))
        if history:
            resource["statusHistory"] = history
        if obj.level_of_care:
            label = LEVEL_LABELS.get(obj.level_of_care, obj.level_of_care)
            resource["type"] = [
                {
                    "coding": [
                        {"system": ASAM_LEVEL_SYSTEM, "code": obj.level_of_care, "display": label}
                    ],
                    "text": f"ASAM {obj.level_short}",
                }
            ]
        resource["patient"] = patient_reference(obj.participant)
        resource["managingOrganization"] = {"display": obj.program.name}
        resource["period"] = period
        if obj.primary_counsellor is not None:
            resource["careManager"] = {"display": obj.primary_counsellor.display_name}
        return resource


register(
    Provider(
        "EpisodeOfCare",
        [EpisodeSource()],
        documentation=(
            "One per admission (or attempt at one): referral to discharge. type = the ASAM "
            "level of care (local system urn:openiop:asam-level-of-care)."
        ),
        params_doc={
            "date": (
                "The start of the episode's period: the admission date, or the referral "
                "date when not admitted (prefixes eq ne lt gt le ge sa eb)"
            ),
            "status": "planned (before admission), active, finished, cancelled (not admitted)",
        },
    )
)
