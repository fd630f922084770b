"""Treatment plan services: versions, keys, one draft at a time, signing rules and who
may sign, review due dates from the program setting, active goals, reviews due."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.plans import services
from openiop.plans.choices import GoalStatus, PlanStatus, SignatureRole
from openiop.plans.models import (
    Goal,
    InterventionTemplate,
    Objective,
    PlanIntervention,
    PlanSignature,
    Problem,
    SignedRecordError,
    TreatmentPlan,
)
from openiop.testing import (
    make_participant,
    make_signed_plan,
    make_user,
)

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def fill(plan, actor, *, target: dt.date | None = None):
    """One problem, goal, objective (with a target date) and intervention."""
    problem = services.add_problem(plan, actor, asam_dimension=2, statement="Poor sleep.")
    goal = services.add_goal(problem, actor, text="I want to sleep.")
    objective = services.add_objective(
        goal, actor, text="Sleep 6 hours, 5 nights a week.", target_date=target
    )
    services.add_intervention(
        objective,
        actor,
        template=InterventionTemplate.objects.filter(modality="holistic").first(),
        frequency="weekly",
    )
    return problem, goal, objective


# --- the library ----------------------------------------------------------------------


def test_the_library_is_seeded_for_every_modality(db):
    from openiop.plans.choices import Modality

    for modality in Modality.values:
        count = InterventionTemplate.objects.filter(modality=modality, active=True).count()
        assert count >= 4, modality


# --- starting and versions -------------------------------------------------------------


def test_start_plan_makes_version_1_once_and_returns_the_open_draft(world):
    evening = make_participant(
        world.program, world.intake, last="Evening", status="active", counsellor=world.counsellor
    )
    episode = evening.current_episode
    plan = services.start_plan(episode, world.counsellor)
    assert plan.number == 1 and plan.status == PlanStatus.DRAFT
    assert services.start_plan(episode, world.supervisor).pk == plan.pk
    assert TreatmentPlan.objects.filter(episode=episode).count() == 1
    assert AuditEvent.objects.filter(
        action="create", object_type="plans.treatmentplan", object_id=str(plan.pk)
    ).exists()


def test_a_plan_needs_an_admitted_episode(world):
    with pytest.raises(services.PlanError, match="admitted"):
        services.start_plan(world.referred.current_episode, world.counsellor)


def test_start_plan_refuses_when_a_signed_plan_exists(world):
    # world.active has a signed v1 and a v2 draft: the draft is returned.
    assert services.start_plan(world.active.current_episode, world.counsellor) == world.draft_plan
    evening = make_participant(
        world.program, world.intake, last="Evening", status="active", counsellor=world.counsellor
    )
    make_signed_plan(evening, world.counsellor)
    with pytest.raises(services.PlanError, match="new version"):
        services.start_plan(evening.current_episode, world.counsellor)


def test_new_version_copies_everything_and_keeps_keys(world):
    v1, v2 = world.plan, world.draft_plan
    assert v2.number == 2 and v2.previous_id == v1.pk and v2.status == PlanStatus.DRAFT
    assert v2.reason == "review" and v2.change_summary == "30-day review."
    assert v2.participant_statement == v1.participant_statement
    old_goals = {g.key: g for g in Goal.objects.filter(plan=v1)}
    new_goals = {g.key: g for g in Goal.objects.filter(plan=v2)}
    assert old_goals.keys() == new_goals.keys()
    assert all(old_goals[k].pk != new_goals[k].pk for k in old_goals)
    old_obj = set(Objective.objects.filter(goal__plan=v1).values_list("key", "text", "target_date"))
    new_obj = set(Objective.objects.filter(goal__plan=v2).values_list("key", "text", "target_date"))
    assert old_obj == new_obj
    assert set(Problem.objects.filter(plan=v1).values_list("key", "statement")) == set(
        Problem.objects.filter(plan=v2).values_list("key", "statement")
    )
    assert list(
        PlanIntervention.objects.filter(objective__goal__plan=v2).values_list(
            "template", "description", "frequency", "responsible"
        )
    ) == list(
        PlanIntervention.objects.filter(objective__goal__plan=v1).values_list(
            "template", "description", "frequency", "responsible"
        )
    )
    # The signed version is untouched and still in force until v2 is signed.
    v1.refresh_from_db()
    assert v1.status == PlanStatus.SIGNED
    assert services.current_plan(v1.episode) == v1


def test_only_one_draft_per_episode(world):
    again = services.new_version(world.plan, world.supervisor, "condition")
    assert again.pk == world.draft_plan.pk
    assert TreatmentPlan.objects.filter(episode=world.plan.episode, status="draft").count() == 1


def test_new_version_keeps_free_text_as_the_summary(world):
    evening = make_participant(
        world.program, world.intake, last="Evening", status="active", counsellor=world.counsellor
    )
    v1 = make_signed_plan(evening, world.counsellor)
    v2 = services.new_version(v1, world.counsellor, "Relapsed after a funeral.")
    assert v2.reason == "other" and v2.change_summary == "Relapsed after a funeral."


# --- editing the draft -------------------------------------------------------------------


def test_edits_to_the_draft_are_audited_and_bump_its_version(world):
    draft = world.draft_plan
    before = TreatmentPlan.objects.get(pk=draft.pk).version
    problem = services.add_problem(draft, world.counsellor, asam_dimension=3, statement="Low mood.")
    draft.refresh_from_db()
    assert draft.version == before + 1
    assert AuditEvent.objects.filter(
        object_type="plans.treatmentplan", object_id=str(draft.pk), action="change"
    ).exists()
    services.remove_problem(problem, world.counsellor)
    assert not Problem.objects.filter(pk=problem.pk).exists()


def test_removing_a_draft_problem_removes_its_goals_and_objectives(world):
    problem = Problem.objects.get(plan=world.draft_plan)
    goal_ids = list(problem.goals.values_list("pk", flat=True))
    services.remove_problem(problem, world.counsellor)
    assert not Goal.objects.filter(pk__in=goal_ids).exists()
    assert not Objective.objects.filter(goal_id__in=goal_ids).exists()
    # The signed version keeps its rows.
    assert Problem.objects.filter(plan=world.plan).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"asam_dimension": 0, "statement": "x"}, "dimension"),
        ({"asam_dimension": "seven", "statement": "x"}, "dimension"),
        ({"asam_dimension": 2, "statement": "   "}, "empty"),
        ({"asam_dimension": 2, "statement": "a\x00b"}, "NUL"),
        ({"asam_dimension": 2, "statement": "x" * 2001}, "2,000"),
    ],
)
def test_bad_problem_input_is_refused(world, kwargs, message):
    with pytest.raises(services.PlanInputError, match=message):
        services.add_problem(world.draft_plan, world.counsellor, **kwargs)


def test_target_dates_far_off_are_refused(world):
    goal = Goal.objects.get(plan=world.draft_plan)
    today = world.program.today()
    with pytest.raises(services.PlanInputError, match="three years"):
        services.add_objective(
            goal, world.counsellor, text="x", target_date=today + dt.timedelta(days=4000)
        )
    with pytest.raises(services.PlanInputError, match="year ago"):
        services.add_objective(
            goal, world.counsellor, text="x", target_date=today - dt.timedelta(days=400)
        )


def test_an_intervention_from_the_library_gets_its_description(world):
    objective = Objective.objects.get(goal__plan=world.draft_plan)
    template = InterventionTemplate.objects.filter(modality="mi").first()
    item = services.add_intervention(
        objective, world.counsellor, template=template, frequency="weekly"
    )
    assert item.description == template.description
    with pytest.raises(services.PlanInputError, match="library"):
        services.add_intervention(objective, world.counsellor, template=None, frequency="weekly")


def test_the_responsible_person_must_work_in_the_program(world):
    objective = Objective.objects.get(goal__plan=world.draft_plan)
    with pytest.raises(services.PlanInputError, match="staff of this program"):
        services.add_intervention(
            objective,
            world.counsellor,
            description="Walk",
            frequency="daily",
            responsible=world.outsider,
        )


# --- signing ----------------------------------------------------------------------------


def test_signing_needs_goals_objectives_and_target_dates(world):
    evening = make_participant(
        world.program, world.intake, last="Evening", status="active", counsellor=world.counsellor
    )
    plan = services.start_plan(evening.current_episode, world.counsellor)
    with pytest.raises(services.PlanError, match="at least one problem"):
        services.sign_as_clinician(plan, world.counsellor)
    problem = services.add_problem(plan, world.counsellor, asam_dimension=1, statement="x")
    with pytest.raises(services.PlanError, match="has no goal"):
        services.sign_as_clinician(plan, world.counsellor)
    goal = services.add_goal(problem, world.counsellor, text="y")
    with pytest.raises(services.PlanError, match="has no objective"):
        services.sign_as_clinician(plan, world.counsellor)
    objective = services.add_objective(goal, world.counsellor, text="z", target_date=None)
    with pytest.raises(services.PlanError, match="no target date"):
        services.sign_as_clinician(plan, world.counsellor)
    services.change_objective(
        objective, world.counsellor, text="z", target_date=world.program.today()
    )
    signed = services.sign_as_clinician(plan, world.counsellor)
    assert signed.status == PlanStatus.SIGNED


def test_signing_sets_review_due_from_the_program_setting_and_supersedes(world):
    world.program.plan_review_days = 45
    world.program.save(update_fields=["plan_review_days"])
    v2 = services.sign_as_clinician(world.draft_plan, world.supervisor)
    today = world.program.today()
    assert v2.effective_date == today
    assert v2.review_due == today + dt.timedelta(days=45)
    assert v2.signed_name == world.supervisor.get_full_name()
    assert v2.clinician == world.supervisor
    v1 = TreatmentPlan.objects.get(pk=world.plan.pk)
    assert v1.status == PlanStatus.SUPERSEDED and v1.superseded_at is not None
    assert services.current_plan(v2.episode) == v2
    sig = PlanSignature.objects.get(plan=v2, role=SignatureRole.CLINICIAN)
    assert sig.user == world.supervisor and sig.at == v2.signed_at


def test_the_default_review_is_30_days(world):
    assert world.plan.review_due == world.plan.effective_date + dt.timedelta(days=30)


def test_a_stale_version_is_not_signed(world):
    with pytest.raises(services.PlanError, match="changed since"):
        services.sign_as_clinician(
            world.draft_plan, world.counsellor, expected_version=world.draft_plan.version - 1
        )


def test_who_may_sign(world):
    with pytest.raises(services.PlanError):
        services.sign_as_clinician(world.draft_plan, world.lab)
    # The participant signs after the clinician, with a clinician handing the tablet.
    with pytest.raises(services.PlanError, match="first"):
        services.sign_as_participant(world.draft_plan, world.counsellor, typed_name="Pat")
    with pytest.raises(services.PlanError, match="tablet"):
        services.sign_as_participant(world.plan, world.billing, typed_name="Pat")
    sig = services.sign_as_participant(world.plan, world.counsellor, typed_name="Pat", image=PNG)
    assert sig.user is None and sig.witnessed_by == world.counsellor
    assert sig.name == world.active.legal_name and sig.typed_name == "Pat"
    with pytest.raises(services.PlanError, match="already signed"):
        services.sign_as_participant(world.plan, world.counsellor, typed_name="Pat")
    # The supervisor: plan.approve, and not the plan's own clinician.
    with pytest.raises(services.PlanError, match="supervisor"):
        services.sign_as_supervisor(world.plan, world.counsellor)
    director_plan = services.sign_as_clinician(world.draft_plan, world.director)
    with pytest.raises(services.PlanError, match="someone else"):
        services.sign_as_supervisor(director_plan, world.director)
    # A superseded version is not signed any more.
    with pytest.raises(services.PlanError, match="newer version"):
        services.sign_as_supervisor(world.plan, world.supervisor)
    services.sign_as_supervisor(director_plan, world.supervisor)
    with pytest.raises(services.PlanError, match="already signed"):
        services.sign_as_supervisor(director_plan, world.supervisor)
    roles = set(PlanSignature.objects.filter(plan=director_plan).values_list("role", flat=True))
    assert roles == {"clinician", "supervisor"}


@pytest.mark.parametrize(
    "image",
    [
        "data:image/svg+xml;base64,PHN2Zz4=",
        "data:image/png;base64,AAAA",
        "data:image/png;base64,@@@",
        "https://example.org/x.png",
        "data:image/png;base64," + "A" * 400_000,
    ],
)
def test_a_drawn_signature_must_be_a_small_png(world, image):
    with pytest.raises(services.PlanInputError):
        services.sign_as_participant(world.plan, world.counsellor, typed_name="Pat", image=image)
    assert not PlanSignature.objects.filter(plan=world.plan, role="participant").exists()


# --- what changed -------------------------------------------------------------------------


def snap(number=1, statement="", problems=()):
    return services.PlanSnap(number, statement, tuple(problems))


def test_diff_is_pure_and_matches_by_key():
    o1 = services.ObjectiveSnap("o1", "Walk daily", dt.date(2026, 1, 10), "not_started")
    o2 = services.ObjectiveSnap("o2", "Call sponsor", dt.date(2026, 1, 5), "in_progress")
    g1 = services.GoalSnap("g1", "Stay sober", "active", (o1, o2))
    p1 = services.ProblemSnap("p1", 5, "Relapse risk", (g1,))
    old = snap(1, "I want my kids back", [p1])

    o1b = services.ObjectiveSnap("o1", "Walk daily, 30 minutes", dt.date(2026, 2, 10), "achieved")
    o3 = services.ObjectiveSnap("o3", "Attend 3 meetings a week", None, "not_started")
    g1b = services.GoalSnap("g1", "Stay sober", "active", (o1b, o3))
    g2 = services.GoalSnap("g2", "Sleep better", "active", ())
    p2 = services.ProblemSnap("p2", 3, "Low mood", (g2,))
    p1b = services.ProblemSnap("p1", 5, "Relapse risk", (g1b,))
    new = snap(2, "I want my kids back", [p1b, p2])

    result = services.diff(old, new)
    assert (result.old_number, result.new_number) == (1, 2)
    by = {(c.kind, c.change, c.key): c for c in result.changes}
    assert ("problem", "added", "p2") in by
    assert ("goal", "added", "g2") in by
    assert ("objective", "added", "o3") in by
    assert ("objective", "removed", "o2") in by
    changed = by[("objective", "changed", "o1")]
    assert ("Objective", "Walk daily", "Walk daily, 30 minutes") in changed.fields
    assert ("Target date", "2026-01-10", "2026-02-10") in changed.fields
    assert ("Status", "Not started", "Achieved") in changed.fields
    assert ("goal", "changed", "g1") not in by  # same text and status
    assert result.keys("added") == {"p2", "g2", "o3"}
    assert not services.diff(old, old)


def test_diff_sees_statement_goal_status_and_interventions():
    o = services.ObjectiveSnap("o", "x", None, "not_started", ("CBT — weekly",))
    goal = services.GoalSnap("g", "t", "active", (o,))
    old = snap(1, "a", [services.ProblemSnap("p", 1, "s", (goal,))])
    o2 = services.ObjectiveSnap("o", "x", None, "not_started", ("CBT — twice a week",))
    goal2 = services.GoalSnap("g", "t", "achieved", (o2,))
    new = snap(2, "b", [services.ProblemSnap("p", 2, "s2", (goal2,))])
    kinds = {(c.kind, c.change) for c in services.diff(old, new).changes}
    assert kinds == {
        ("plan", "changed"),
        ("problem", "changed"),
        ("goal", "changed"),
        ("objective", "changed"),
    }


def test_diff_of_two_saved_versions(world):
    objective = Objective.objects.get(goal__plan=world.draft_plan)
    services.change_objective(
        objective,
        world.counsellor,
        text="Use a coping skill at each craving, every day.",
        target_date=objective.target_date,
        status="in_progress",
    )
    result = services.diff(world.plan, TreatmentPlan.objects.get(pk=world.draft_plan.pk))
    assert [(c.kind, c.change) for c in result.changes] == [("objective", "changed")]
    assert ("Status", "Not started", "In progress") in result.changes[0].fields


# --- goals for other screens and reviews due ----------------------------------------------


def test_active_goals_uses_the_signed_plan_or_the_draft_in_constant_queries(world):
    episodes = [world.active.current_episode_id]
    for i in range(5):
        p = make_participant(
            world.program, world.intake, last=f"M{i}", status="active", counsellor=world.counsellor
        )
        make_signed_plan(p, world.counsellor)
        episodes.append(p.current_episode_id)
    draft_only = make_participant(
        world.program, world.intake, last="DraftOnly", status="active", counsellor=world.counsellor
    )
    plan = services.start_plan(draft_only.current_episode, world.counsellor)
    fill(plan, world.counsellor)
    episodes.append(draft_only.current_episode_id)
    none_yet = make_participant(
        world.program, world.intake, last="None", status="active", counsellor=world.counsellor
    )
    episodes.append(none_yet.current_episode_id)

    with CaptureQueriesContext(connection) as few:
        services.active_goals(episodes[:1])
    with CaptureQueriesContext(connection) as many:
        goals = services.active_goals(episodes)
        for items in goals.values():
            for g in items:
                list(g.objectives.all())
    assert len(many) == len(few) == 3
    # world.active: the signed v1's goal (not the v2 draft's copy).
    assert [g.plan_id for g in goals[world.active.current_episode_id]] == [world.plan.pk]
    assert [g.text for g in goals[draft_only.current_episode_id]] == ["I want to sleep."]
    assert goals[none_yet.current_episode_id] == []
    assert services.active_goals([]) == {}


def test_achieved_goals_are_not_active(world):
    goal = Goal.objects.get(plan=world.draft_plan)
    services.change_goal(goal, world.counsellor, text=goal.text, status=GoalStatus.ACHIEVED)
    services.sign_as_clinician(world.draft_plan, world.counsellor)
    assert services.active_goals([world.active.current_episode_id]) == {
        world.active.current_episode_id: []
    }


def test_reviews_due_for_a_caseload_and_a_program(world):
    today = world.program.today()
    other = make_user("other_counsellor", [Role.COUNSELLOR], [world.program])
    rows = {}
    for name, counsellor, days_ago in (
        ("Overdue", world.counsellor, 40),
        ("Soon", world.counsellor, 25),
        ("Later", world.counsellor, 10),
        ("Theirs", other, 35),
    ):
        p = make_participant(
            world.program, world.intake, last=name, status="active", counsellor=counsellor
        )
        plan = make_signed_plan(p, counsellor)
        effective = today - dt.timedelta(days=days_ago)
        # A signed plan cannot be changed through the ORM: back-date it in SQL.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE plans_treatmentplan SET effective_date = %s, review_due = %s WHERE id = %s",
                [effective, effective + dt.timedelta(days=30), plan.pk],
            )
        rows[name] = plan
    mine = services.reviews_due([world.program], counsellor=world.counsellor, today=today)
    names = [r.plan.participant.legal_last_name for r in mine]
    assert names == ["Overdue", "Soon"]
    assert mine[0].overdue and mine[0].days_overdue == 10
    assert not mine[1].overdue and mine[1].days_left == 5
    everyone = services.reviews_due([world.program], today=today)
    assert [r.plan.participant.legal_last_name for r in everyone] == ["Overdue", "Theirs", "Soon"]
    # A new version in progress is flagged; the review stays due until it is signed.
    services.new_version(rows["Overdue"], world.counsellor, "review")
    first = services.reviews_due([world.program], counsellor=world.counsellor, today=today)[0]
    assert first.has_draft
    # The program setting moves the due date of plans signed from then on.
    assert services.reviews_due([world.other_program], today=today) == []


def test_reviews_due_runs_a_fixed_number_of_queries(world):
    today = world.program.today()
    with CaptureQueriesContext(connection) as few:
        services.reviews_due([world.program], today=today + dt.timedelta(days=40))
    for i in range(4):
        p = make_participant(
            world.program, world.intake, last=f"R{i}", status="active", counsellor=world.counsellor
        )
        make_signed_plan(p, world.counsellor)
    with CaptureQueriesContext(connection) as many:
        rows = services.reviews_due([world.program], today=today + dt.timedelta(days=40))
        names = [(r.plan.participant.display_name, r.plan.episode.primary_counsellor) for r in rows]
    assert len(names) == 5
    assert len(many) == len(few)


def test_signed_rows_refuse_a_raw_update_path_too(world):
    with pytest.raises(SignedRecordError):
        TreatmentPlan.objects.filter(pk=world.plan.pk).update(review_due=dt.date(2030, 1, 1))
