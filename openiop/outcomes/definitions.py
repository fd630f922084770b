"""What every figure of the outcomes dashboard counts: one entry per figure.

The dashboard links each figure to its entry on the definitions page ("How is this
counted?"), and docs/user-guide/outcomes.md repeats them (a test checks that it names
every figure). Keys are also the CSV names (`outcomes:csv`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str
    title: str
    definition: str
    numerator: str
    denominator: str
    excluded: str


COMMON = (
    "Every figure counts the episodes of the chosen program only (the programs you work "
    "in), with the filters applied: the date range (both days included; by default the "
    "last 12 months up to today, a program day), the track the episode is in, and its "
    "referral source. The dashboard shows counts only, never names. Every rate is shown "
    "with its n (the denominator): a rate over a handful of people moves a lot with one "
    "person."
)

DEFINITIONS: tuple[Definition, ...] = (
    Definition(
        key="census",
        title="Census over time",
        definition=(
            "The number of people in care on the Monday of each week in the range: "
            "admitted on or before that day and not discharged before it (someone "
            "discharged on the Monday itself still counts that day)."
        ),
        numerator="Episodes in care on the day.",
        denominator="None (a count).",
        excluded="Referrals never admitted; voided episodes.",
    ),
    Definition(
        key="admissions",
        title="Admissions and discharges",
        definition=(
            "Admissions: episodes whose admission date is in the range. Discharges: "
            "episodes whose discharge date is in the range, by the discharge reason and "
            "its TEDS REASON code. Episodes discharged before discharges were recorded "
            "with a reason count as “not recorded”."
        ),
        numerator="Admissions; discharges of each reason.",
        denominator="None (counts).",
        excluded="Voided episodes and voided discharge records (counted as not recorded).",
    ),
    Definition(
        key="retention",
        title="Retention curve",
        definition=(
            "A Kaplan–Meier estimate of the share still in the program after a number of "
            "days, for the episodes admitted in the range. The event is a discharge for "
            "any reason other than completion (including a discharge whose reason was "
            "not recorded). A completed discharge is censored at its discharge date, and "
            "people still in care are censored at the end of the range (or today, if "
            "earlier). Survival is also given at 30, 60 and 90 days with the number "
            "still followed that long; the median is the first day the curve is at or "
            "below 50%."
        ),
        numerator="Product over days t of (1 − discharges not completed on day t ÷ at risk).",
        denominator="At risk on day t: episodes followed at least t days.",
        excluded=(
            "Episodes admitted outside the range. A survival figure is left blank past "
            "the longest stay followed."
        ),
    ),
    Definition(
        key="length_of_stay",
        title="Median length of stay",
        definition=(
            "The median number of days from admission to discharge of the episodes "
            "discharged in the range, whatever the reason."
        ),
        numerator="Days from admission to discharge, the middle value.",
        denominator="Discharges in the range (n).",
        excluded="People still in care.",
    ),
    Definition(
        key="completion",
        title="Completion rate",
        definition="The share of the discharges in the range whose reason is “completed”.",
        numerator="Discharges in the range with the reason completed.",
        denominator="All discharges in the range, every reason (including not recorded).",
        excluded="People still in care.",
    ),
    Definition(
        key="attendance",
        title="Attendance rate",
        definition=(
            "The share of scheduled sessions attended, for the sessions in the range of "
            "the episodes selected. Present, late, left early and telehealth count as "
            "attended; an unexcused absence as missed."
        ),
        numerator="Sessions attended.",
        denominator="Sessions attended plus sessions missed (unexcused).",
        excluded=(
            "Excused absences, cancelled sessions, and voided attendance or sessions are "
            "left out of both."
        ),
    ),
    Definition(
        key="screens",
        title="Negative-screen rate",
        definition=(
            "The share of resulted drug screens that were negative, for specimens "
            "collected on a day in the range. A specimen is resulted when it has at "
            "least one result that is not inconclusive; it is negative when none of its "
            "deciding results (the laboratory's definitive result where there is one) is "
            "an unexpected positive. A result positive only for a medication the person "
            "is prescribed (an expected medication) counts as negative for this rate."
        ),
        numerator="Resulted specimens with no unexpected positive.",
        denominator="Resulted specimens collected in the range.",
        excluded=(
            "Specimens with no result yet or only inconclusive ones, refusals, no-shows "
            "and cancelled tests (the screening statistics count those as the program's "
            "policy says), voided orders and results."
        ),
    ),
    Definition(
        key="instruments",
        title="Instrument change",
        definition=(
            "For each instrument, the episodes discharged in the range with at least two "
            "scores of it in the episode: the change from the first score to the last, "
            "its mean, and the share with reliable improvement (Jacobson–Truax reliable "
            "change index beyond 1.96 in the direction of improvement)."
        ),
        numerator=(
            "Mean change: sum of (last − first) ÷ n. Reliable improvement: episodes whose "
            "change is a reliable improvement."
        ),
        denominator=(
            "Episodes with two or more scores; for reliable improvement, those of "
            "instruments with published reliability."
        ),
        excluded="Voided responses and responses without a total.",
    ),
    Definition(
        key="follow_ups",
        title="Follow-up outcomes",
        definition=(
            "Follow-ups after discharge due in the range and closed, at each mark (30, "
            "60, 90, 180 and 365 days). Reach rate: reached ÷ (reached + not reached). "
            "Among people reached: the share with no alcohol or drug use since discharge, "
            "working or in school (full-time, part-time or in school or training), stably "
            "housed (stable housing or sober living), back in treatment, and the mean "
            "quality of life (0–10). Each share counts only those who answered the "
            "question."
        ),
        numerator="Reached; answers of each kind among the reached.",
        denominator=(
            "Reached plus not reached; for each outcome, the reached who answered "
            "(“declined to say” is not an answer)."
        ),
        excluded=(
            "Follow-ups still to do, declined follow-ups, follow-ups not needed "
            "(cancelled) and voided ones."
        ),
    ),
)

BY_KEY: dict[str, Definition] = {d.key: d for d in DEFINITIONS}

BREAKDOWNS = (
    "Every figure is also given by track and by referral source (a table each): the same "
    "definition applied to the episodes of that track or source. Episodes without a track "
    "are grouped as “No track”."
)
