"""Observation: daily check-ins, drug-screen results by analyte and instrument scores
(DOMAIN.md §7: "Scores … Observation", "Drug test result: Observation per analyte").

Three sources, kept apart by the id prefix:

- `checkin-<uuid>` (attendance.CheckIn, consent category progress): the daily check-in
  panel, category survey, with mood, craving, stress, hours slept, reported use and what
  was used as components. Only hours slept has a standard code (LOINC 93832-4 "Sleep
  duration"); DOMAIN.md §4 finds no standard code for a craving rating, and none exists
  for the program's mood and stress ratings, so those are local codes.
- `screen-<uuid>` (screening.Result, category screening): one analyte's presumptive or
  definitive result on one specimen, category laboratory (DOMAIN.md §5.3, §7).
- `score-<uuid>` (instruments.InstrumentResponse, category assessment): the instrument's
  total score, category survey, `derivedFrom` the QuestionnaireResponse of the same
  administration (DOMAIN.md §4 notes: the score as an Observation pointing to the QR).
  Instruments without a total carry what they have: the C-SSRS its risk level (LOINC
  93374-7), the BAM its three subscales as components.

Search: `date` (check-in time, collection time, administration day), `status` (final;
amended once a row was changed after it was saved), `code` and `category` (tokens:
`system|code`, `|code` for a code without a system, or a bare `code` in any system).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from openiop.attendance.choices import CheckInSource
from openiop.attendance.models import CheckIn
from openiop.instruments.definitions import Instrument, all_definitions
from openiop.instruments.models import InstrumentResponse, Mode
from openiop.screening.choices import Interpretation, ResultMethod, ResultOutcome, SpecimenType
from openiop.screening.models import Result

from .. import search as s
from ..api import instant
from ..registry import ParamFilter, Provider, Source, register
from .patient import patient_reference
from .questionnaires import (
    amended,
    confirmed_loinc,
    definition_of,
    questionnaire_response_reference,
    staff_display,
)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# Local code systems (no standard codes for these concepts):
# the daily check-in panel and its components (mood, craving, stress, use);
OBSERVATION_SYSTEM = "urn:openiop:observation"
# the program's analyte codes (screening.Analyte.code: THC, BUP, ETG, …);
ANALYTE_SYSTEM = "urn:openiop:analyte"
# presumptive (screen) or definitive (confirmation) testing, DOMAIN.md §5.3;
SCREEN_METHOD_SYSTEM = "urn:openiop:screen-method"
# specimen ids (the chain-of-custody barcode, DOMAIN.md §5.5);
SPECIMEN_SYSTEM = "urn:openiop:specimen-id"
# an instrument's score (the instrument code: PHQ-9, BAM, …) and its subscales.
INSTRUMENT_SCORE_SYSTEM = "urn:openiop:instrument-score"
SUBSCALE_SYSTEM = "urn:openiop:instrument-subscale"

CHECK_IN_CODE = "daily-check-in"
# LOINC 93832-4 "Sleep duration" (the HL7 Personal Health Record IG's sleep value set
# lists it; not in DOMAIN.md, which covers instruments rather than vital signs).
SLEEP_DURATION_LOINC = "93832-4"
# v3 ObservationInterpretation: positive, negative, indeterminate.
OUTCOME_INTERPRETATION = {
    ResultOutcome.POSITIVE: ("POS", "Positive"),
    ResultOutcome.NEGATIVE: ("NEG", "Negative"),
    ResultOutcome.INCONCLUSIVE: ("IND", "Indeterminate"),
}
# SNOMED CT qualifier values for a qualitative result (as in the HL7 COVID-19 and mCODE
# positive/negative value sets): 10828004 Positive, 260385009 Negative,
# 419984006 Inconclusive.
OUTCOME_SNOMED = {
    ResultOutcome.POSITIVE: ("10828004", "Positive"),
    ResultOutcome.NEGATIVE: ("260385009", "Negative"),
    ResultOutcome.INCONCLUSIVE: ("419984006", "Inconclusive"),
}
# Units the labs report that are UCUM codes as written.
UCUM_UNITS = frozenset({"ng/mL", "ug/mL", "mg/dL", "mg/L", "ug/L", "g/dL", "%", "pg/mg"})
METHOD_LABELS: dict[str, str] = {
    ResultMethod.PRESUMPTIVE: "Presumptive (screening test)",
    ResultMethod.DEFINITIVE: "Definitive (confirmation test)",
}
SPECIMEN_LABELS: dict[str, str] = dict(SpecimenType.choices)
INTERPRETATION_LABELS: dict[str, str] = dict(Interpretation.choices)
STATUS_FILTERS = {"final": Q(version__lte=1), "amended": Q(version__gt=1)}


# --- tokens (code, category) ------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A token search value: `system` None matches any system, "" only codes without one."""

    system: str | None
    code: str

    def matches(self, system: str, code: str) -> bool:
        return self.code == code and (self.system is None or self.system == system)


def parse_tokens(text: str, name: str) -> list[Token]:
    tokens = []
    for value in s.split_values(text, name):
        if "\x00" in value:
            raise s.invalid(f"{name}: a value holds a NUL character")
        system: str | None = None
        code = value
        if "|" in value:
            system, code = value.split("|", 1)
        if not code:
            raise s.invalid(f"{name}: “{value[:60]}” has no code (use system|code or code)")
        tokens.append(Token(system, code))
    return tokens


# Always true: a token that matches every row of a source (`Q()` would vanish in an OR).
EVERY = Q(pk__isnull=False)


def token_param(name: str, q_for: Callable[[Token], Q | None]) -> ParamFilter:
    """A token parameter: AND over repeated parameters, OR over a comma list; `q_for`
    gives the rows a token matches (None: none of this source's rows)."""

    def apply(qs: QuerySet[Any], values: list[str], ctx: Any) -> QuerySet[Any]:
        for text in values:
            any_of: Q | None = None
            for token in parse_tokens(text, name):
                q = q_for(token)
                if q is not None:
                    any_of = q if any_of is None else any_of | q
            if any_of is None:
                return qs.none()
            qs = qs.filter(any_of)
        return qs

    return apply


def fixed_codes(codings: Iterable[tuple[str, str]]) -> Callable[[Token], Q | None]:
    """For a source whose rows all carry the same codes."""
    fixed = tuple(codings)
    return lambda token: EVERY if any(token.matches(sy, c) for sy, c in fixed) else None


def obs_category(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": CATEGORY_SYSTEM, "code": code, "display": display}]}


def concept(*codings: tuple[str, str, str], text: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "coding": [{"system": sy, "code": c, "display": d} for sy, c, d in codings if c]
    }
    if text:
        out["text"] = text
    return out


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def quantity(value: Decimal, unit: str) -> dict[str, Any]:
    out: dict[str, Any] = {"value": number(value)}
    if unit:
        out["unit"] = unit
        if unit in UCUM_UNITS:
            out["system"] = UCUM
            out["code"] = unit
    return out


def status_of(obj: Any) -> str:
    return "amended" if amended(obj) else "final"


# --- check-ins --------------------------------------------------------------------------


def local(code: str, display: str) -> tuple[str, str, str]:
    return (OBSERVATION_SYSTEM, code, display)


class CheckInObservationSource(Source):
    model = CheckIn
    category = "progress"
    id_prefix = "checkin-"
    date_field = "at"
    date_kind = "datetime"
    status_filters = STATUS_FILTERS
    CATEGORIES = ((CATEGORY_SYSTEM, "survey"),)
    CODES = ((OBSERVATION_SYSTEM, CHECK_IN_CODE),)
    extra_params = {
        "code": token_param("code", fixed_codes(CODES)),
        "category": token_param("category", fixed_codes(CATEGORIES)),
    }

    def queryset(self):
        return CheckIn.objects.filter(voided=False, participant__voided=False).select_related(
            "participant"
        )

    def to_resource(self, obj: CheckIn, ctx: Any) -> dict[str, Any]:
        components: list[dict[str, Any]] = [
            {
                "code": concept(local("mood", "Mood, 1 (worst) to 10 (best)")),
                "valueInteger": obj.mood,
            },
            {
                # DOMAIN.md §4: no standard code for a 0–10 craving rating.
                "code": concept(local("craving", "Craving, 0 (none) to 10 (strongest)")),
                "valueInteger": obj.craving,
            },
            {
                "code": concept(local("stress", "Stress, 0 (none) to 10 (extreme)")),
                "valueInteger": obj.stress,
            },
            {
                "code": concept(
                    (LOINC, SLEEP_DURATION_LOINC, "Sleep duration"),
                    local("sleep-hours", "Hours slept"),
                ),
                "valueQuantity": {
                    "value": number(obj.sleep_hours),
                    "unit": "h",
                    "system": UCUM,
                    "code": "h",
                },
            },
            {
                "code": concept(local("use-reported", "Any use since the last session")),
                "valueBoolean": obj.used,
            },
        ]
        if obj.used and obj.substances:
            components.append(
                {
                    "code": concept(local("substances-used", "What was used")),
                    "valueString": obj.substances,
                }
            )
        return {
            "status": status_of(obj),
            "category": [obs_category("survey", "Survey")],
            "code": concept(local(CHECK_IN_CODE, "Daily check-in"), text="Daily check-in"),
            "subject": patient_reference(obj.participant),
            "effectiveDateTime": instant(obj.at),
            "issued": instant(obj.created_at),
            # A self-report, whether staff typed it in group or the participant did.
            "performer": [patient_reference(obj.participant)],
            "method": {
                "text": "Recorded by staff"
                if obj.source == CheckInSource.STAFF
                else "Entered by the participant"
            },
            "component": components,
        }


# --- drug-screen results ----------------------------------------------------------------


def _analyte_q(token: Token) -> Q | None:
    if token.system is None:
        return Q(analyte__code=token.code) | Q(analyte__loinc=token.code)
    if token.system == LOINC:
        return Q(analyte__loinc=token.code)
    if token.system == ANALYTE_SYSTEM:
        return Q(analyte__code=token.code)
    return None


class ScreenResultSource(Source):
    model = Result
    category = "screening"
    id_prefix = "screen-"
    date_field = "collection__collected_at"
    date_kind = "datetime"
    status_filters = STATUS_FILTERS
    CATEGORIES = ((CATEGORY_SYSTEM, "laboratory"),)
    extra_params = {
        "code": token_param("code", _analyte_q),
        "category": token_param("category", fixed_codes(CATEGORIES)),
    }

    def queryset(self):
        return (
            Result.objects.filter(voided=False, collection__voided=False, participant__voided=False)
            .select_related("participant", "analyte", "collection", "explained_by")
            .prefetch_related("collection__order__panel__lines")
        )

    def cutoff_unit(self, obj: Result) -> str:
        if obj.unit:
            return obj.unit
        order = obj.collection.order
        for line in order.panel.lines.all():
            if line.analyte_id == obj.analyte_id:
                return str(line.unit)
        return ""

    def to_resource(self, obj: Result, ctx: Any) -> dict[str, Any]:
        analyte = obj.analyte
        collection = obj.collection
        outcome_label = dict(ResultOutcome.choices).get(obj.outcome, obj.outcome)
        resource: dict[str, Any] = {
            "status": status_of(obj),
            "category": [obs_category("laboratory", "Laboratory")],
            "code": concept(
                (LOINC, analyte.loinc, analyte.name),
                (ANALYTE_SYSTEM, analyte.code, analyte.name),
                text=analyte.name,
            ),
            "subject": patient_reference(obj.participant),
            "effectiveDateTime": instant(collection.collected_at),
            "issued": instant(obj.resulted_at),
        }
        if obj.value is not None:
            # A measured amount (usually a definitive test): the quantity is the value and
            # positive/negative is the interpretation.
            resource["valueQuantity"] = quantity(obj.value, obj.unit)
        elif obj.outcome in OUTCOME_SNOMED:
            code, display = OUTCOME_SNOMED[ResultOutcome(obj.outcome)]
            resource["valueCodeableConcept"] = concept((SNOMED, code, display), text=outcome_label)
        else:
            resource["valueString"] = outcome_label
        interpretation: dict[str, Any] = {
            "text": INTERPRETATION_LABELS.get(obj.interpretation, obj.interpretation)
        }
        if obj.outcome in OUTCOME_INTERPRETATION:
            code, display = OUTCOME_INTERPRETATION[ResultOutcome(obj.outcome)]
            interpretation["coding"] = [
                {"system": INTERPRETATION_SYSTEM, "code": code, "display": display}
            ]
        resource["interpretation"] = [interpretation]
        notes = []
        if obj.explained_by is not None:
            notes.append(
                {
                    "text": f"Expected: explained by a prescribed medication "
                    f"({obj.explained_by.name}), not use."
                }
            )
        resource["method"] = concept(
            (SCREEN_METHOD_SYSTEM, obj.method, METHOD_LABELS.get(obj.method, obj.method)),
            text=METHOD_LABELS.get(obj.method, obj.method),
        )
        specimen_type = SPECIMEN_LABELS.get(collection.specimen_type, collection.specimen_type)
        resource["specimen"] = {
            "identifier": {"system": SPECIMEN_SYSTEM, "value": collection.specimen_id},
            "display": f"{specimen_type} specimen {collection.specimen_id}",
        }
        if obj.cutoff is not None:
            unit = self.cutoff_unit(obj)
            text = f"Negative below the cut-off of {number(obj.cutoff)}" + (
                f" {unit}" if unit else ""
            )
            resource["referenceRange"] = [{"high": quantity(obj.cutoff, unit), "text": text}]
        if notes:
            resource["note"] = notes
        return resource


# --- instrument scores ------------------------------------------------------------------


def score_codings(definition: Instrument) -> list[tuple[str, str, str]]:
    """The score's codes: the total's LOINC (or, without a total, the band's: the C-SSRS
    risk level) where DOMAIN.md §4 confirms one, and the local instrument code."""
    if definition.has_total:
        loinc, what = confirmed_loinc(definition.loinc_total), "total score"
    elif definition.bands:
        # The C-SSRS: its band is the risk level (LOINC 93374-7, DOMAIN.md §4).
        loinc, what = confirmed_loinc(definition.loinc_band), "risk level"
    else:
        loinc, what = "", "subscale scores"
    display = f"{definition.short_name} {what}"
    codings = [(LOINC, loinc, display)] if loinc else []
    codings.append((INSTRUMENT_SCORE_SYSTEM, definition.code, display))
    return codings


def _instrument_q(token: Token) -> Q | None:
    codes = [
        d.code
        for d in all_definitions()
        if any(token.matches(system, code) for system, code, _ in score_codings(d))
    ]
    return Q(instrument__in=codes) if codes else None


class InstrumentScoreSource(Source):
    model = InstrumentResponse
    category = "assessment"
    id_prefix = "score-"
    date_field = "administered_on"
    date_kind = "date"
    status_filters = STATUS_FILTERS
    CATEGORIES = ((CATEGORY_SYSTEM, "survey"),)
    extra_params = {
        "code": token_param("code", _instrument_q),
        "category": token_param("category", fixed_codes(CATEGORIES)),
    }

    def queryset(self):
        return InstrumentResponse.objects.filter(
            voided=False, participant__voided=False
        ).select_related("participant", "administered_by")

    def to_resource(self, obj: InstrumentResponse, ctx: Any) -> dict[str, Any]:
        definition = definition_of(obj)
        if definition is not None:
            codings = score_codings(definition)
            code = concept(*codings, text=codings[-1][2])
            name = definition.short_name
        else:
            code = concept((INSTRUMENT_SCORE_SYSTEM, obj.instrument, obj.instrument))
            name = obj.instrument
        resource: dict[str, Any] = {
            "status": status_of(obj),
            "category": [obs_category("survey", "Survey")],
            "code": code,
            "subject": patient_reference(obj.participant),
            "effectiveDateTime": obj.administered_on.isoformat(),
            "issued": instant(obj.created_at),
        }
        if obj.mode == Mode.SELF:
            resource["performer"] = [patient_reference(obj.participant)]
        elif obj.administered_by is not None:
            resource["performer"] = [{"display": staff_display(obj.administered_by)}]
        if obj.total is not None:
            resource["valueInteger"] = obj.total
            if obj.band:
                resource["interpretation"] = [{"text": obj.band}]
        elif obj.band:
            # No total (the C-SSRS): the band is the result.
            resource["valueCodeableConcept"] = {"text": obj.band}
        components = [
            {
                "code": concept(
                    (SUBSCALE_SYSTEM, f"{obj.instrument}:{key}", f"{name} {key} subscale")
                ),
                "valueInteger": int(value),
            }
            for key, value in sorted((obj.subscales or {}).items())
            if isinstance(value, int) and not isinstance(value, bool)
        ]
        if components:
            resource["component"] = components
        elif obj.total is None and not obj.band:
            resource["dataAbsentReason"] = {
                "coding": [{"system": DATA_ABSENT, "code": "not-applicable"}]
            }
        resource["derivedFrom"] = [questionnaire_response_reference(obj)]
        notes = [
            {"text": str(flag["message"])[:500]}
            for flag in (obj.flags or [])
            if isinstance(flag, dict) and flag.get("message")
        ]
        if notes:
            resource["note"] = notes
        return resource


register(
    Provider(
        "Observation",
        [CheckInObservationSource(), ScreenResultSource(), InstrumentScoreSource()],
        documentation=(
            "Daily check-ins (id checkin-…, category survey), drug-screen results by analyte "
            "(screen-…, laboratory) and instrument scores (score-…, survey; derivedFrom the "
            "QuestionnaireResponse)."
        ),
        params_doc={
            "date": "Check-in time, specimen collection time, or the day an instrument was "
            "given (prefixes eq ne lt gt le ge sa eb)",
            "status": "final, or amended when changed after it was saved",
            "code": "system|code or code: LOINC (http://loinc.org), analyte "
            f"({ANALYTE_SYSTEM}), instrument ({INSTRUMENT_SCORE_SYSTEM}) or "
            f"{OBSERVATION_SYSTEM}|{CHECK_IN_CODE}",
            "category": "survey or laboratory (system "
            "http://terminology.hl7.org/CodeSystem/observation-category)",
        },
    )
)
