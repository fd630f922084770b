"""Validated instruments as plain data: items, answers, bands, licences, LOINC codes.

Pure Python: no Django import, so any script or worker can load it. Scoring lives in
`scoring.py`, reliable change in `rci.py`.

Where a number comes from the project's domain reference, the comment says
`DOMAIN.md §4` (shared/docs/DOMAIN.md). A ◐ marks a value that could not be confirmed
against a primary source while writing this; check it before relying on it in a claim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Option:
    """One answer an item accepts: the number recorded and what the person sees."""

    value: int
    label: str


@dataclass(frozen=True)
class Item:
    """One question. A reverse-scored item counts `max + min - value` towards scores."""

    code: str
    text: str
    options: tuple[Option, ...]
    reverse: bool = False
    loinc: str = ""

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @property
    def min_value(self) -> int:
        return min(self.values)

    @property
    def max_value(self) -> int:
        return max(self.values)

    def scored(self, value: int) -> int:
        """The points an answer contributes (reverse scoring applied)."""
        return self.max_value + self.min_value - value if self.reverse else value

    def label_for(self, value: int) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        raise ValueError(f"{value} is not an answer to item {self.code}")


@dataclass(frozen=True)
class Band:
    """A score range with its meaning. Severity 0 is none/minimal and rises with concern."""

    low: int
    high: int
    label: str
    severity: int

    def covers(self, value: int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Licence:
    text: str
    commercial_use_restricted: bool


@dataclass(frozen=True)
class Reliability:
    """What the Jacobson–Truax reliable change index needs: a score SD and a reliability."""

    sd: float
    r: float
    source: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    short_name: str
    recall: str
    instructions: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    licence: Licence
    # Subscale name -> item codes it adds up (scored values).
    subscales: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    loinc_panel: str = ""
    loinc_total: str = ""
    # Code for the observation that carries the band (e.g. the C-SSRS risk level).
    loinc_band: str = ""
    reliability: Reliability | None = None
    higher_is_worse: bool = True
    has_total: bool = True
    # Items whose answer can trigger a safety response (shown to staff as such).
    safety_items: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Band sets that depend on the person's sex ("male"/"female"); `bands` is used when
    # sex is not given (AUDIT-C).
    bands_by_sex: Mapping[str, tuple[Band, ...]] = field(default_factory=dict, hash=False)
    # The lowest and highest possible total, from the items (scored values).
    min_total: int = field(init=False)
    max_total: int = field(init=False)

    def __post_init__(self) -> None:
        codes = [item.code for item in self.items]
        if len(set(codes)) != len(codes):
            raise ValueError(f"{self.code}: item codes repeat")
        object.__setattr__(self, "subscales", MappingProxyType(dict(self.subscales)))
        object.__setattr__(self, "bands_by_sex", MappingProxyType(dict(self.bands_by_sex)))
        object.__setattr__(self, "min_total", sum(item.min_value for item in self.items))
        object.__setattr__(self, "max_total", sum(item.max_value for item in self.items))

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def band_for(self, value: int, *, sex: str | None = None) -> Band | None:
        bands = self.bands_by_sex.get(sex, self.bands) if sex else self.bands
        for band in bands:
            if band.covers(value):
                return band
        return None


class UnknownInstrument(ValueError):
    """Asked for an instrument code this library does not define."""


# --- Shared answer scales ------------------------------------------------------------


def _scale(*labels: str, start: int = 0) -> tuple[Option, ...]:
    return tuple(Option(start + i, label) for i, label in enumerate(labels))


def _numbered(options: tuple[Option, ...], *texts: str) -> tuple[Item, ...]:
    return tuple(Item(str(i), text, options) for i, text in enumerate(texts, start=1))


_NO_YES = (Option(0, "No"), Option(1, "Yes"))

# PHQ-9 and GAD-7 share the answer scale (0–3 each, DOMAIN.md §4).
_FREQUENCY_2_WEEKS = _scale(
    "Not at all", "Several days", "More than half the days", "Nearly every day"
)

_PHQ_GAD_LICENCE = Licence(
    "Developed by Drs Robert L. Spitzer, Janet B. W. Williams, Kurt Kroenke and colleagues "
    "with an educational grant from Pfizer Inc. No permission is required to reproduce, "
    "translate, display or distribute.",
    # ◐ DOMAIN.md §4 marks "free; no permission needed" as not confirmed at the source.
    commercial_use_restricted=False,
)

# --- PHQ-9 -----------------------------------------------------------------------------

PHQ9 = Instrument(
    code="PHQ-9",
    name="Patient Health Questionnaire-9",
    short_name="PHQ-9",
    recall="the past 2 weeks",
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by any of the following "
        "problems?"
    ),
    items=_numbered(
        _FREQUENCY_2_WEEKS,
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself or "
        "your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching " "television",
        "Moving or speaking so slowly that other people could have noticed? Or the "
        "opposite — being so fidgety or restless that you have been moving around a lot "
        "more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    # DOMAIN.md §4: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27.
    bands=(
        Band(0, 4, "Minimal depression", 0),
        Band(5, 9, "Mild depression", 1),
        Band(10, 14, "Moderate depression", 2),
        Band(15, 19, "Moderately severe depression", 3),
        Band(20, 27, "Severe depression", 4),
    ),
    licence=_PHQ_GAD_LICENCE,
    loinc_panel="44249-1",  # DOMAIN.md §4 ✔
    loinc_total="44261-6",  # DOMAIN.md §4 ✔
    reliability=Reliability(
        # ◐ Not confirmed as a pair from one sample. r = Cronbach's α 0.89 reported by
        # Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606–613; 3,000 primary-care
        # patients) — seen in secondary summaries. SD 5.5 is an assumed spread for a
        # treatment-seeking sample, not taken from that paper. Together they give a
        # threshold of ≈5.1 points, i.e. a change of 6 or more is reliable, in line with
        # the 6-point PHQ-9 criterion used by England's IAPT programme (◐).
        sd=5.5,
        r=0.89,
        source=(
            "α 0.89: Kroenke, Spitzer & Williams 2001, primary-care validation sample; "
            "SD 5.5 assumed for a treatment-seeking sample (not from that paper) ◐"
        ),
    ),
    safety_items=("9",),
    notes=(
        "Any answer above 0 on item 9 needs a same-day safety assessment (DOMAIN.md §4).",
        "The optional 10th question (how difficult the problems have made things) is not "
        "scored and is not part of this definition.",
    ),
)

# --- GAD-7 -----------------------------------------------------------------------------

GAD7 = Instrument(
    code="GAD-7",
    name="Generalized Anxiety Disorder 7-item scale",
    short_name="GAD-7",
    recall="the past 2 weeks",
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    ),
    items=_numbered(
        _FREQUENCY_2_WEEKS,
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    # DOMAIN.md §4 ✔: 0–4 minimal, 5 / 10 / 15 = mild / moderate / severe.
    bands=(
        Band(0, 4, "Minimal anxiety", 0),
        Band(5, 9, "Mild anxiety", 1),
        Band(10, 14, "Moderate anxiety", 2),
        Band(15, 21, "Severe anxiety", 3),
    ),
    licence=_PHQ_GAD_LICENCE,
    loinc_panel="69737-5",  # DOMAIN.md §4 ✔
    loinc_total="70274-6",  # DOMAIN.md §4 ✔
    reliability=Reliability(
        # ◐ r = Cronbach's α 0.92 from Spitzer, Kroenke, Williams & Löwe 2006 (Arch Intern
        # Med 166:1092–1097; US primary care) as commonly cited; not read at the source
        # here. SD 4.5 is an assumed spread for a treatment-seeking sample. Threshold
        # ≈3.5 points, so a change of 4 or more is reliable, in line with the 4-point
        # GAD-7 criterion used by England's IAPT programme (◐).
        sd=4.5,
        r=0.92,
        source=(
            "α 0.92: Spitzer, Kroenke, Williams & Löwe 2006, US primary-care sample ◐; "
            "SD 4.5 assumed for a treatment-seeking sample (not from that paper) ◐"
        ),
    ),
)

# --- AUDIT and AUDIT-C ---------------------------------------------------------------------

_AUDIT_HOW_OFTEN = _scale(
    "Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily"
)
_AUDIT_INJURY = (
    Option(0, "No"),
    Option(2, "Yes, but not in the last year"),
    Option(4, "Yes, during the last year"),
)

_AUDIT_ITEMS = (
    Item(
        "1",
        "How often do you have a drink containing alcohol?",
        _scale(
            "Never",
            "Monthly or less",
            "2 to 4 times a month",
            "2 to 3 times a week",
            "4 or more times a week",
        ),
    ),
    Item(
        "2",
        "How many drinks containing alcohol do you have on a typical day when you are " "drinking?",
        _scale("1 or 2", "3 or 4", "5 or 6", "7, 8, or 9", "10 or more"),
    ),
    Item("3", "How often do you have six or more drinks on one occasion?", _AUDIT_HOW_OFTEN),
    Item(
        "4",
        "How often during the last year have you found that you were not able to stop "
        "drinking once you had started?",
        _AUDIT_HOW_OFTEN,
    ),
    Item(
        "5",
        "How often during the last year have you failed to do what was normally expected "
        "of you because of drinking?",
        _AUDIT_HOW_OFTEN,
    ),
    Item(
        "6",
        "How often during the last year have you needed a first drink in the morning to "
        "get yourself going after a heavy drinking session?",
        _AUDIT_HOW_OFTEN,
    ),
    Item(
        "7",
        "How often during the last year have you had a feeling of guilt or remorse after "
        "drinking?",
        _AUDIT_HOW_OFTEN,
    ),
    Item(
        "8",
        "How often during the last year have you been unable to remember what happened "
        "the night before because you had been drinking?",
        _AUDIT_HOW_OFTEN,
    ),
    # Items 9 and 10 score 0, 2 or 4 only.
    Item("9", "Have you or someone else been injured as a result of your drinking?", _AUDIT_INJURY),
    Item(
        "10",
        "Has a relative, friend, doctor, or other health worker been concerned about your "
        "drinking or suggested you cut down?",
        _AUDIT_INJURY,
    ),
)

_AUDIT_INSTRUCTIONS = (
    "These questions are about your use of alcoholic beverages. One drink means one "
    "standard drink (for example a 12-ounce beer, a 5-ounce glass of wine, or 1.5 ounces "
    "of spirits)."
)

AUDIT = Instrument(
    code="AUDIT",
    name="Alcohol Use Disorders Identification Test",
    short_name="AUDIT",
    recall="the past year",
    instructions=_AUDIT_INSTRUCTIONS,
    items=_AUDIT_ITEMS,
    # DOMAIN.md §4 (◐ there): WHO zones I 0–7, II 8–15, III 16–19, IV 20–40. Zone wording
    # follows the WHO AUDIT manual (Babor et al. 2001) ◐.
    bands=(
        Band(0, 7, "Zone I: low-risk drinking", 0),
        Band(8, 15, "Zone II: hazardous drinking", 1),
        Band(16, 19, "Zone III: harmful drinking", 2),
        Band(20, 40, "Zone IV: possible alcohol dependence", 3),
    ),
    subscales={
        "consumption": ("1", "2", "3"),
        "dependence": ("4", "5", "6"),
        "harm": ("7", "8", "9", "10"),
    },
    licence=Licence(
        "© World Health Organization (Babor, Higgins-Biddle, Saunders & Monteiro, 2001). "
        "WHO makes the AUDIT freely available for use.",
        # ◐ DOMAIN.md §4: "Free (WHO)" not confirmed at the source.
        commercial_use_restricted=False,
    ),
    loinc_panel="72110-0",  # DOMAIN.md §4 ✔
    loinc_total="75624-7",  # DOMAIN.md §4 ◐ (listed as an open item in §9)
)

# AUDIT-C: AUDIT items 1–3, positive at ≥4 for men and ≥3 for women (DOMAIN.md §4 ✔).
_AUDIT_C_MEN = (Band(0, 3, "Negative", 0), Band(4, 12, "Positive", 1))
_AUDIT_C_WOMEN = (Band(0, 2, "Negative", 0), Band(3, 12, "Positive", 1))

AUDIT_C = Instrument(
    code="AUDIT-C",
    name="Alcohol Use Disorders Identification Test – Consumption",
    short_name="AUDIT-C",
    recall="the past year",
    instructions=_AUDIT_INSTRUCTIONS,
    items=_AUDIT_ITEMS[:3],
    # Without the person's sex, the lower (women's) threshold of 3 is used, so nobody who
    # might be positive is missed; scoring adds a flag that says so.
    bands=_AUDIT_C_WOMEN,
    bands_by_sex={"male": _AUDIT_C_MEN, "female": _AUDIT_C_WOMEN},
    licence=Licence(
        "The first three AUDIT questions (Bush et al. 1998; © World Health Organization "
        "for the AUDIT items). Freely available.",
        # ◐ DOMAIN.md §4: "Free" not confirmed at the source.
        commercial_use_restricted=False,
    ),
    loinc_panel="72109-2",  # DOMAIN.md §4 ✔
    loinc_total="75626-2",  # DOMAIN.md §4 ✔
    notes=("Positive at 4 or more for men, 3 or more for women (DOMAIN.md §4).",),
)

# --- DAST-10 ---------------------------------------------------------------------------

DAST10 = Instrument(
    code="DAST-10",
    name="Drug Abuse Screening Test (10 items)",
    short_name="DAST-10",
    recall="the past 12 months",
    instructions=(
        "These questions refer to the past 12 months. “Drug use” means the use of "
        "prescribed or over-the-counter drugs in excess of the directions, and any "
        "non-medical use of drugs. It does not include alcohol or tobacco. Answer each "
        "question yes or no."
    ),
    items=(
        Item("1", "Have you used drugs other than those required for medical reasons?", _NO_YES),
        Item("2", "Do you abuse more than one drug at a time?", _NO_YES),
        # Reverse-scored: "No" scores 1 (DOMAIN.md §4 ✔).
        Item(
            "3", "Are you always able to stop using drugs when you want to?", _NO_YES, reverse=True
        ),
        Item("4", "Have you had “blackouts” or “flashbacks” as a result of drug use?", _NO_YES),
        Item("5", "Do you ever feel bad or guilty about your drug use?", _NO_YES),
        Item(
            "6",
            "Does your spouse (or parents) ever complain about your involvement with drugs?",
            _NO_YES,
        ),
        Item("7", "Have you neglected your family because of your use of drugs?", _NO_YES),
        Item("8", "Have you engaged in illegal activities in order to obtain drugs?", _NO_YES),
        Item(
            "9",
            "Have you ever experienced withdrawal symptoms (felt sick) when you stopped "
            "taking drugs?",
            _NO_YES,
        ),
        Item(
            "10",
            "Have you had medical problems as a result of your drug use (for example memory "
            "loss, hepatitis, convulsions, bleeding)?",
            _NO_YES,
        ),
    ),
    # DOMAIN.md §4 ✔: 0 none; 1–2 low; 3–5 moderate; 6–8 substantial; 9–10 severe.
    bands=(
        Band(0, 0, "No problems reported", 0),
        Band(1, 2, "Low level", 1),
        Band(3, 5, "Moderate level", 2),
        Band(6, 8, "Substantial level", 3),
        Band(9, 10, "Severe level", 4),
    ),
    licence=Licence(
        "© 1982 Harvey A. Skinner, PhD, and the Centre for Addiction and Mental Health "
        "(CAMH), Toronto. Non-commercial reproduction is allowed with credit; commercial "
        "use needs permission (DOMAIN.md §4).",
        commercial_use_restricted=True,
    ),
    loinc_panel="82666-9",  # DOMAIN.md §4 ✔
    loinc_total="82667-7",  # DOMAIN.md §4 ✔
)

# --- BAM ---------------------------------------------------------------------------------

# Day counts are answered in ranges scored 0–4 (the Likert version of the BAM).
_BAM_DAYS = _scale("0", "1–3", "4–8", "9–15", "16–30")
_BAM_EXTENT = _scale("Not at all", "Slightly", "Moderately", "Considerably", "Extremely")


def _bam_days(code: str, text: str) -> Item:
    return Item(code, text, _BAM_DAYS)


# Wording: items 1–7B as in the VA form reproduced in public research material; the
# wording of 7C–17 is from the VA BAM as generally published and was not re-read at the
# source here ◐. Item 5 is put to the respondent directly (the form says "4 if patient
# is female or over 65").
BAM = Instrument(
    code="BAM",
    name="Brief Addiction Monitor",
    short_name="BAM",
    recall="the past 30 days",
    instructions=(
        "The following questions ask about several areas of your life, such as your "
        "health and your alcohol and drug use, thinking about the last 30 days. "
        "A question skipped by the form's instructions (item 5 after no drinking days, "
        "items 7A–7G after no drug-use days) is recorded as 0."
    ),
    items=(
        Item(
            "1",
            "In the past 30 days, would you say your physical health has been:",
            _scale("Excellent", "Very good", "Good", "Fair", "Poor"),
        ),
        _bam_days(
            "2",
            "In the past 30 days, how many nights did you have trouble falling asleep or "
            "staying asleep?",
        ),
        _bam_days(
            "3",
            "In the past 30 days, how many days have you felt depressed, anxious, angry or "
            "very upset throughout most of the day?",
        ),
        _bam_days("4", "In the past 30 days, how many days did you drink ANY alcohol?"),
        _bam_days(
            "5",
            "In the past 30 days, how many days did you have at least 5 drinks (at least 4 "
            "if you are a woman or over 65)?",
        ),
        _bam_days(
            "6",
            "In the past 30 days, how many days did you use any illegal/street drugs or "
            "abuse any prescription medications?",
        ),
        _bam_days(
            "7A",
            "In the past 30 days, how many days did you use marijuana (cannabis, " "pot, weed)?",
        ),
        _bam_days(
            "7B",
            "In the past 30 days, how many days did you use sedatives or tranquilizers (for "
            "example “benzos”, Valium, Xanax, Ativan, Ambien, “barbs”, phenobarbital, "
            "downers)?",
        ),
        _bam_days("7C", "In the past 30 days, how many days did you use cocaine or crack?"),
        _bam_days(
            "7D",
            "In the past 30 days, how many days did you use other stimulants (for example "
            "amphetamine, methamphetamine, Dexedrine, Ritalin, Adderall, “speed”, "
            "“crystal meth”, “ice”)?",
        ),
        _bam_days(
            "7E",
            "In the past 30 days, how many days did you use opiates (for example heroin, "
            "morphine, Dilaudid, Demerol, OxyContin, codeine, Percocet, Vicodin, "
            "fentanyl)?",
        ),
        _bam_days(
            "7F",
            "In the past 30 days, how many days did you use inhalants (glues, adhesives, "
            "nail polish remover, paint thinner)?",
        ),
        _bam_days(
            "7G",
            "In the past 30 days, how many days did you use other drugs (for example "
            "steroids, non-prescription sleep or diet pills, Benadryl, ephedra, other "
            "over-the-counter or unknown medications)?",
        ),
        Item(
            "8",
            "In the past 30 days, how much were you bothered by cravings or urges to drink "
            "alcohol or use drugs?",
            _BAM_EXTENT,
        ),
        Item(
            "9",
            "How confident are you in your ability to be completely abstinent (clean) from "
            "alcohol and drugs in the next 30 days?",
            _BAM_EXTENT,
        ),
        _bam_days(
            "10",
            "In the past 30 days, how many days did you attend self-help meetings like AA or "
            "NA to support your recovery?",
        ),
        _bam_days(
            "11",
            "In the past 30 days, how many days were you in any situations or with any "
            "people that might put you at an increased risk for using alcohol or drugs "
            "(i.e., around risky “people, places or things”)?",
        ),
        Item(
            "12",
            "Does your religion or spirituality help support your recovery?",
            _BAM_EXTENT,
        ),
        _bam_days(
            "13",
            "In the past 30 days, how many days did you spend much of the time at work, "
            "school, or doing volunteer work?",
        ),
        Item(
            "14",
            "Do you have enough income (from legal sources) to pay for necessities such as "
            "housing, transportation, food and clothing for yourself and your dependents?",
            # Scored No = 0, Yes = 4 so that it weighs like the other protective items.
            (Option(0, "No"), Option(4, "Yes")),
        ),
        Item(
            "15",
            "In the past 30 days, how much have you been bothered by arguments or problems "
            "getting along with any family members or friends?",
            _BAM_EXTENT,
        ),
        _bam_days(
            "16",
            "In the past 30 days, how many days were you in contact or spent time with any "
            "family members or friends who are supportive of your recovery?",
        ),
        Item(
            "17",
            "How satisfied are you with your progress toward achieving your recovery goals?",
            _BAM_EXTENT,
        ),
    ),
    bands=(),
    # DOMAIN.md §4 ✔: no total; Use = 4+5+6, Risk = 1+2+3+8+11+15,
    # Protective = 9+10+12+13+14+16; 7A–7G and 17 are read item by item.
    subscales={
        "use": ("4", "5", "6"),
        "risk": ("1", "2", "3", "8", "11", "15"),
        "protective": ("9", "10", "12", "13", "14", "16"),
    },
    has_total=False,
    licence=Licence(
        "Developed by the US Department of Veterans Affairs (Cacciola et al. 2013; "
        "VISN 4 MIRECC / Philadelphia CESATE). Free to use.",
        # ◐ DOMAIN.md §4: "VA-developed; free to use" not confirmed at the source.
        commercial_use_restricted=False,
    ),
    # DOMAIN.md §4: no LOINC panel found for the BAM ◐.
    notes=(
        "Read item by item; the subscales are a cross-sectional summary. Higher Use and "
        "Risk are worse; higher Protective is better.",
        "Item 17 (satisfaction with progress) is an overall rating outside the subscales.",
    ),
)

# --- PSS-10 --------------------------------------------------------------------------------

_PSS_SCALE = _scale("Never", "Almost never", "Sometimes", "Fairly often", "Very often")


def _pss(code: str, text: str, *, reverse: bool = False) -> Item:
    return Item(code, f"In the last month, how often have you {text}", _PSS_SCALE, reverse)


PSS10 = Instrument(
    code="PSS-10",
    name="Perceived Stress Scale (10 items)",
    short_name="PSS-10",
    recall="the past month",
    instructions=(
        "The questions in this scale ask you about your feelings and thoughts during the "
        "last month. In each case, you will be asked to indicate how often you felt or "
        "thought a certain way."
    ),
    items=(
        _pss("1", "been upset because of something that happened unexpectedly?"),
        _pss("2", "felt that you were unable to control the important things in your life?"),
        _pss("3", "felt nervous and “stressed”?"),
        # Items 4, 5, 7 and 8 are worded positively and reverse-scored (DOMAIN.md §4).
        _pss(
            "4", "felt confident about your ability to handle your personal problems?", reverse=True
        ),
        _pss("5", "felt that things were going your way?", reverse=True),
        _pss("6", "found that you could not cope with all the things that you had to do?"),
        _pss("7", "been able to control irritations in your life?", reverse=True),
        _pss("8", "felt that you were on top of things?", reverse=True),
        _pss("9", "been angered because of things that were outside of your control?"),
        _pss(
            "10",
            "felt difficulties were piling up so high that you could not overcome them?",
        ),
    ),
    # DOMAIN.md §4 (◐ there): a common convention, not from the original authors.
    bands=(
        Band(0, 13, "Low stress", 0),
        Band(14, 26, "Moderate stress", 1),
        Band(27, 40, "High stress", 2),
    ),
    licence=Licence(
        "© Sheldon Cohen (Cohen, Kamarck & Mermelstein 1983). Free for non-profit academic "
        "and educational use; commercial use needs permission (Mind Garden).",
        # DOMAIN.md §4 (◐ there): treat commercial use as needing permission.
        commercial_use_restricted=True,
    ),
    loinc_total="106860-0",  # DOMAIN.md §4 ◐ (listed as an open item in §9)
    notes=("The bands are a common convention, not the authors' (DOMAIN.md §4).",),
)

# --- PCL-5 ---------------------------------------------------------------------------------

_PCL_SCALE = _scale("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")

PCL5 = Instrument(
    code="PCL-5",
    name="PTSD Checklist for DSM-5",
    short_name="PCL-5",
    recall="the past month",
    instructions=(
        "Below is a list of problems that people sometimes have in response to a very "
        "stressful experience. Keeping your worst event in mind, please read each problem "
        "carefully and then choose how much you have been bothered by that problem in the "
        "past month."
    ),
    items=_numbered(
        _PCL_SCALE,
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening "
        "again (as if you were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, "
        "places, conversations, activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong "
        "with me, no one can be trusted, the world is completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened "
        "after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel "
        "happiness or have loving feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        "Being “superalert” or watchful or on guard?",
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ),
    # DOMAIN.md §4 ✔: probable PTSD at 31–33. We use 31, the most sensitive published
    # cut-off; a program that prefers 32 or 33 should say so where it reports.
    bands=(
        Band(0, 30, "Below the probable-PTSD cut-off", 0),
        Band(31, 80, "Probable PTSD (31 or more)", 1),
    ),
    # DOMAIN.md §4 ✔: clusters B 1–5, C 6–7, D 8–14, E 15–20.
    subscales={
        "B": ("1", "2", "3", "4", "5"),
        "C": ("6", "7"),
        "D": ("8", "9", "10", "11", "12", "13", "14"),
        "E": ("15", "16", "17", "18", "19", "20"),
    },
    licence=Licence(
        "Public domain (VA National Center for PTSD; Weathers et al. 2013).",
        commercial_use_restricted=False,  # DOMAIN.md §4 ✔
    ),
    loinc_panel="101697-1",  # DOMAIN.md §4 ◐
    loinc_total="101698-9",  # DOMAIN.md §4 ◐
    reliability=Reliability(
        # SD 12.40 and Cronbach's α 0.91 read from Table 3 ("Normative data for the PCL-5")
        # of J Affect Disord 2020;277:368–374 (PMC7443209); the sample behind that table
        # was not read here ◐. Threshold ≈10.3 points, the top of the 5–10-point
        # "reliable change" range in DOMAIN.md §4. Blevins et al. 2015 report test–retest
        # r = .82 in trauma-exposed students (no SD found), which would give ≈14.6.
        sd=12.40,
        r=0.91,
        source="SD 12.40, α 0.91: J Affect Disord 2020;277:368–374, Table 3 (sample ◐)",
    ),
    notes=(
        "Probable PTSD at 31–33 (DOMAIN.md §4); this library bands at 31.",
        "Provisional DSM-5 diagnosis: items rated 2 or more count as endorsed; needs at "
        "least 1 B, 1 C, 2 D and 2 E items (DOMAIN.md §4).",
    ),
)

# --- PACS --------------------------------------------------------------------------------

# Item 1 and its answers as published by PhenX (protocol 511702) ✔; the answers to items
# 2–5 follow the published scale (Flannery, Volpicelli & Pettinati 1999) and were not
# re-read at the source here ◐.
PACS = Instrument(
    code="PACS",
    name="Penn Alcohol Craving Scale",
    short_name="PACS",
    recall="the past week",
    instructions=(
        "Please read each item carefully and choose the answer that best describes your "
        "craving during the past week."
    ),
    items=(
        Item(
            "1",
            "During the past week, how often have you thought about drinking or about how "
            "good a drink would make you feel?",
            _scale(
                "Never (0 times during the past week)",
                "Rarely (1 to 2 times during the past week)",
                "Occasionally (3 to 4 times during the past week)",
                "Sometimes (5 to 10 times during the past week, or 1 to 2 times a day)",
                "Often (11 to 20 times during the past week, or 2 to 3 times a day)",
                "Most of the time (20 to 40 times during the past week, or 3 to 6 times a day)",
                "Nearly all of the time (more than 40 times during the past week, or more "
                "than 6 times a day)",
            ),
        ),
        Item(
            "2",
            "At its most severe point, how strong was your craving during the past week?",
            _scale(
                "None at all",
                "Slight, that is, a very mild urge",
                "Mild urge",
                "Moderate urge",
                "Strong urge, but easily controlled",
                "Strong urge and difficult to control",
                "Strong urge and would have drunk alcohol if it were available",
            ),
        ),
        Item(
            "3",
            "During the past week, how much time have you spent thinking about drinking or "
            "about how good a drink would make you feel?",
            _scale(
                "None at all",
                "Less than 20 minutes",
                "21 to 45 minutes",
                "46 to 90 minutes",
                "90 minutes to 3 hours",
                "Between 3 and 6 hours",
                "More than 6 hours",
            ),
        ),
        Item(
            "4",
            "During the past week, how difficult would it have been to resist taking a "
            "drink if you had known a bottle was in your house?",
            _scale(
                "Not difficult at all",
                "Very mildly difficult",
                "Mildly difficult",
                "Moderately difficult",
                "Very difficult",
                "Extremely difficult",
                "Would not be able to resist",
            ),
        ),
        Item(
            "5",
            "Keeping in mind your responses to the previous questions, please rate your "
            "overall average alcohol craving for the past week.",
            _scale(
                "Never thought about drinking and never had the urge to drink",
                "Rarely thought about drinking and rarely had the urge to drink",
                "Occasionally thought about drinking and occasionally had the urge to drink",
                "Sometimes thought about drinking and sometimes had the urge to drink",
                "Often thought about drinking and often had the urge to drink",
                "Thought about drinking most of the time and had the urge to drink most of "
                "the time",
                "Thought about drinking nearly all of the time and had the urge to drink "
                "nearly all of the time",
            ),
        ),
    ),
    # DOMAIN.md §4 ✔: research cut-offs >20 (strict) and ≥15 (better sensitivity).
    bands=(
        Band(0, 14, "Below the craving cut-offs", 0),
        Band(15, 20, "Clinically significant craving (15 or more)", 1),
        Band(21, 30, "Strong craving (over 20)", 2),
    ),
    licence=Licence(
        "Flannery, Volpicelli & Pettinati 1999. Freely available; permission not required "
        "(PhenX). PhenX notes it may be adapted to other substances.",
        commercial_use_restricted=False,  # DOMAIN.md §4 ✔
    ),
    # DOMAIN.md §4: no LOINC code found.
)

# --- Craving rating (0–10) ---------------------------------------------------------------

CRAVING = Instrument(
    code="CRAVING",
    name="Craving rating (0–10)",
    short_name="Craving 0–10",
    recall="right now",
    instructions="On a scale from 0 to 10, rate your craving right now.",
    items=(
        Item(
            "1",
            "How strong is your craving to drink alcohol or use drugs right now?",
            (
                Option(0, "0 – No craving"),
                *(Option(n, str(n)) for n in range(1, 10)),
                Option(10, "10 – Strongest craving imaginable"),
            ),
        ),
    ),
    # DOMAIN.md §4: no validated bands; track the trend.
    bands=(),
    licence=Licence(
        "A generic numeric rating scale; no owner and no licence.", commercial_use_restricted=False
    ),
    notes=("No validated bands: read the trend over time (DOMAIN.md §4).",),
)

# --- C-SSRS screener ------------------------------------------------------------------------

# Risk levels by the Columbia triage (DOMAIN.md §4 ✔). The band "score" is the level:
# 0 none, 1 low, 2 moderate, 3 high.
C_SSRS = Instrument(
    code="C-SSRS",
    name="Columbia–Suicide Severity Rating Scale, screener (recent)",
    short_name="C-SSRS",
    recall="the past month (questions 1–5); lifetime with a past-3-months follow-up (6)",
    instructions=(
        "Ask questions 1 and 2. If the answer to 2 is no, go to question 6; if yes, ask "
        "questions 3, 4, 5 and 6. If the answer to 6 is yes, ask whether it was within the "
        "past 3 months. Record a question skipped this way as No."
    ),
    items=(
        Item(
            "1",
            "In the past month, have you wished you were dead or wished you could go to "
            "sleep and not wake up?",
            _NO_YES,
            loinc="93246-7",  # DOMAIN.md §4 ✔
        ),
        Item(
            "2",
            "In the past month, have you actually had any thoughts about killing yourself?",
            _NO_YES,
            loinc="93247-5",  # DOMAIN.md §4 ✔
        ),
        Item(
            "3",
            "In the past month, have you been thinking about how you might do this?",
            _NO_YES,
            loinc="93248-3",  # DOMAIN.md §4 ✔
        ),
        Item(
            "4",
            "In the past month, have you had these thoughts and had some intention of "
            "acting on them?",
            _NO_YES,
            loinc="93249-1",  # DOMAIN.md §4 ✔
        ),
        Item(
            "5",
            "In the past month, have you started to work out or worked out the details of "
            "how to kill yourself? Do you intend to carry out this plan?",
            _NO_YES,
            loinc="93250-9",  # DOMAIN.md §4 ✔
        ),
        Item(
            "6",
            "Have you ever done anything, started to do anything, or prepared to do "
            "anything to end your life? (For example: collected pills, obtained a gun, gave "
            "away valuables, wrote a will or suicide note, took out pills but didn't swallow "
            "any, held a gun but changed your mind or it was grabbed from your hand, went "
            "to the roof but didn't jump; or actually took pills, tried to shoot yourself, "
            "cut yourself, tried to hang yourself.)",
            _NO_YES,
            loinc="93267-3",  # DOMAIN.md §4 ✔
        ),
        Item(
            "6b",
            "If yes to question 6: was this within the past 3 months?",
            _NO_YES,
            loinc="93269-9",  # DOMAIN.md §4 ✔
        ),
    ),
    bands=(
        Band(0, 0, "No risk identified", 0),
        Band(1, 1, "Low risk", 1),
        Band(2, 2, "Moderate risk", 2),
        Band(3, 3, "High risk", 3),
    ),
    has_total=False,
    licence=Licence(
        "© The Research Foundation for Mental Hygiene (Posner et al.). No cost and no "
        "licence needed for health and behavioral health providers, including use in an "
        "EHR; pharmaceutical and other commercial research needs a licence "
        "(DOMAIN.md §4).",
        commercial_use_restricted=True,
    ),
    loinc_band="93374-7",  # risk level, DOMAIN.md §4 ✔; panel code ◐ (none given)
    safety_items=("1", "2", "3", "4", "5", "6", "6b"),
    notes=(
        "Columbia triage (DOMAIN.md §4): yes to 4 or 5, or behaviour in the past 3 months "
        "→ high; yes to 3, or behaviour longer ago → moderate; 1–2 only → low. Exact "
        "cut-points vary by setting.",
    ),
)

# --- BARC-10 ------------------------------------------------------------------------------

_AGREE_6 = _scale(
    "Strongly disagree",
    "Disagree",
    "Somewhat disagree",  # ◐ middle labels: only the end labels were confirmed (PhenX)
    "Somewhat agree",
    "Agree",
    "Strongly agree",
    start=1,
)

BARC10 = Instrument(
    code="BARC-10",
    name="Brief Assessment of Recovery Capital",
    short_name="BARC-10",
    recall="now (no fixed period)",
    instructions=(
        "For each statement, choose how much you agree, from 1 (strongly disagree) to 6 "
        "(strongly agree)."
    ),
    items=_numbered(
        _AGREE_6,
        "There are more important things to me in life than using substances.",
        "In general I am happy with my life.",
        "I have enough energy to complete the tasks I set myself.",
        "I am proud of the community I live in and feel part of it.",
        "I get lots of support from friends.",
        "I regard my life as challenging and fulfilling without the need for using drugs "
        "or alcohol.",
        "My living space has helped to drive my recovery journey.",
        "I take full responsibility for my actions.",
        "I am happy dealing with a range of professional people.",
        "I am making good progress on my recovery journey.",
    ),
    # Vilsaint et al. 2017 (Drug Alcohol Depend 177:71–76): a total of 47 or more predicted
    # sustained remission (>12 months). Higher is better, so the lower band is the concern.
    bands=(
        Band(10, 46, "Below the 47-point recovery-capital cut-off", 1),
        Band(47, 60, "At or above the 47-point recovery-capital cut-off", 0),
    ),
    higher_is_worse=False,
    licence=Licence(
        "Vilsaint et al. 2017 (Recovery Research Institute), shortened from the Assessment "
        "of Recovery Capital (Groshkova, Best & White 2013). PhenX lists it as freely "
        "available, permission not required (protocol 590502).",
        # ◐ No licence statement from the authors themselves was found; PhenX's
        # "freely available" is the basis for treating commercial use as unrestricted.
        commercial_use_restricted=False,
    ),
    # No LOINC code given in DOMAIN.md.
    notes=(
        "A strengths-based recovery-capital measure (a free alternative to WHOQOL-BREF, "
        "DOMAIN.md §4). Higher is better.",
    ),
)


# --- Registry ----------------------------------------------------------------------------

_DEFINITIONS: tuple[Instrument, ...] = (
    PHQ9,
    GAD7,
    AUDIT,
    AUDIT_C,
    DAST10,
    BAM,
    PSS10,
    PCL5,
    PACS,
    CRAVING,
    C_SSRS,
    BARC10,
)


def _lookup_key(code: str) -> str:
    """Case and `-`/space/underscore insensitive: "phq9", "PHQ 9" and "PHQ-9" match."""
    return re.sub(r"[\s\-_–]", "", code).upper()


_BY_KEY: dict[str, Instrument] = {_lookup_key(d.code): d for d in _DEFINITIONS}


def all_definitions() -> tuple[Instrument, ...]:
    """Every defined instrument, in a stable display order."""
    return _DEFINITIONS


def get(code: str) -> Instrument:
    """The instrument for a code; raises UnknownInstrument naming the known codes."""
    found = _BY_KEY.get(_lookup_key(code)) if isinstance(code, str) else None
    if found is None:
        known = ", ".join(d.code for d in _DEFINITIONS)
        raise UnknownInstrument(f"Unknown instrument {code!r}. Known instruments: {known}.")
    return found
