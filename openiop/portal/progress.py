"""What the participant portal shows, read in a fixed number of queries whatever the
length of the record (the pages' query counts are pinned in tests).

Each function takes the participant's episode (`episode_of`) and the program day. The
rules are the staff chart's: hours against the minimum from `attendance.hours`, who is
expected at a session from `scheduling.enrolment`, the curriculum from
`scheduling.services.curriculum_for`, what is due from `instruments.due`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openiop.attendance import rules
from openiop.attendance.choices import ATTENDED
from openiop.attendance.hours import engagement_for
from openiop.attendance.models import Attendance, CheckIn
from openiop.core.charts import line_chart_svg
from openiop.instruments import catalogue
from openiop.instruments.models import InstrumentResponse
from openiop.participants.models import Episode
from openiop.plans.choices import GoalStatus, PlanStatus
from openiop.plans.models import Goal, Objective, TreatmentPlan
from openiop.programs.choices import Modality
from openiop.relapse.choices import SECTIONS
from openiop.relapse.queries import current_plan
from openiop.scheduling.enrolment import sessions_expected_for
from openiop.scheduling.models import Session, TopicAssignment
from openiop.scheduling.services import curriculum_for

from .questionnaires import SELF_ADMINISTERED, plain_name

UPCOMING_DAYS = 14
WEEKS_SHOWN = 6
CHECK_IN_POINTS = 30
RESPONSES_SHOWN = 60

# The relapse-prevention plan's sections, headed in the participant's words (the wallet
# card's headings, `relapse.choices.SECTIONS`), translated for the portal.
RELAPSE_HEADINGS = {
    "reasons": gettext_lazy("Why I am doing this"),
    "triggers": gettext_lazy("My triggers"),
    "high_risk": gettext_lazy("Situations to watch"),
    "warning_signs": gettext_lazy("My warning signs"),
    "coping": gettext_lazy("What helps me"),
    "craving_steps": gettext_lazy("When a craving hits, I will"),
}
assert set(RELAPSE_HEADINGS) == {key for key, *_ in SECTIONS}  # noqa: S101  (kept in step)


def episode_of(participant: Any) -> Episode | None:
    """The participant's current episode with its program and track (one query)."""
    if participant.current_episode_id is None:
        return None
    return (
        Episode.objects.select_related("program", "track")
        .filter(pk=participant.current_episode_id, voided=False)
        .first()
    )


# --- home -------------------------------------------------------------------------------


@dataclass
class SessionRow:
    session: Session
    telehealth: bool

    @property
    def join_link(self) -> str:
        return self.session.join_link if self.telehealth else ""


def upcoming(episode: Episode | None, today: dt.date) -> tuple[list[SessionRow], list[SessionRow]]:
    """(today's sessions, the next `UPCOMING_DAYS` days' sessions) the participant is
    expected at, cancelled ones included (shown as cancelled). Three queries."""
    if episode is None:
        return [], []
    last = today + dt.timedelta(days=UPCOMING_DAYS)
    sessions = sessions_expected_for([episode.pk], today, last).get(episode.pk, [])
    rows = [
        SessionRow(s, s.modality in (Modality.TELEHEALTH, Modality.HYBRID) and bool(s.join_link))
        for s in sessions
    ]
    return [r for r in rows if r.session.date == today], [r for r in rows if r.session.date > today]


def check_in_today(episode: Episode | None, today: dt.date) -> CheckIn | None:
    if episode is None:
        return None
    return CheckIn.objects.filter(episode=episode, day=today, voided=False).order_by("-at").first()


# --- progress ---------------------------------------------------------------------------


@dataclass
class WeekRow:
    week: dt.date
    hours: Any
    required: Any
    met: bool
    current: bool


@dataclass
class Progress:
    this_week_hours: Any = None
    required_hours: Any = None
    rate_pct: int | None = None
    weeks: list[WeekRow] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    mood_chart: Any = None
    craving_chart: Any = None
    measures: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)
    topics_done: int = 0


def progress(episode: Episode | None, today: dt.date) -> Progress:
    """Hours, attendance, check-in and questionnaire trends and the curriculum: eleven
    queries at most, whatever the record's length."""
    out = Progress()
    if episode is None or episode.admission_date is None:
        return out
    program = episode.program
    # 3 queries: marks, enrolments, closures.
    info = engagement_for([episode], today, weeks=WEEKS_SHOWN)[episode.pk]
    out.this_week_hours = info.this_week_hours
    out.required_hours = info.required_hours
    out.rate_pct = None if info.rate is None else round(float(info.rate) * 100)
    first_week = rules.week_start(episode.admission_date)
    this_monday = rules.week_start(today)
    out.weeks = [
        WeekRow(
            week=w.week,
            hours=rules.hours(w.minutes),
            required=rules.hours(w.required_minutes),
            met=not w.below,
            current=w.week == this_monday,
        )
        for w in reversed(info.weeks)
        if w.week >= first_week
    ]
    # 1 query: the latest check-ins.
    check_ins = list(
        CheckIn.objects.filter(episode=episode, voided=False).order_by("-day", "-at")[
            :CHECK_IN_POINTS
        ]
    )
    out.check_ins = check_ins[:5]
    check_ins.reverse()
    if check_ins:
        out.mood_chart = line_chart_svg(
            [(c.day, float(c.mood)) for c in check_ins],
            y_min=1,
            y_max=10,
            title=_("Mood at check-in (1–10)"),
            width=340,
            height=170,
        )
        out.craving_chart = line_chart_svg(
            [(c.day, float(c.craving)) for c in check_ins],
            y_min=0,
            y_max=10,
            title=_("Craving at check-in (0–10)"),
            width=340,
            height=170,
        )
    out.measures = _measures(episode)  # 1 query
    out.topics, out.topics_done = _topics(episode, program)  # 3–4 queries
    return out


def _measures(episode: Episode) -> list[dict[str, Any]]:
    responses = list(
        InstrumentResponse.objects.filter(
            episode=episode,
            voided=False,
            instrument__in=sorted(SELF_ADMINISTERED),
            total__isnull=False,
        )
        .only("instrument", "total", "administered_on")
        .order_by("-administered_on", "-pk")[:RESPONSES_SHOWN]
    )
    by_code: dict[str, list[tuple[dt.date, float]]] = {}
    for r in reversed(responses):
        by_code.setdefault(r.instrument, []).append((r.administered_on, float(r.total or 0)))
    out = []
    for code in sorted(by_code):
        definition = catalogue.get(code)
        if not definition.has_total:
            continue
        points = by_code[code]
        name = plain_name(definition)
        out.append(
            {
                "code": code,
                "name": name,
                "latest": points[-1],
                "count": len(points),
                "lower_is_better": definition.higher_is_worse,
                "chart": line_chart_svg(
                    points,
                    y_min=definition.min_total,
                    y_max=definition.max_total,
                    title=name,
                    width=340,
                    height=160,
                ),
            }
        )
    return out


def _topics(episode: Episode, program: Any) -> tuple[list[dict[str, Any]], int]:
    """The track's curriculum: each topic done (attended, or done as individual work) or
    still to come."""
    if episode.track is None:
        return [], 0
    topics = curriculum_for(episode.track, program)
    if not topics:
        return [], 0
    attended: dict[int, dt.date] = {}
    for topic_id, day in (
        Attendance.objects.filter(
            episode=episode,
            voided=False,
            session__voided=False,
            session__topic__isnull=False,
            status__in=sorted(ATTENDED),
        )
        .order_by("session__date")
        .values_list("session__topic_id", "session__date")
    ):
        attended.setdefault(topic_id, day)
    individually = dict(
        TopicAssignment.objects.filter(
            episode=episode, voided=False, completed_on__isnull=False
        ).values_list("topic_id", "completed_on")
    )
    rows = []
    for topic in topics:
        done_on = attended.get(topic.pk) or individually.get(topic.pk)
        rows.append(
            {
                "title": topic.title,
                "done": done_on is not None,
                "done_on": done_on,
                "individually": topic.pk not in attended and topic.pk in individually,
            }
        )
    return rows, sum(1 for r in rows if r["done"])


# --- my plan ----------------------------------------------------------------------------


def treatment_plan(episode: Episode | None) -> TreatmentPlan | None:
    """The signed treatment plan in force with its active and achieved goals, their
    objectives and how the program will help (four queries)."""
    if episode is None:
        return None
    objectives = Objective.objects.order_by("order", "pk").prefetch_related("interventions")
    goals = (
        Goal.objects.filter(status__in=[GoalStatus.ACTIVE, GoalStatus.ACHIEVED])
        .order_by("problem__order", "order", "pk")
        .prefetch_related(Prefetch("objectives", queryset=objectives))
    )
    return (
        TreatmentPlan.objects.filter(episode=episode, status=PlanStatus.SIGNED, voided=False)
        .prefetch_related(Prefetch("goals", queryset=goals, to_attr="shown_goals"))
        .order_by("-number")
        .first()
    )


def relapse_plan(episode: Episode | None) -> dict[str, Any] | None:
    """The signed relapse-prevention plan in force, its sections in the participant's
    words and its support people (two queries)."""
    plan = current_plan(episode)
    if plan is None:
        return None
    sections = [
        {"key": key, "heading": RELAPSE_HEADINGS[key], "items": list(getattr(plan, key) or [])}
        for key, *_rest in SECTIONS
    ]
    people = [p for p in plan.support_people.all() if not p.contact.voided]
    return {"plan": plan, "sections": sections, "people": people}
