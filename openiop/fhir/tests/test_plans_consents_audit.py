"""CarePlan (treatment and relapse-prevention plans), Goal, Consent and AuditEvent
(DOMAIN.md §7): the mapping of world.active's records, search, and who may read them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.core.models import AuditEvent
from openiop.fhir.models import ClientKind
from openiop.fhir.resources.consents import ConsentSource
from openiop.fhir.testing import get, make_client, make_token, resources, token_for, validate
from openiop.participants.models import Episode
from openiop.plans import services as plans
from openiop.plans.choices import PlanStatus as TPStatus
from openiop.plans.models import Goal, Objective, PlanIntervention, TreatmentPlan
from openiop.privacy import gate
from openiop.privacy.models import Consent
from openiop.privacy.services import revoke_consent
from openiop.relapse.choices import PlanStatus as RPStatus
from openiop.testing import add_privacy

pytestmark = pytest.mark.django_db

ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DCM = "http://dicom.nema.org/resources/ontology/DCM"


def pid(obj: Any) -> str:
    return str(obj.uuid)


def by_id(response: Any) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in resources(response)}


def mine(world: Any) -> dict[str, str]:
    return {"patient": f"Patient/{pid(world.active)}"}


# --- CarePlan ----------------------------------------------------------------------------


def test_treatment_and_relapse_plans_map_to_careplans(world):
    token = token_for(world)
    plan, draft = world.plan, world.draft_plan
    relapse, relapse_draft = world.relapse_plan, world.relapse_draft
    found = by_id(get("CarePlan", token, **mine(world)))
    assert set(found) == {
        pid(plan),
        pid(draft),
        f"relapse-{pid(relapse)}",
        f"relapse-{pid(relapse_draft)}",
    }
    patient = {"reference": f"Patient/{pid(world.active)}"}

    signed = found[pid(plan)]
    assert signed["status"] == "active" and signed["intent"] == "plan"
    assert signed["category"][0]["text"] == "Treatment plan"
    assert signed["subject"] == patient
    assert signed["period"] == {"start": plan.effective_date.isoformat()}
    assert signed["author"] == {"display": plan.signed_name}
    assert signed["note"] == [
        {"authorReference": patient, "text": "I want to keep my job and be there for my kids."}
    ]
    goal = Goal.objects.get(plan=plan)
    assert signed["goal"] == [{"reference": f"Goal/goal-{goal.pk}"}]
    intervention = PlanIntervention.objects.get(objective__goal=goal)
    [activity] = signed["activity"]
    detail = activity["detail"]
    assert detail["description"] == intervention.description
    assert detail["scheduledString"] == "3 groups a week"
    assert detail["status"] == "in-progress"
    assert detail["goal"] == [{"reference": f"Goal/goal-{goal.pk}"}]
    assert detail["code"]["coding"][0]["code"] == "cbt"
    assert detail["performer"] == [{"display": world.counsellor.display_name}]
    assert "kind" not in detail and "addresses" not in signed
    assert "replaces" not in signed

    new = found[pid(draft)]
    assert new["status"] == "draft" and "period" not in new and "author" not in new
    assert new["replaces"] == [{"reference": f"CarePlan/{pid(plan)}"}]
    assert new["activity"][0]["detail"]["status"] == "not-started"
    assert new["description"] == "Scheduled review: 30-day review."
    draft_goal = Goal.objects.get(plan=draft)
    assert new["goal"] == [{"reference": f"Goal/goal-{draft_goal.pk}"}]

    rp = found[f"relapse-{pid(relapse)}"]
    assert rp["status"] == "active"
    assert rp["category"][0]["text"] == "Relapse prevention plan"
    signed_day = relapse.signed_at.astimezone(world.program.tz).date()
    assert rp["period"]["start"] == signed_day.isoformat()
    assert rp["author"] == {"display": relapse.signed_name}
    descriptions = [a["detail"]["description"] for a in rp["activity"]]
    assert descriptions == [
        "Urge surfing",
        "Walk the dog",
        "Wait 15 minutes",
        "Call Dana",
        "Go to a meeting",
        "Call when a craving hits",
    ]
    assert rp["activity"][-1]["detail"]["performer"] == [{"display": "Dana Active"}]
    assert rp["activity"][2]["detail"]["code"]["text"] == "When cravings hit (step 1)"
    notes = [n["text"] for n in rp["note"]]
    assert "Triggers: Payday Fridays; Arguments at home" in notes
    assert notes[0] == "Reasons for recovery: My kids.; I want to keep my job."
    rd = found[f"relapse-{pid(relapse_draft)}"]
    assert rd["status"] == "draft"
    assert rd["replaces"] == [{"reference": f"CarePlan/relapse-{pid(relapse)}"}]

    # A read by id gives the same resource; another program's plan is not there.
    read = get(f"CarePlan/relapse-{pid(relapse)}", token)
    assert read.status_code == 200 and read.data["activity"] == rp["activity"]
    assert get(f"CarePlan/relapse-{pid(plan)}", token).status_code == 404
    # The CapabilityStatement lists the types and their parameters.
    meta = get("metadata", None).data
    validate(meta)
    params = {r["type"]: {p["name"] for p in r["searchParam"]} for r in meta["rest"][0]["resource"]}
    assert {"patient", "date", "status"} <= params["CarePlan"] & params["Consent"]
    assert {"patient", "date", "lifecycle-status"} <= params["Goal"]
    assert {"patient", "date"} <= params["AuditEvent"] and "status" not in params["AuditEvent"]
    # Both kinds of plan share the status codes the mapping relies on.
    assert {str(v) for v in TPStatus} == {str(v) for v in RPStatus}


def test_careplan_status_date_id_and_paging(world):
    token = token_for(world)
    plan, draft = world.plan, world.draft_plan
    relapse = world.relapse_plan
    ids = lambda **kw: set(by_id(get("CarePlan", token, **mine(world), **kw)))  # noqa: E731
    assert ids(status="active") == {pid(plan), f"relapse-{pid(relapse)}"}
    assert ids(status="draft") == {pid(draft), f"relapse-{pid(world.relapse_draft)}"}
    assert ids(status="revoked") == set()
    day = plan.effective_date
    # Drafts have no date; the relapse plan's date is the moment it was signed.
    assert ids(date=f"ge{day.isoformat()}") == {pid(plan), f"relapse-{pid(relapse)}"}
    assert ids(date=f"lt{day.isoformat()}") == set()
    assert ids(date=f"le{day.isoformat()}", _id=pid(plan)) == {pid(plan)}
    assert ids(_id=f"{pid(draft)},relapse-{pid(relapse)}") == {
        pid(draft),
        f"relapse-{pid(relapse)}",
    }
    # Signing version 2 supersedes version 1: revoked, with the day it ended.
    plans.sign_as_clinician(draft, world.counsellor)
    found = by_id(get("CarePlan", token, **mine(world), status="revoked,active"))
    assert found[pid(plan)]["status"] == "revoked"
    assert found[pid(plan)]["period"]["end"] == world.program.today().isoformat()
    assert found[pid(draft)]["status"] == "active"
    # A discharge completes the signed versions.
    Episode.objects.filter(pk=plan.episode_id).update(discharge_date=world.program.today())
    assert ids(status="completed") == {pid(draft), f"relapse-{pid(relapse)}"}
    # Paging: every plan once, one per page.
    seen: list[str] = []
    response = get("CarePlan", token, **mine(world), _count=1)
    while True:
        seen += [r["id"] for r in resources(response)]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
    assert len(seen) == len(set(seen)) == response.data["total"] == 4
    # Another program's participant has no plans here; a voided plan is gone.
    assert get("CarePlan", token, patient=pid(world.foreign)).data["total"] == 0
    TreatmentPlan.objects.filter(pk=plan.pk).update(voided=True)
    assert get(f"CarePlan/{pid(plan)}", token).status_code == 410


# --- Goal --------------------------------------------------------------------------------


def test_goals_map_and_search(world):
    token = token_for(world)
    plan, draft = world.plan, world.draft_plan
    goal, copy = Goal.objects.get(plan=plan), Goal.objects.get(plan=draft)
    objective = Objective.objects.get(goal=goal)
    found = by_id(get("Goal", token, **mine(world)))
    assert set(found) == {f"goal-{goal.pk}", f"goal-{copy.pk}"}
    g = found[f"goal-{goal.pk}"]
    assert g["lifecycleStatus"] == "active"
    assert g["achievementStatus"]["coding"][0]["code"] == "in-progress"
    assert g["description"] == {"text": "Get through a work week without using."}
    assert g["subject"] == {"reference": f"Patient/{pid(world.active)}"}
    assert g["startDate"] == plan.effective_date.isoformat()
    assert g["target"] == [{"dueDate": objective.target_date.isoformat()}]
    assert g["note"] == [
        {
            "text": f"Objective: {objective.text} (Not started; "
            f"target {objective.target_date.isoformat()})"
        }
    ]
    # The same goal across versions: one key, two ids.
    c = found[f"goal-{copy.pk}"]
    assert (
        c["identifier"]
        == g["identifier"]
        == [{"system": "urn:openiop:plan-goal-key", "value": str(goal.key)}]
    )
    assert c["lifecycleStatus"] == "proposed" and "achievementStatus" not in c
    assert "startDate" not in c
    # The ids are stable: a read gives the same resource.
    read = get(f"Goal/goal-{goal.pk}", token)
    assert read.status_code == 200 and read.data == g
    ids = lambda **kw: set(by_id(get("Goal", token, **mine(world), **kw)))  # noqa: E731
    day = plan.effective_date.isoformat()
    assert ids(date=f"ge{day}") == {f"goal-{goal.pk}"}
    assert ids(date=f"gt{day}") == set()
    assert ids(**{"lifecycle-status": "proposed"}) == {f"goal-{copy.pk}"}
    assert ids(**{"lifecycle-status": "completed,active"}) == {f"goal-{goal.pk}"}
    assert ids(_id=f"goal-{copy.pk},goal-x,{pid(plan)}") == {f"goal-{copy.pk}"}
    # One spelling per id: no aliases, and no 500 for digits int() would choke on.
    for odd in (f"goal-0{goal.pk}", "goal-\u00b2", "goal-\u0661", "goal-", "goal-" + "9" * 25):
        assert get(f"Goal/{odd}", token).status_code == 404, odd
        assert get("Goal", token, _id=odd).data["total"] == 0, odd
    # An achieved goal of the draft: completed and achieved.
    plans.change_goal(copy, world.counsellor, text=copy.text, status="achieved")
    c = get(f"Goal/goal-{copy.pk}", token).data
    assert c["lifecycleStatus"] == "completed"
    assert c["achievementStatus"]["coding"][0]["code"] == "achieved"
    # The goals of a voided plan are not served.
    TreatmentPlan.objects.filter(pk=draft.pk).update(voided=True)
    assert ids() == {f"goal-{goal.pk}"}
    assert get(f"Goal/goal-{copy.pk}", token).status_code == 404


# --- Consent -----------------------------------------------------------------------------


def test_consents_map_with_part2_policy_recipient_and_purposes(world):
    add_privacy(world)
    token = token_for(world)
    employer, tpo = world.consent, world.tpo_consent
    found = by_id(get("Consent", token, **mine(world)))
    assert set(found) == {pid(employer), pid(tpo)}
    c = found[pid(employer)]
    assert c["status"] == "active"
    assert c["scope"]["coding"][0]["code"] == "patient-privacy"
    assert c["category"][0]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "59284-0",
        "display": "Patient Consent",
    }
    assert c["patient"] == {"reference": f"Patient/{pid(world.active)}"}
    assert c["dateTime"] == employer.signed_on.isoformat()
    assert c["policyRule"]["coding"][0] == {
        "system": ACT_CODE,
        "code": "42CFRPart2",
        "display": "42 CFR Part2",
    }
    provision = c["provision"]
    assert provision["type"] == "permit"
    assert provision["period"] == {
        "start": employer.signed_on.isoformat(),
        "end": employer.expires_on.isoformat(),
    }
    [actor] = provision["actor"]
    assert actor["reference"] == {"display": "Acme Logistics"}
    assert actor["role"]["coding"][0]["code"] == "IRCP"
    assert provision["purpose"] == [
        {
            "system": "urn:openiop:consent-purpose",
            "code": "employment",
            "display": "Employment (verify attendance or fitness for work)",
        }
    ]
    assert {x["code"] for x in provision["class"]} == {"enrolment", "attendance"}
    assert provision["code"] == [{"text": "Dates of enrolment and the dates and hours attended"}]
    assert {x["code"] for x in provision["securityLabel"]} == {"R", "42CFRPart2", "SUD"}
    t = found[pid(tpo)]
    assert {(p["system"], p["code"]) for p in t["provision"]["purpose"]} == {
        (ACT_REASON, "TREAT"),
        (ACT_REASON, "HPAYMT"),
        (ACT_REASON, "HOPERAT"),
    }
    assert t["provision"]["period"] == {"start": tpo.signed_on.isoformat()}  # no expiry date
    assert "counselling_notes" not in {x["code"] for x in t["provision"]["class"]}
    assert t["category"][1]["coding"][0]["code"] == "tpo"


def test_a_revoked_expired_or_ended_consent_reads_inactive(world):
    add_privacy(world)
    token = token_for(world)
    employer, tpo = world.consent, world.tpo_consent
    ids = lambda **kw: set(by_id(get("Consent", token, **mine(world), **kw)))  # noqa: E731
    assert ids(status="active") == {pid(employer), pid(tpo)}
    assert ids(status="inactive") == set()
    revoke_consent(employer, actor=world.counsellor, revoked_on=world.program.today(), note="Call")
    assert get(f"Consent/{pid(employer)}", token).data["status"] == "inactive"
    assert ids(status="inactive") == {pid(employer)}
    assert ids(status="active") == {pid(tpo)}
    # The TPO consent ends with the treatment: a discharge today makes it inactive.
    Episode.objects.filter(participant=world.active).update(discharge_date=world.program.today())
    assert get(f"Consent/{pid(tpo)}", token).data["status"] == "inactive"
    assert ids(status="inactive") == {pid(employer), pid(tpo)}
    # An expiry date in the past.
    Consent.objects.filter(pk=employer.pk).update(
        revoked_on=None, revoked_at=None, expires_on=world.program.today() - dt.timedelta(days=1)
    )
    assert get(f"Consent/{pid(employer)}", token).data["status"] == "inactive"
    assert ids(status="active") == set()
    # date: the day it was signed.
    signed = employer.signed_on
    assert ids(date=f"ge{signed.isoformat()}", _id=pid(tpo)) == {pid(tpo)}
    assert ids(date=f"lt{signed.isoformat()}") == set()
    assert ids(date=f"eq{signed.isoformat()}") == {pid(employer), pid(tpo)}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    signed=st.integers(-40, 3),
    expires=st.none() | st.integers(-20, 20),
    revoked=st.booleans(),
    end_of_treatment=st.booleans(),
    discharge=st.none() | st.integers(-45, 5),
)
def test_the_status_filter_says_what_the_gate_says(
    world, signed, expires, revoked, end_of_treatment, discharge
):
    """For any consent and discharge, `status=active|inactive` picks exactly the consents
    the resource (and the gate) calls active or inactive."""
    today = timezone.localdate()
    day = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    Episode.objects.filter(participant=world.active).update(
        discharge_date=None if discharge is None else day(discharge)
    )
    Consent.objects.create(
        participant=world.active,
        kind="specific",
        discloser="Harbor IOP",
        recipient_kind="employer",
        recipient_name="Acme",
        purposes=["employment"],
        information=["attendance"],
        information_detail="Attendance",
        signed_by="Pat Active",
        signed_on=day(signed),
        expires_on=None if expires is None else day(expires),
        expiry_event="end_of_treatment" if end_of_treatment else "",
        revoked_on=day(signed) if revoked else None,
        revoked_at=timezone.now() if revoked else None,
    )
    source = ConsentSource()
    rows = list(source.queryset().filter(participant=world.active))
    gate_says = {c.pk: gate.consent_status(c, today)[0] for c in rows}
    assert {c.pk: source.in_force(c, today) for c in rows} == gate_says
    ctx = SimpleNamespace(tz=timezone.get_current_timezone())
    assert {c.pk: source.to_resource(c, ctx)["status"] == "active" for c in rows} == gate_says
    base = source.queryset().filter(participant=world.active)
    active = set(base.filter(source.status_filters["active"]).values_list("pk", flat=True))
    inactive = set(base.filter(source.status_filters["inactive"]).values_list("pk", flat=True))
    assert active == {pk for pk, ok in gate_says.items() if ok}
    assert inactive == {pk for pk, ok in gate_says.items() if not ok}


# --- AuditEvent --------------------------------------------------------------------------


def test_audit_events_of_the_programs_participants(world):
    add_privacy(world)
    token = token_for(world, name="Compliance")
    # Something to find: a read of the plan through the API, and a disclosure to an
    # outside client (with world.active's TPO consent).
    assert get(f"CarePlan/{pid(world.plan)}", token).status_code == 200
    outside, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    assert get(f"Patient/{pid(world.active)}", make_token(outside)).status_code == 200
    events = list(AuditEvent.objects.filter(participant_id=world.active.pk))
    found = by_id(get("AuditEvent", token, **mine(world), _count=500))
    assert set(found) == {f"audit-{e.seq}" for e in events}  # (the search's own comes after)
    events_qs = AuditEvent.objects.filter(participant_id=world.active.pk)
    read = events_qs.filter(object_type="fhir.CarePlan").get()
    r = found[f"audit-{read.seq}"]
    assert r["type"]["code"] == "rest" and r["subtype"][0]["code"] == "read"
    assert r["action"] == "R" and r["outcome"] == "0"
    assert r["recorded"] == read.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert r["agent"] == [
        {
            "who": {"display": read.actor_username},
            "requestor": True,
            "network": {"address": "127.0.0.1", "type": "2"},
        }
    ]
    assert r["source"]["observer"] == {"display": "OpenIOP"}
    patient_entity, what = r["entity"]
    assert patient_entity["what"] == {"reference": f"Patient/{pid(world.active)}"}
    assert what["what"] == {"reference": f"CarePlan/{pid(world.plan)}"}
    assert what["detail"] == [{"type": "categories", "valueString": "plan"}]
    disclosure = events_qs.filter(action="disclose").get()
    d = found[f"audit-{disclosure.seq}"]
    assert d["type"]["code"] == "110106" and d["action"] == "R"
    assert d["purposeOfEvent"] == [
        {"coding": [{"system": ACT_REASON, "code": "TREAT", "display": "treatment"}]}
    ]
    assert d["entity"][1]["what"]["identifier"]["system"] == "urn:openiop:object:privacy.disclosure"
    sign = events_qs.filter(action="sign", object_type="plans.treatmentplan").first()
    assert sign is not None
    s = found[f"audit-{sign.seq}"]
    assert s["type"]["code"] == "110110" and s["action"] == "U"
    assert s["agent"][0]["name"] == (world.counsellor.get_full_name() or "counsellor")
    # Whole program: the other program's participant's events and events about no one
    # are not served.
    everything = by_id(get("AuditEvent", token, _count=500))
    foreign = AuditEvent.objects.filter(participant_id=world.foreign.pk).first()
    assert foreign is not None and f"audit-{foreign.seq}" not in everything
    nobody = AuditEvent.objects.filter(participant_id__isnull=True).first()
    assert nobody is not None and f"audit-{nobody.seq}" not in everything
    assert get(f"AuditEvent/audit-{foreign.seq}", token).status_code == 404
    assert get(f"AuditEvent/audit-0{sign.seq}", token).status_code == 404
    assert get("AuditEvent/audit-\u00b2", token).status_code == 404
    assert get(f"AuditEvent/audit-{sign.seq}", token).data == s
    # date, with two prefixes; _id.
    at = read.at.astimezone(dt.UTC)
    before = {f"audit-{e.seq}" for e in events if e.at < read.at}
    lt = by_id(get("AuditEvent", token, **mine(world), _count=500, date=f"lt{at.isoformat()}"))
    assert set(lt) == before and f"audit-{read.seq}" not in lt
    ge = by_id(get("AuditEvent", token, **mine(world), _count=500, date=f"ge{at.isoformat()}"))
    assert f"audit-{read.seq}" in ge and not (set(ge) & before)
    assert set(by_id(get("AuditEvent", token, _id=f"audit-{read.seq},audit-x"))) == {
        f"audit-{read.seq}"
    }
    # Paging.
    page = get("AuditEvent", token, **mine(world), _count=2)
    assert len(resources(page)) == 2 and page.data["total"] >= len(found)
    assert any(link["relation"] == "next" for link in page.data["link"])


def test_an_outside_client_may_not_read_audit_events(world):
    add_privacy(world)  # even with a consent covering the client
    outside, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    token = make_token(outside)
    event = AuditEvent.objects.filter(participant_id=world.active.pk).first()
    for path in ("AuditEvent", f"AuditEvent/audit-{event.seq}"):
        response = get(path, token)
        assert response.status_code == 403, response.content
        assert response.data["resourceType"] == "OperationOutcome"
    refused = AuditEvent.objects.filter(action="denied", actor_username=f"api:{outside.client_id}")
    assert refused.count() == 2  # each refusal is in the audit log


def test_a_patient_scope_reads_only_its_participants_audit_events(world):
    token = token_for(world, scopes="patient/*.read", participant=world.active)
    found = by_id(get("AuditEvent", token, _count=500))
    assert found
    assert {r["entity"][0]["what"]["reference"] for r in found.values()} == {
        f"Patient/{pid(world.active)}"
    }
    other = AuditEvent.objects.filter(participant_id=world.referred.pk).first()
    assert get(f"AuditEvent/audit-{other.seq}", token).status_code == 404


# --- Queries -----------------------------------------------------------------------------


def _queries(path: str, token: str, **params: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = get(path, token, **params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(resources(response))


def test_a_page_costs_the_same_queries_for_one_or_several(world):
    add_privacy(world)
    token = token_for(world)
    plans.sign_as_clinician(world.draft_plan, world.counsellor)  # two versions, both full
    plans.new_version(world.draft_plan, world.counsellor, "review", "Again.")
    tp = [pid(p) for p in TreatmentPlan.objects.filter(participant=world.active)]
    rp = [f"relapse-{pid(world.relapse_plan)}", f"relapse-{pid(world.relapse_draft)}"]
    goals = [f"goal-{g.pk}" for g in Goal.objects.filter(plan__participant=world.active)]
    consents = [pid(world.consent), pid(world.tpo_consent)]
    cases = [
        ("CarePlan", {"_id": tp[0]}, {"_id": ",".join(tp)}),
        ("CarePlan", {"_id": rp[0]}, {"_id": ",".join(rp)}),
        ("Goal", {"_id": goals[0]}, {"_id": ",".join(goals)}),
        ("Consent", {"_id": consents[0]}, {"_id": ",".join(consents)}),
        ("AuditEvent", {**mine(world), "_count": 1}, {**mine(world), "_count": 30}),
    ]
    for rtype, one, several in cases:
        get(rtype, token, **one)  # warm up (the token's last use is written once)
        q_one, n_one = _queries(rtype, token, **one)
        q_several, n_several = _queries(rtype, token, **several)
        assert n_one == 1 and n_several > 1, (rtype, n_several)
        assert q_one == q_several, (rtype, q_one, q_several)
