"""QuestionnaireResponse: one administration of a validated instrument (DOMAIN.md §4 notes,
§7 "Instrument administrations").

From `instruments.InstrumentResponse`. The answers are kept in item order; the instrument
definition (`instruments.definitions`) says what each item is and what each answer means.

- `questionnaire`: the LOINC panel as a canonical `http://loinc.org/q/<panel>` where the
  definition has a confirmed panel code (DOMAIN.md §4), else `urn:openiop:questionnaire:
  <instrument code>` (a local canonical: no Questionnaire resource is served).
- `item.linkId`: the item's LOINC code where the definition has one (the C-SSRS items),
  else the item's number in the instrument ("1", "2", …, "6b").
- `item.text`: the question as worded, except for instruments whose licence restricts
  commercial reproduction (`Licence.commercial_use_restricted`: DAST-10, PSS-10, the
  C-SSRS; DOMAIN.md §4 "Licensing"). Their answers go out; their wording does not.
- `answer`: valueBoolean for a No/Yes item, valueInteger for a number scale (the craving
  0–10), else valueCoding with the label shown to the person and the recorded number as
  the code (and as the ordinalValue extension).
- `status`: completed; amended once the row was changed after it was saved (version > 1).
  Voided rows are not served (a read answers 410), so entered-in-error never appears.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from openiop.instruments.definitions import Instrument, Item, UnknownInstrument
from openiop.instruments.definitions import get as get_definition
from openiop.instruments.models import InstrumentResponse, Mode

from ..registry import Provider, Source, register
from .patient import patient_reference

LOINC = "http://loinc.org"
# The R4 core extension that carries an answer's score on a Coding.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# Local canonical of an instrument without a LOINC panel, and the local code system of
# its answers (no standard answer codes are kept in the definitions).
LOCAL_QUESTIONNAIRE = "urn:openiop:questionnaire"

# LOINC codes the definitions carry but DOMAIN.md §4 marks ◐ and §9 (open item 6) asks to
# verify before use: not sent as LOINC until confirmed (the local code still identifies
# the instrument).
UNCONFIRMED_LOINC = frozenset({"75624-7", "106860-0", "101697-1", "101698-9"})


def definition_of(obj: Any) -> Instrument | None:
    """The instrument definition of a response (None for a code no longer defined)."""
    try:
        return get_definition(obj.instrument)
    except UnknownInstrument:
        return None


def confirmed_loinc(code: str) -> str:
    return code if code and code not in UNCONFIRMED_LOINC else ""


def questionnaire_url(definition: Instrument | None, instrument: str) -> str:
    panel = confirmed_loinc(definition.loinc_panel) if definition else ""
    if panel:
        return f"{LOINC}/q/{panel}"  # DOMAIN.md §4: the panel code of the instrument
    return f"{LOCAL_QUESTIONNAIRE}:{definition.code if definition else instrument}"


def questionnaire_response_reference(obj: Any) -> dict[str, str]:
    return {"reference": f"QuestionnaireResponse/{obj.uuid}"}


def amended(obj: Any) -> bool:
    """Changed after it was first saved (every service bumps `version` on a change)."""
    return int(obj.version or 1) > 1


def staff_display(user: Any) -> str:
    return str(getattr(user, "display_name", "") or getattr(user, "username", "") or "")


def _is_no_yes(item: Item) -> bool:
    return sorted(o.label for o in item.options) == ["No", "Yes"]


def _is_number_scale(item: Item) -> bool:
    """Every label starts with its own number (the craving rating's "0 – No craving",
    "1", …): the answer is the number itself."""
    for option in item.options:
        head = str(option.value)
        rest = option.label[len(head) :]
        if not option.label.startswith(head) or (rest and rest[0].isdigit()):
            return False
    return True


def answer_value(definition: Instrument, item: Item, value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int):
        return {"valueString": str(value)[:200]}
    try:
        label = item.label_for(value)
    except ValueError:
        return {"valueInteger": value}
    if _is_no_yes(item):
        return {"valueBoolean": label == "Yes"}
    if _is_number_scale(item):
        return {"valueInteger": value}
    return {
        "valueCoding": {
            "extension": [{"url": ORDINAL_VALUE, "valueDecimal": item.scored(value)}],
            "system": f"{LOCAL_QUESTIONNAIRE}:{definition.code}:answer",
            "code": str(value),
            "display": label,
        }
    }


def items_of(definition: Instrument, answers: Any) -> list[dict[str, Any]]:
    if isinstance(answers, dict):
        by_code = {str(k): v for k, v in answers.items()}
    elif isinstance(answers, list):
        by_code = dict(zip(definition.item_codes, answers, strict=False))
    else:
        by_code = {}
    # DOMAIN.md §4: DAST-10 (and PSS-10, C-SSRS) restrict commercial reproduction.
    show_text = not definition.licence.commercial_use_restricted
    items: list[dict[str, Any]] = []
    for item in definition.items:
        entry: dict[str, Any] = {"linkId": confirmed_loinc(item.loinc) or item.code}
        if show_text:
            entry["text"] = item.text
        if by_code.get(item.code) is not None:
            entry["answer"] = [answer_value(definition, item, by_code[item.code])]
        items.append(entry)
    return items


class QuestionnaireResponseSource(Source):
    model = InstrumentResponse
    category = "assessment"
    date_field = "administered_on"
    date_kind = "date"
    status_filters = {"completed": Q(version__lte=1), "amended": Q(version__gt=1)}

    def queryset(self):
        return InstrumentResponse.objects.filter(
            voided=False, participant__voided=False
        ).select_related("participant", "administered_by")

    def to_resource(self, obj: InstrumentResponse, ctx: Any) -> dict[str, Any]:
        definition = definition_of(obj)
        resource: dict[str, Any] = {
            "status": "amended" if amended(obj) else "completed",
            "questionnaire": questionnaire_url(definition, obj.instrument),
            "subject": patient_reference(obj.participant),
            "authored": obj.administered_on.isoformat(),
        }
        if obj.mode == Mode.SELF:
            resource["author"] = patient_reference(obj.participant)
        elif obj.administered_by is not None:
            resource["author"] = {"display": staff_display(obj.administered_by)}
        # The participant answers in either mode (staff read the questions or copy a
        # paper form).
        resource["source"] = patient_reference(obj.participant)
        if definition is not None:
            items = items_of(definition, obj.answers)
            if items:
                resource["item"] = items
        return resource


register(
    Provider(
        "QuestionnaireResponse",
        [QuestionnaireResponseSource()],
        documentation=(
            "Administrations of validated instruments (PHQ-9, GAD-7, AUDIT, DAST-10, BAM, "
            "C-SSRS, …). Items are linked by LOINC code where one is kept, else by item "
            "number; the wording of licence-restricted instruments is not reproduced. The "
            "scores are Observations (derivedFrom points here)."
        ),
        params_doc={
            "date": "When the instrument was given (a program day; prefixes eq ne lt gt le "
            "ge sa eb)",
            "status": "completed, or amended when changed after it was saved",
        },
    )
)
