"""Observation (check-ins, drug-screen results by analyte, instrument scores) and
QuestionnaireResponse (instrument administrations): mapping, search, paging, query cost
and the consent gate (DOMAIN.md §4, §5, §7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from openiop.attendance import rules as attendance_rules
from openiop.attendance import services as attendance
from openiop.attendance.models import CheckIn
from openiop.fhir.api import instant
from openiop.fhir.errors import FhirError
from openiop.fhir.models import ClientKind
from openiop.fhir.resources.observations import Token, parse_tokens
from openiop.fhir.testing import get, ids, make_client, make_token, resources, token_for, validate
from openiop.instruments import services as instruments
from openiop.instruments.definitions import BAM, C_SSRS, DAST10
from openiop.instruments.models import InstrumentResponse, Mode
from openiop.privacy.models import Disclosure
from openiop.screening import services as screening
from openiop.screening.models import Analyte, Result
from openiop.testing import add_privacy, add_screening_review, give

pytestmark = pytest.mark.django_db

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# A placeholder in the analyte's LOINC field, not a real LOINC code: the seeded analytes
# keep none (nobody has checked them), so the test gives THC one to see it go out.
THC_LOINC = "0000-0"


def codings(concept: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept.get("coding", [])]


@pytest.fixture
def story(world):
    """world.active with a check-in (the world's), screen results, and instruments of
    every shape: totals (PHQ-9, GAD-7, AUDIT, DAST-10, craving), a risk level (C-SSRS)
    and subscales only (BAM)."""
    add_screening_review(world)  # WORLD-R001: THC +, BUP + (Suboxone), COC −
    Analyte.objects.filter(code="THC").update(loinc=THC_LOINC)
    lab, counsellor = world.lab, world.counsellor
    collection = world.screen_reviewed.collection
    screening.record_results(
        collection,
        [
            screening.ResultInput(
                Analyte.objects.get(code="THC"),
                "definitive",
                "positive",
                value=Decimal("42.5"),
                unit="ng/mL",
                cutoff=Decimal("15"),
            ),
            # A cut-off without a value: its unit comes from the panel line.
            screening.ResultInput(
                Analyte.objects.get(code="OPI"), "presumptive", "negative", cutoff=Decimal(2000)
            ),
        ],
        actor=lab,
    )
    today = world.program.today()
    give(world.active, counsellor, "AUDIT", [0] * 10, day=today)
    give(world.active, counsellor, "DAST-10", [1, 0, 1, 0, 0, 1, 0, 0, 0, 0], day=today)
    give(world.active, counsellor, "C-SSRS", [0] * len(C_SSRS.items), day=today)
    give(world.active, counsellor, "BAM", [1] * 4 + [0] * (len(BAM.items) - 4), day=today)
    instruments.record_response(
        world.active,
        actor=counsellor,
        instrument="CRAVING",
        answers=[7],
        administered_on=today,
        occasion="ad_hoc",
        mode=Mode.SELF,
    )
    return world


def response_of(world: Any, code: str) -> InstrumentResponse:
    return InstrumentResponse.objects.filter(participant=world.active, instrument=code).latest("pk")


# --- mapping ----------------------------------------------------------------------------


def test_a_check_in_is_a_survey_observation_with_its_answers(world):
    token = token_for(world)
    check_in = world.check_in  # mood 5, craving 4, used alcohol, stress 6, slept 6.5 h
    response = get(f"Observation/checkin-{check_in.uuid}", token)
    assert response.status_code == 200, response.content
    obs = response.data
    validate(obs)
    assert obs["status"] == "final"
    assert codings(obs["category"][0]) == [(CATEGORY, "survey")]
    assert codings(obs["code"]) == [("urn:openiop:observation", "daily-check-in")]
    assert obs["subject"] == {"reference": f"Patient/{world.active.uuid}"}
    assert obs["effectiveDateTime"] == instant(check_in.at)
    assert obs["performer"] == [{"reference": f"Patient/{world.active.uuid}"}]
    parts = {c["code"]["coding"][-1]["code"]: c for c in obs["component"]}
    assert parts["mood"]["valueInteger"] == 5
    assert parts["craving"]["valueInteger"] == 4
    assert parts["stress"]["valueInteger"] == 6
    assert parts["use-reported"]["valueBoolean"] is True
    assert parts["substances-used"]["valueString"] == "alcohol"
    sleep = parts["sleep-hours"]
    assert sleep["valueQuantity"] == {"value": 6.5, "unit": "h", "system": UCUM, "code": "h"}
    assert codings(sleep["code"])[0] == (LOINC, "93832-4")
    # No LOINC for the program's own ratings (DOMAIN.md §4: none for a craving rating).
    for key in ("mood", "craving", "stress", "use-reported", "substances-used"):
        assert {sy for sy, _ in codings(parts[key]["code"])} == {"urn:openiop:observation"}
    # Without use, no "what was used" component.
    sober = attendance.record_check_in(
        world.active.current_episode,
        attendance_rules.CheckInValues(
            mood=8, craving=0, used=False, substances="", stress=2, sleep_hours=Decimal("8")
        ),
        actor=world.counsellor,
    )
    obs = get(f"Observation/checkin-{sober.uuid}", token).data
    validate(obs)
    parts = {c["code"]["coding"][-1]["code"]: c for c in obs["component"]}
    assert "substances-used" not in parts and parts["use-reported"]["valueBoolean"] is False
    assert parts["sleep-hours"]["valueQuantity"]["value"] == 8
    assert parts["craving"]["valueInteger"] == 0


def test_screen_results_are_laboratory_observations_per_analyte(story):
    world = story
    token = token_for(world)
    collection = world.screen_reviewed.collection
    results = {
        (r.analyte.code, r.method): r
        for r in Result.objects.filter(collection=collection).select_related("analyte")
    }
    assert len(results) == 5
    found = {r["id"]: r for r in resources(get("Observation", token, category="laboratory"))}
    assert set(found) == {f"screen-{r.uuid}" for r in results.values()}

    def obs(code: str, method: str = "presumptive") -> dict[str, Any]:
        return found[f"screen-{results[(code, method)].uuid}"]

    thc = obs("THC")
    assert thc["status"] == "final"
    assert codings(thc["category"][0]) == [(CATEGORY, "laboratory")]
    assert codings(thc["code"]) == [(LOINC, THC_LOINC), ("urn:openiop:analyte", "THC")]
    assert thc["valueCodeableConcept"]["coding"][0]["code"] == "10828004"
    assert thc["valueCodeableConcept"]["coding"][0]["system"] == SNOMED
    assert codings(thc["interpretation"][0]) == [(INTERPRETATION, "POS")]
    assert thc["interpretation"][0]["text"] == "Unexpected positive"
    assert codings(thc["method"]) == [("urn:openiop:screen-method", "presumptive")]
    assert thc["specimen"]["display"] == "Urine specimen WORLD-R001"
    assert thc["specimen"]["identifier"]["value"] == "WORLD-R001"
    assert thc["effectiveDateTime"] == instant(collection.collected_at)
    assert thc["issued"] == instant(results[("THC", "presumptive")].resulted_at)
    assert "note" not in thc and "valueQuantity" not in thc
    bup = obs("BUP")
    assert "Suboxone" in bup["note"][0]["text"]
    assert bup["interpretation"][0]["text"] == "Expected (prescribed medication)"
    coc = obs("COC")
    assert codings(coc["code"]) == [("urn:openiop:analyte", "COC")]  # no LOINC kept
    assert coc["valueCodeableConcept"]["coding"][0]["code"] == "260385009"
    assert codings(coc["interpretation"][0]) == [(INTERPRETATION, "NEG")]
    confirmed = obs("THC", "definitive")
    assert confirmed["valueQuantity"] == {
        "value": 42.5,
        "unit": "ng/mL",
        "system": UCUM,
        "code": "ng/mL",
    }
    assert "valueCodeableConcept" not in confirmed
    assert codings(confirmed["interpretation"][0]) == [(INTERPRETATION, "POS")]
    assert codings(confirmed["method"]) == [("urn:openiop:screen-method", "definitive")]
    assert confirmed["referenceRange"][0]["high"] == {
        "value": 15,
        "unit": "ng/mL",
        "system": UCUM,
        "code": "ng/mL",
    }
    opi = obs("OPI")
    assert opi["referenceRange"][0]["high"]["value"] == 2000
    assert opi["referenceRange"][0]["high"]["unit"] == "ng/mL"  # the panel line's unit
    assert "2000 ng/mL" in opi["referenceRange"][0]["text"]


def test_instrument_scores_point_to_their_questionnaire_responses(story):
    world = story
    token = token_for(world)
    scores = {r["id"]: r for r in resources(get("Observation", token, category="survey"))}
    answers = {r["id"]: r for r in resources(get("QuestionnaireResponse", token))}
    mine = InstrumentResponse.objects.filter(participant=world.active)
    assert set(answers) == {str(r.uuid) for r in mine}
    assert {f"score-{r.uuid}" for r in mine} <= set(scores)

    # PHQ-9 at admission: total 12 (DOMAIN.md §4: LOINC total 44261-6, panel 44249-1).
    phq = mine.filter(instrument="PHQ-9").earliest("administered_on")
    score = scores[f"score-{phq.uuid}"]
    assert codings(score["code"]) == [(LOINC, "44261-6"), ("urn:openiop:instrument-score", "PHQ-9")]
    assert codings(score["category"][0]) == [(CATEGORY, "survey")]
    assert score["valueInteger"] == phq.total == 12
    assert score["interpretation"] == [{"text": "Moderate depression"}]
    assert score["effectiveDateTime"] == phq.administered_on.isoformat()
    assert score["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq.uuid}"}]
    assert score["subject"] == {"reference": f"Patient/{world.active.uuid}"}
    qr = answers[str(phq.uuid)]
    assert qr["status"] == "completed"
    assert qr["questionnaire"] == "http://loinc.org/q/44249-1"
    assert qr["authored"] == phq.administered_on.isoformat()
    assert qr["author"] == {"display": world.counsellor.display_name}
    assert qr["source"] == {"reference": f"Patient/{world.active.uuid}"}
    assert [i["linkId"] for i in qr["item"]] == [str(n) for n in range(1, 10)]
    first = qr["item"][0]
    assert first["text"] == "Little interest or pleasure in doing things"
    assert first["answer"][0]["valueCoding"]["code"] == "2"
    assert first["answer"][0]["valueCoding"]["display"] == "More than half the days"
    assert first["answer"][0]["valueCoding"]["extension"] == [{"url": ORDINAL, "valueDecimal": 2}]
    # The PHQ-9 with a self-harm answer: its safety flag is a note on the score.
    flagged = world.response
    assert scores[f"score-{flagged.uuid}"]["note"]

    # AUDIT: the total's LOINC is unconfirmed (DOMAIN.md §9): local code only.
    audit = response_of(world, "AUDIT")
    assert codings(scores[f"score-{audit.uuid}"]["code"]) == [
        ("urn:openiop:instrument-score", "AUDIT")
    ]
    assert answers[str(audit.uuid)]["questionnaire"] == "http://loinc.org/q/72110-0"
    assert {c["code"]["coding"][0]["code"] for c in scores[f"score-{audit.uuid}"]["component"]} == {
        "AUDIT:consumption",
        "AUDIT:dependence",
        "AUDIT:harm",
    }

    # DAST-10: copyrighted wording (DOMAIN.md §4): answers without the questions.
    dast = response_of(world, "DAST-10")
    assert codings(scores[f"score-{dast.uuid}"]["code"])[0] == (LOINC, "82667-7")
    assert scores[f"score-{dast.uuid}"]["valueInteger"] == dast.total
    qr = answers[str(dast.uuid)]
    assert qr["questionnaire"] == "http://loinc.org/q/82666-9"
    assert all("text" not in item for item in qr["item"])
    assert [i["answer"][0]["valueBoolean"] for i in qr["item"]] == [
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert DAST10.licence.commercial_use_restricted

    # C-SSRS: no total; the risk level is the value (LOINC 93374-7); items by LOINC.
    cssrs = response_of(world, "C-SSRS")
    score = scores[f"score-{cssrs.uuid}"]
    assert codings(score["code"])[0] == (LOINC, "93374-7")
    assert score["valueCodeableConcept"] == {"text": "No risk identified"}
    qr = answers[str(cssrs.uuid)]
    assert qr["questionnaire"] == "urn:openiop:questionnaire:C-SSRS"
    assert [i["linkId"] for i in qr["item"]] == [item.loinc for item in C_SSRS.items]
    assert all("text" not in i and i["answer"][0]["valueBoolean"] is False for i in qr["item"])

    # BAM: no total, no LOINC; its subscales are components.
    bam = response_of(world, "BAM")
    score = scores[f"score-{bam.uuid}"]
    assert codings(score["code"]) == [("urn:openiop:instrument-score", "BAM")]
    assert not any(k.startswith("value") for k in score)
    parts = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in score["component"]}
    assert parts == {f"BAM:{k}": v for k, v in bam.subscales.items()}
    qr = answers[str(bam.uuid)]
    assert qr["questionnaire"] == "urn:openiop:questionnaire:BAM"
    assert all(item.get("text") for item in qr["item"])
    assert len(qr["item"]) == len(BAM.items)

    # The craving rating, self-administered: a number answer, the participant the author.
    craving = response_of(world, "CRAVING")
    assert scores[f"score-{craving.uuid}"]["valueInteger"] == 7
    qr = answers[str(craving.uuid)]
    assert qr["item"][0]["answer"] == [{"valueInteger": 7}]
    assert qr["author"] == {"reference": f"Patient/{world.active.uuid}"}
    assert scores[f"score-{craving.uuid}"]["performer"] == [qr["author"]]


# --- search -----------------------------------------------------------------------------


def test_search_by_patient_date_status_code_category_and_id(story):
    world = story
    token = token_for(world)
    tz = world.program.tz
    today = world.program.today()
    active = world.active
    rows: dict[str, dt.date] = {}
    for c in CheckIn.objects.filter(participant=active):
        rows[f"checkin-{c.uuid}"] = timezone.localtime(c.at, tz).date()
    for r in Result.objects.filter(participant=active).select_related("collection"):
        rows[f"screen-{r.uuid}"] = timezone.localtime(r.collection.collected_at, tz).date()
    for x in InstrumentResponse.objects.filter(participant=active):
        rows[f"score-{x.uuid}"] = x.administered_on
    everything = ids(get("Observation", token, patient=str(active.uuid), _count=500))
    assert everything == set(rows)
    assert {i.split("-")[0] for i in everything} == {"checkin", "screen", "score"}
    assert ids(get("Observation", token, patient=str(world.referred.uuid))) == set()
    assert ids(get("Observation", token, patient=str(world.foreign.uuid))) == set()

    # date: two prefixes, each source by its own field.
    lo, hi = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    window = ids(get("Observation", token, date=[f"ge{lo}", f"lt{hi}"], _count=500))
    assert window == {k for k, d in rows.items() if lo <= d < hi}
    assert window and window != set(rows)
    older = ids(get("Observation", token, date=f"lt{lo}", _count=500))
    assert older == {k for k, d in rows.items() if d < lo}
    assert any(k.startswith("screen-") for k in older)
    assert any(k.startswith("score-") for k in older)
    admission = active.current_episode.admission_date
    qrs = ids(get("QuestionnaireResponse", token, date=f"le{admission}"))
    assert qrs == {
        str(x.uuid)
        for x in InstrumentResponse.objects.filter(
            participant__program=world.program, administered_on__lte=admission
        )
    }
    assert len(qrs) == 2  # PHQ-9 and GAD-7 at admission

    # status: a changed response is amended, as Observation and as QuestionnaireResponse.
    changed = response_of(world, "GAD-7")
    InstrumentResponse.objects.filter(pk=changed.pk).update(version=2)
    assert ids(get("Observation", token, status="amended")) == {f"score-{changed.uuid}"}
    finals = ids(get("Observation", token, status="final", _count=500))
    assert finals == set(rows) - {f"score-{changed.uuid}"}
    assert ids(get("Observation", token, status="cancelled")) == set()
    amended = resources(get("QuestionnaireResponse", token, status="amended"))
    assert [(r["id"], r["status"]) for r in amended] == [(str(changed.uuid), "amended")]
    assert str(changed.uuid) not in ids(get("QuestionnaireResponse", token, status="completed"))

    # code: LOINC or local, with or without the system; comma = any, repeated = all.
    phq = {f"score-{x.uuid}" for x in InstrumentResponse.objects.filter(instrument="PHQ-9")}
    thc = {f"screen-{r.uuid}" for r in Result.objects.filter(analyte__code="THC")}
    checkins = {k for k in rows if k.startswith("checkin-")}
    assert len(phq) == 2 and len(thc) == 2
    assert ids(get("Observation", token, code=f"{LOINC}|44261-6")) == phq
    assert ids(get("Observation", token, code="44261-6")) == phq
    assert ids(get("Observation", token, code="urn:openiop:instrument-score|PHQ-9")) == phq
    assert ids(get("Observation", token, code="urn:openiop:analyte|THC")) == thc
    assert ids(get("Observation", token, code=THC_LOINC)) == thc
    assert ids(get("Observation", token, code=f"{LOINC}|THC")) == set()
    assert ids(get("Observation", token, code="daily-check-in")) == checkins
    assert ids(get("Observation", token, code="44261-6,THC,daily-check-in")) == (
        phq | thc | checkins
    )
    assert ids(get("Observation", token, code=["44261-6", "daily-check-in"])) == set()
    assert ids(get("Observation", token, code="http://example.org|44261-6")) == set()
    assert ids(get("Observation", token, code="|44261-6")) == set()
    bam = response_of(world, "BAM")
    assert ids(get("Observation", token, code="BAM")) == {f"score-{bam.uuid}"}
    cssrs = response_of(world, "C-SSRS")
    assert ids(get("Observation", token, code=f"{LOINC}|93374-7")) == {f"score-{cssrs.uuid}"}

    # category: laboratory is the screens; survey the check-ins and the scores.
    screens = {k for k in rows if k.startswith("screen-")}
    assert ids(get("Observation", token, category="laboratory", _count=500)) == screens
    survey = ids(get("Observation", token, category=f"{CATEGORY}|survey", _count=500))
    assert survey == set(rows) - screens
    assert ids(get("Observation", token, category="vital-signs")) == set()
    both = ids(get("Observation", token, category="laboratory", code="THC"))
    assert both == thc

    # _id across sources; a bare uuid is no Observation id.
    some = [sorted(checkins)[0], sorted(screens)[0], sorted(phq)[0]]
    assert ids(get("Observation", token, _id=",".join(some))) == set(some)
    assert ids(get("Observation", token, _id=some[0].split("-", 1)[1])) == set()
    for fhir_id in some:
        read = get(f"Observation/{fhir_id}", token)
        assert read.status_code == 200 and read.data["id"] == fhir_id

    # Bad token values are 400 outcomes, not errors.
    for bad in ("a,,b", "http://loinc.org|", "\x00", "THC\x00"):
        response = get("Observation", token, code=bad)
        assert response.status_code == 400, (bad, response.content)
        validate(response.data)

    # The CapabilityStatement offers code and category.
    metadata = get("metadata", None).data
    obs = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "Observation")
    assert {"patient", "date", "status", "code", "category"} <= {
        p["name"] for p in obs["searchParam"]
    }


def test_voided_rows_are_gone(story):
    world = story
    token = token_for(world)
    phq = world.response
    InstrumentResponse.objects.filter(pk=phq.pk).update(voided=True)
    result = Result.objects.filter(analyte__code="COC").get()
    screening.void_result(result, actor=world.lab, reason="Wrong specimen")
    CheckIn.objects.filter(pk=world.check_in.pk).update(voided=True)
    gone = [
        f"Observation/score-{phq.uuid}",
        f"QuestionnaireResponse/{phq.uuid}",
        f"Observation/screen-{result.uuid}",
        f"Observation/checkin-{world.check_in.uuid}",
    ]
    for path in gone:
        assert get(path, token).status_code == 410, path
    served = ids(get("Observation", token, _count=500)) | ids(
        get("QuestionnaireResponse", token, _count=500)
    )
    assert not {p.split("/", 1)[1] for p in gone} & served


def test_paging_walks_every_observation_once(story):
    world = story
    token = token_for(world)
    everything = ids(get("Observation", token, _count=500))
    response = get("Observation", token, _count=1)
    total = response.data["total"]
    assert total == len(everything) > 10
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += [e["resource"]["id"] for e in response.data["entry"]]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
        assert response.status_code == 200
    assert pages == total and len(seen) == len(set(seen)) and set(seen) == everything


def test_a_page_costs_the_same_queries_for_one_or_many_resources(story):
    world = story
    token = token_for(world)
    attendance.record_check_in(
        world.active.current_episode,
        attendance_rules.CheckInValues(
            mood=7, craving=2, used=False, substances="", stress=3, sleep_hours=Decimal("7")
        ),
        actor=world.counsellor,
    )
    patient = str(world.active.uuid)
    everything = resources(get("Observation", token, patient=patient, _count=500))
    one_each = [
        next(r["id"] for r in everything if r["id"].startswith(prefix))
        for prefix in ("checkin-", "screen-", "score-")
    ]
    qr_all = resources(get("QuestionnaireResponse", token, patient=patient))
    assert len(everything) > 10 and len(qr_all) > 5

    def cost(resource_type: str, **params: Any) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = get(resource_type, token, patient=patient, **params)
        assert response.status_code == 200
        return len(queries), len(response.data["entry"])

    few, n_few = cost("Observation", _id=",".join(one_each))
    many, n_many = cost("Observation", _count=500)
    assert (n_few, n_many) == (3, len(everything))
    assert few == many
    few, n_few = cost("QuestionnaireResponse", _id=qr_all[0]["id"])
    many, n_many = cost("QuestionnaireResponse")
    assert (n_few, n_many) == (1, len(qr_all))
    assert few == many


def test_an_outside_client_needs_consent_for_the_patient(story):
    world = story
    add_privacy(world)  # world.active: TPO consent (all but counselling notes); referred none
    client, _ = make_client(
        world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital", recipient_kind="provider"
    )
    token = make_token(client)
    for resource_type in ("Observation", "QuestionnaireResponse"):
        refused = get(resource_type, token, patient=str(world.referred.uuid))
        assert refused.status_code == 403, refused.content
        assert refused.data["issue"][0]["code"] == "suppressed"
        validate(refused.data)
    assert Disclosure.objects.count() == 0
    allowed = resources(get("Observation", token, patient=str(world.active.uuid), _count=500))
    assert {r["id"].split("-")[0] for r in allowed} == {"checkin", "screen", "score"}
    disclosure = Disclosure.objects.get()
    assert disclosure.participant_id == world.active.pk
    assert set(disclosure.information) == {"progress", "screening", "assessment"}


# --- tokens -----------------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_characters="|,\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
).filter(lambda t: t.strip() == t)


@given(system=_text, code=_text)
def test_tokens_keep_system_and_code_apart(system, code):
    assert parse_tokens(f"{system}|{code}", "code") == [Token(system, code)]
    assert parse_tokens(code, "code") == [Token(None, code)]
    assert parse_tokens(f"|{code}", "code") == [Token("", code)]
    token = Token(system, code)
    assert token.matches(system, code)
    assert not token.matches(system + "x", code)
    assert Token(None, code).matches(system, code)
    assert not Token("", code).matches(system, code)


@given(st.text(max_size=60))
def test_any_token_text_parses_or_is_a_400(text):
    try:
        tokens = parse_tokens(text, "code")
    except FhirError as exc:
        assert exc.status == 400
    else:
        assert tokens and all(t.code and "\x00" not in t.code for t in tokens)
