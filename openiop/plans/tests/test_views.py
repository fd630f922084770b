"""Plan pages: building a plan through the editor's forms, signing (clinician, tablet,
supervisor), a crafted POST to every edit URL of a signed version (409, nothing changed),
bad input (400 with the reason), pinned query counts, the chart section, the today
board and the reviews page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.plans import services
from openiop.plans.models import (
    Goal,
    InterventionTemplate,
    Objective,
    PlanIntervention,
    PlanSignature,
    Problem,
    TreatmentPlan,
)
from openiop.testing import make_participant, make_signed_plan

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def url(name, participant, plan=None):
    kwargs = {"pk": participant.pk}
    if plan is not None:
        kwargs["plan_pk"] = plan.pk
    return reverse(f"plans:{name}", kwargs=kwargs)


def content_of(plan) -> dict:
    """Everything a version holds (to prove nothing changed)."""
    return {
        "plan": list(TreatmentPlan.objects.filter(pk=plan.pk).values()),
        "problems": list(Problem.objects.filter(plan=plan).order_by("pk").values()),
        "goals": list(Goal.objects.filter(plan=plan).order_by("pk").values()),
        "objectives": list(Objective.objects.filter(goal__plan=plan).order_by("pk").values()),
        "interventions": list(
            PlanIntervention.objects.filter(objective__goal__plan=plan).order_by("pk").values()
        ),
        "signatures": list(PlanSignature.objects.filter(plan=plan).order_by("pk").values()),
    }


# --- building and signing through the pages ----------------------------------------------


def test_a_counsellor_builds_signs_and_the_participant_and_supervisor_sign(world, login):
    p = make_participant(
        world.program, world.intake, last="Newplan", status="active", counsellor=world.counsellor
    )
    client = login(world.counsellor)
    page = client.get(url("current", p))
    assert b"No treatment plan yet" in page.content
    response = client.post(url("start", p))
    plan = TreatmentPlan.objects.get(participant=p)
    assert response["Location"] == url("edit", p, plan)
    assert (
        client.post(
            url("edit", p, plan),
            {"participant_statement": "I want my licence back.", "reason": "initial"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            url("problem", p, plan),
            {"action": "add", "asam_dimension": "5", "statement": "Drinks after work most days."},
        ).status_code
        == 302
    )
    problem = Problem.objects.get(plan=plan)
    assert (
        client.post(
            url("goal", p, plan), {"action": "add", "parent": problem.pk, "text": "Stop drinking."}
        ).status_code
        == 302
    )
    goal = Goal.objects.get(plan=plan)
    target = world.program.today() + dt.timedelta(days=28)
    assert (
        client.post(
            url("objective", p, plan),
            {
                "action": "add",
                "parent": goal.pk,
                "text": "Go 14 days in a row without a drink.",
                "target_date": target.isoformat(),
            },
        ).status_code
        == 302
    )
    objective = Objective.objects.get(goal=goal)
    template = InterventionTemplate.objects.filter(modality="cbt").first()
    assert (
        client.post(
            url("intervention", p, plan),
            {
                "action": "add",
                "parent": objective.pk,
                "template": template.pk,
                "description": "",
                "frequency": "3 groups a week",
                "responsible": world.counsellor.pk,
            },
        ).status_code
        == 302
    )
    item = PlanIntervention.objects.get(objective=objective)
    assert item.description == template.description and item.template == template
    editor = client.get(url("edit", p, plan))
    assert b"Drinks after work most days." in editor.content
    assert b"Stop drinking." in editor.content and template.name.encode() in editor.content

    plan.refresh_from_db()
    response = client.post(url("sign", p, plan), {"version": plan.version})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "signed"
    assert plan.review_due == plan.effective_date + dt.timedelta(days=30)

    tablet = client.get(url("participant_sign", p, plan))
    assert b"Your treatment plan" in tablet.content and b"signature-pad" in tablet.content
    response = client.post(
        url("participant_sign", p, plan),
        {"typed_name": "Robin Newplan", "image": PNG, "agree": "on"},
    )
    assert response["Location"] == url("signed", p, plan)
    sig = PlanSignature.objects.get(plan=plan, role="participant")
    assert sig.typed_name == "Robin Newplan" and sig.image == PNG
    assert sig.witnessed_by == world.counsellor

    sup = login(world.supervisor)
    response = sup.post(url("supervisor_sign", p, plan), {"version": plan.version})
    assert response.status_code == 302
    assert set(PlanSignature.objects.filter(plan=plan).values_list("role", flat=True)) == {
        "participant",
        "clinician",
        "supervisor",
    }
    page = sup.get(url("version", p, plan))
    assert page.content.count(b"Electronically signed") == 3


def test_a_new_version_shows_what_changed(world, login):
    client = login(world.counsellor)
    draft = world.draft_plan
    objective = Objective.objects.get(goal__plan=draft)
    response = client.post(
        url("objective", world.active, draft),
        {
            "action": "save",
            "row": objective.pk,
            "text": "Use a coping skill at each craving, every day.",
            "target_date": objective.target_date.isoformat(),
            "status": "in_progress",
        },
    )
    assert response.status_code == 302
    page = client.get(url("version", world.active, draft))
    assert b"What changed since version 1" in page.content
    assert b"Objective changed" in page.content
    assert b"Use a coping skill at each craving and log it, 5 days a week." in page.content
    assert b"Use a coping skill at each craving, every day." in page.content
    assert b"diff-changed" in page.content


def test_starting_a_new_version_from_the_page(world, login):
    p = make_participant(
        world.program, world.intake, last="Second", status="active", counsellor=world.counsellor
    )
    make_signed_plan(p, world.counsellor)
    client = login(world.counsellor)
    assert b"Why a new version" in client.get(url("start", p)).content
    response = client.post(url("start", p), {"reason": "condition", "change_summary": "Lapse."})
    v2 = TreatmentPlan.objects.get(participant=p, number=2)
    assert response["Location"] == url("edit", p, v2)
    assert v2.reason == "condition" and v2.change_summary == "Lapse."
    # Asking again goes back to the same draft.
    response = client.post(url("start", p), {"reason": "review"})
    assert response["Location"] == url("edit", p, v2)


# --- a signed version cannot be changed by a crafted POST -----------------------------------


def crafted_posts(world):
    plan = world.plan
    problem = Problem.objects.get(plan=plan)
    goal = Goal.objects.get(plan=plan)
    objective = Objective.objects.get(goal__plan=plan)
    item = PlanIntervention.objects.get(objective__goal__plan=plan)
    return [
        ("edit", {"participant_statement": "hacked", "reason": "other"}),
        ("problem", {"action": "add", "asam_dimension": "1", "statement": "hacked"}),
        ("problem", {"action": "save", "row": problem.pk, "asam_dimension": "1", "statement": "x"}),
        ("problem", {"action": "remove", "row": problem.pk}),
        ("goal", {"action": "add", "parent": problem.pk, "text": "hacked"}),
        ("goal", {"action": "save", "row": goal.pk, "text": "hacked", "status": "achieved"}),
        ("goal", {"action": "remove", "row": goal.pk}),
        ("objective", {"action": "add", "parent": goal.pk, "text": "hacked"}),
        (
            "objective",
            {"action": "save", "row": objective.pk, "text": "hacked", "target_date": "2027-01-01"},
        ),
        ("objective", {"action": "remove", "row": objective.pk}),
        (
            "intervention",
            {"action": "add", "parent": objective.pk, "description": "x", "frequency": "1"},
        ),
        (
            "intervention",
            {"action": "save", "row": item.pk, "description": "hacked", "frequency": "never"},
        ),
        ("intervention", {"action": "remove", "row": item.pk}),
        ("sign", {"version": plan.version}),
    ]


def test_a_crafted_post_to_each_edit_url_of_a_signed_version_is_refused(world, login):
    client = login(world.counsellor)
    before = content_of(world.plan)
    for name, data in crafted_posts(world):
        response = client.post(url(name, world.active, world.plan), data)
        assert response.status_code == 409, (name, data, response.status_code)
        assert b"signed" in response.content
        assert content_of(world.plan) == before, (name, data)


def test_a_crafted_post_with_a_row_of_the_signed_version_through_the_draft_is_refused(world, login):
    """The draft's URL with the signed version's row ids: a form error, nothing changed."""
    client = login(world.counsellor)
    signed_before = content_of(world.plan)
    draft_before = content_of(world.draft_plan)
    for name, data in crafted_posts(world)[1:-1]:
        response = client.post(url(name, world.active, world.draft_plan), data)
        if data["action"] == "add" and name == "problem":
            continue  # adding a problem to the draft is allowed
        assert response.status_code == 400, (name, data, response.status_code)
        assert b"not part of this plan" in response.content
    assert content_of(world.plan) == signed_before
    after = content_of(world.draft_plan)
    assert len(after["problems"]) == len(draft_before["problems"]) + 1
    assert after["goals"] == draft_before["goals"]
    assert after["objectives"] == draft_before["objectives"]


def test_the_signed_version_page_offers_no_editing(world, login):
    client = login(world.counsellor)
    response = client.get(url("edit", world.active, world.plan))
    assert response.status_code == 302
    assert response["Location"] == url("version", world.active, world.plan)
    page = client.get(url("version", world.active, world.plan))
    assert b"Change the problem" not in page.content


# --- bad input: 400 with a clear error ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("problem", {"action": "add", "asam_dimension": "9", "statement": "x"}, b"valid choice"),
        ("problem", {"action": "add", "asam_dimension": "2", "statement": ""}, b"required"),
        ("goal", {"action": "add", "text": "x"}, b"where to add"),
        ("goal", {"action": "save", "text": "x"}, b"which row"),
        (
            "objective",
            {"action": "add", "parent": "__goal__", "text": "x", "target_date": "2026-02-30"},
            b"valid date",
        ),
        (
            "objective",
            {"action": "add", "parent": "__goal__", "text": "x", "target_date": "2099-01-01"},
            b"three years",
        ),
        (
            "intervention",
            {"action": "add", "parent": "__objective__", "frequency": "weekly"},
            b"describe one",
        ),
        ("edit", {"reason": "nope"}, b"valid choice"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(world, login, name, data, message):
    draft = world.draft_plan
    data = dict(data)
    if data.get("parent") == "__goal__":
        data["parent"] = Goal.objects.get(plan=draft).pk
    if data.get("parent") == "__objective__":
        data["parent"] = Objective.objects.get(goal__plan=draft).pk
    before = content_of(draft)
    response = login(world.counsellor).post(url(name, world.active, draft), data)
    assert response.status_code == 400
    assert message in response.content
    assert content_of(draft) == before


def test_signing_an_incomplete_draft_is_refused_with_what_is_missing(world, login):
    client = login(world.counsellor)
    draft = world.draft_plan
    client.post(
        url("problem", world.active, draft),
        {"action": "add", "asam_dimension": "3", "statement": "Low mood."},
    )
    draft.refresh_from_db()
    response = client.post(url("sign", world.active, draft), {"version": draft.version})
    assert response.status_code == 409
    assert b"has no goal" in response.content
    assert TreatmentPlan.objects.get(pk=draft.pk).status == "draft"


def test_the_tablet_refuses_bad_signatures(world, login):
    client = login(world.counsellor)
    response = client.post(
        url("participant_sign", world.active, world.plan),
        {"typed_name": "Pat", "image": "data:image/png;base64,AAAA", "agree": "on"},
    )
    assert response.status_code == 400 and b"must be a PNG" in response.content
    response = client.post(url("participant_sign", world.active, world.plan), {"typed_name": "Pat"})
    assert response.status_code == 400 and b"required" in response.content
    response = client.post(
        url("participant_sign", world.active, world.draft_plan),
        {"typed_name": "Pat", "agree": "on"},
    )
    assert response.status_code == 409
    assert not PlanSignature.objects.filter(role="participant").exists()


def test_the_supervisor_cannot_sign_their_own_plan(world, login):
    plan = services.sign_as_clinician(world.draft_plan, world.supervisor)
    response = login(world.supervisor).post(
        url("supervisor_sign", world.active, plan), {"version": plan.version}
    )
    assert response.status_code == 409
    assert not PlanSignature.objects.filter(plan=plan, role="supervisor").exists()


# --- query counts --------------------------------------------------------------------------


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx)


def test_the_plan_pages_run_the_same_number_of_queries_for_1_or_5_problems(world, login):
    client = login(world.counsellor)
    draft = world.draft_plan
    one = {
        "current": _queries(client, url("current", world.active)),
        "version": _queries(client, url("version", world.active, draft)),
        "edit": _queries(client, url("edit", world.active, draft)),
    }
    for i in range(4):
        problem = services.add_problem(
            draft, world.counsellor, asam_dimension=i + 1, statement=f"Problem {i}"
        )
        goal = services.add_goal(problem, world.counsellor, text=f"Goal {i}")
        obj = services.add_objective(goal, world.counsellor, text=f"Obj {i}", target_date=None)
        services.add_intervention(obj, world.counsellor, description="Walk", frequency="daily")
    assert Problem.objects.filter(plan=draft).count() == 5
    five = {
        "current": _queries(client, url("current", world.active)),
        "version": _queries(client, url("version", world.active, draft)),
        "edit": _queries(client, url("edit", world.active, draft)),
    }
    assert five == one
    # Pinned, so a change that adds queries is seen.
    assert one["version"] <= 30 and one["edit"] <= 34


def test_the_reviews_page_runs_the_same_number_of_queries_for_few_or_many_plans(world, login):
    today = world.program.today()

    def overdue(plan):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE plans_treatmentplan SET review_due = %s WHERE id = %s",
                [today - dt.timedelta(days=3), plan.pk],
            )

    overdue(world.plan)
    director = login(world.director)
    few = _queries(director, reverse("plans_home:reviews"))
    for i in range(6):
        p = make_participant(
            world.program, world.intake, last=f"D{i}", status="active", counsellor=world.counsellor
        )
        overdue(make_signed_plan(p, world.counsellor))
    many = _queries(director, reverse("plans_home:reviews"))
    assert many == few
    assert few <= 20
    page = director.get(reverse("plans_home:reviews"))
    assert page.content.count(b"days overdue") == 7


# --- reviews, chart, board -----------------------------------------------------------------


def test_reviews_page_for_a_counsellor_and_a_director(world, login):
    today = world.program.today()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE plans_treatmentplan SET review_due = %s WHERE id = %s",
            [today - dt.timedelta(days=2), world.plan.pk],
        )
    mine = login(world.counsellor).get(reverse("plans_home:reviews"))
    assert b"Your caseload" in mine.content
    assert world.active.display_name.encode() in mine.content
    assert b"2 days overdue" in mine.content
    make_participant(
        world.program, world.intake, last="Sup", status="active", counsellor=world.supervisor
    )
    director = login(world.director)
    page = director.get(reverse("plans_home:reviews"))
    assert b"The whole program" in page.content and b"2 days overdue" in page.content
    filtered = director.get(reverse("plans_home:reviews"), {"counsellor": str(world.supervisor.pk)})
    assert b"No plan review is overdue" in filtered.content
    garbage = director.get(reverse("plans_home:reviews"), {"counsellor": "x" * 500})
    assert garbage.status_code == 200
    # The today board.
    board = login(world.counsellor).get(reverse("core:today"))
    assert b"Plan reviews due" in board.content
    assert b"overdue since" in board.content


def test_the_chart_shows_the_plan_and_its_review_date(world, login):
    chart = login(world.counsellor).get(reverse("participants:chart", args=[world.active.pk]))
    assert b"Treatment plan" in chart.content
    assert b"Get through a work week without using." in chart.content
    assert b"Version 2 is a draft in progress" in chart.content
    assert b"Participant has not signed" in chart.content
    billing = login(world.billing).get(reverse("participants:chart", args=[world.active.pk]))
    assert b"Get through a work week without using." not in billing.content


def test_the_program_setup_form_sets_the_review_interval(world, login):
    program = world.program
    data = {
        "name": program.name,
        "site": program.site_id,
        "time_zone": program.time_zone,
        "level_of_care": program.level_of_care,
        "population": program.population,
        "min_weekly_hours": "9",
        "absence_alert_after": "2",
        "craving_alert_at": "7",
        "plan_review_days": "60",
    }
    client = login(world.director)
    address = reverse("programs:edit", args=["program", program.pk])
    assert client.post(address, {**data, "plan_review_days": "3"}).status_code == 400
    assert client.post(address, data).status_code == 302
    program.refresh_from_db()
    assert program.plan_review_days == 60
    plan = services.sign_as_clinician(world.draft_plan, world.counsellor)
    assert plan.review_due == plan.effective_date + dt.timedelta(days=60)
    assert client.post(address, {**data, "plan_review_days": ""}).status_code == 302
    program.refresh_from_db()
    assert program.plan_review_days == 30
