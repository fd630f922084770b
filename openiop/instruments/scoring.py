"""Score one administration of an instrument: total, band, subscales and flags.

`score(code, answers)` checks every answer against the definition first and raises
`ValueError` with a message a clinician can act on; nothing is guessed or clipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .definitions import Band, Instrument, get


@dataclass(frozen=True)
class Flag:
    """Something staff should see. `safety` flags need a same-day clinical response."""

    code: str
    message: str
    safety: bool = False
    risk: str = ""
    item: str = ""


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    # The answers as recorded (before reverse scoring), in item order.
    answers: tuple[int, ...]
    total: int | None
    band: Band | None
    subscales: dict[str, int] = field(default_factory=dict, hash=False)
    flags: tuple[Flag, ...] = ()

    @property
    def safety_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.safety)

    def flag(self, code: str) -> Flag | None:
        return next((f for f in self.flags if f.code == code), None)


_SEXES = {"male": "male", "m": "male", "female": "female", "f": "female"}


def score(
    code: str | Instrument,
    answers: Sequence[int] | Mapping[str, int],
    *,
    sex: str | None = None,
) -> ScoreResult:
    """Score `answers` (ints in item order, or item code -> int) for one instrument.

    `sex` ("male"/"female"/"m"/"f") matters only where a cut-off depends on it (AUDIT-C).
    Raises UnknownInstrument (a ValueError) for an unknown code and ValueError for
    answers that do not fit the instrument.
    """
    instrument = code if isinstance(code, Instrument) else get(code)
    sex_key = _sex(sex)
    raw = _answers_in_order(instrument, answers)
    by_code = dict(zip(instrument.item_codes, raw, strict=True))
    points = {item.code: item.scored(by_code[item.code]) for item in instrument.items}
    total = sum(points.values()) if instrument.has_total else None
    subscales = {
        name: sum(points[c] for c in codes) for name, codes in instrument.subscales.items()
    }
    band = instrument.band_for(total, sex=sex_key) if total is not None else None
    flags: list[Flag] = []
    rule = _RULES.get(instrument.code)
    if rule is not None:
        band = rule(_Context(instrument, by_code, points, total, sex_key, band), flags)
    return ScoreResult(
        instrument=instrument.code,
        answers=raw,
        total=total,
        band=band,
        subscales=subscales,
        flags=tuple(flags),
    )


# --- Checking answers ----------------------------------------------------------------


def _sex(sex: str | None) -> str | None:
    if sex is None:
        return None
    key = sex.strip().lower() if isinstance(sex, str) else None
    if key not in _SEXES:
        raise ValueError(f"Sex must be 'male' or 'female' ('m' or 'f'), or left out; got {sex!r}.")
    return _SEXES[key]


def _answers_in_order(
    instrument: Instrument, answers: Sequence[int] | Mapping[str, int]
) -> tuple[int, ...]:
    name = instrument.short_name
    count = len(instrument.items)
    if isinstance(answers, Mapping):
        unknown = [k for k in answers if k not in instrument.item_codes]
        if unknown:
            raise ValueError(
                f"{name} has no item {_quoted(unknown)}; its items are "
                f"{_describe_codes(instrument.item_codes)}."
            )
        missing = [c for c in instrument.item_codes if c not in answers]
        if missing:
            which = "item" if len(missing) == 1 else "items"
            raise ValueError(f"{name} {which} {', '.join(missing)} not answered.")
        values = [answers[c] for c in instrument.item_codes]
    elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes | bytearray):
        if len(answers) != count:
            given = "1 answer was" if len(answers) == 1 else f"{len(answers)} answers were"
            raise ValueError(
                f"{name} has {count} items ({_describe_codes(instrument.item_codes)}); "
                f"{given} given."
            )
        values = list(answers)
    else:
        raise ValueError(
            f"{name} answers must be a list of numbers in item order, or a mapping of item "
            f"to answer; got {type(answers).__name__}."
        )
    for item, value in zip(instrument.items, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"{name} item {item.code}: {value!r} is not an answer "
                f"({_describe_values(item.values)})."
            )
        if value not in item.values:
            raise ValueError(
                f"{name} item {item.code}: {value} is not an answer "
                f"({_describe_values(item.values)})."
            )
    return tuple(int(v) for v in values)


def _quoted(keys: Sequence[object]) -> str:
    return ", ".join(repr(k) for k in keys)


def _describe_values(values: tuple[int, ...]) -> str:
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(str(v) for v in ordered)


def _describe_codes(codes: tuple[str, ...]) -> str:
    """'1–9', or '1–6, 7A–7G, 8–17' for the BAM: runs of numbers and of lettered sub-items."""
    runs: list[list[str]] = []
    for code in codes:
        if runs and _follows(runs[-1][-1], code):
            runs[-1].append(code)
        else:
            runs.append([code])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _follows(previous: str, code: str) -> bool:
    if previous.isdigit() and code.isdigit():
        return int(code) == int(previous) + 1
    if previous[:-1] == code[:-1] and previous[:-1].isdigit():
        return ord(code[-1]) == ord(previous[-1]) + 1
    return False


# --- Instrument rules -------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    instrument: Instrument
    answers: dict[str, int]  # as recorded
    points: dict[str, int]  # after reverse scoring
    total: int | None
    sex: str | None
    band: Band | None


_Rule = Callable[[_Context, list[Flag]], Band | None]


def _phq9(ctx: _Context, flags: list[Flag]) -> Band | None:
    # DOMAIN.md §4: any non-zero item 9 (self-harm) → same-day safety assessment.
    value = ctx.answers["9"]
    if value > 0:
        label = ctx.instrument.item("9").label_for(value)
        flags.append(
            Flag(
                code="suicide_risk",
                message=(
                    f"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) "
                    f"answered “{label}”: a same-day safety assessment is needed."
                ),
                safety=True,
                risk="high" if value >= 2 else "moderate",
                item="9",
            )
        )
    return ctx.band


def _audit_c(ctx: _Context, flags: list[Flag]) -> Band | None:
    # DOMAIN.md §4 ✔: positive at ≥4 for men, ≥3 for women; without sex use 3.
    if ctx.sex is None:
        flags.append(
            Flag(
                code="sex_not_given",
                message=(
                    "Sex was not given, so the lower cut-off for women (3) was used; for "
                    "men the cut-off is 4."
                ),
            )
        )
    return ctx.band


def _pcl5(ctx: _Context, flags: list[Flag]) -> Band | None:
    # DOMAIN.md §4 ✔: an item rated 2 or more counts; needs 1 B, 1 C, 2 D and 2 E.
    needed = {"B": 1, "C": 1, "D": 2, "E": 2}
    endorsed = {
        cluster: sum(1 for c in ctx.instrument.subscales[cluster] if ctx.answers[c] >= 2)
        for cluster in needed
    }
    if all(endorsed[c] >= n for c, n in needed.items()):
        counts = ", ".join(f"{c} {endorsed[c]}" for c in needed)
        flags.append(
            Flag(
                code="provisional_ptsd",
                message=(
                    "Meets the DSM-5 symptom pattern for a provisional PTSD diagnosis (items "
                    f"rated 2 or more: {counts}; needed B 1, C 1, D 2, E 2). Confirm with a "
                    "clinical interview."
                ),
            )
        )
    return ctx.band


def _bam(ctx: _Context, flags: list[Flag]) -> Band | None:
    used = [c for c in ("4", "5", "6") if ctx.answers[c] > 0]
    if used:
        what = {"4": "drinking", "5": "heavy drinking", "6": "drug use"}
        days = "; ".join(
            f"{what[c]} on {ctx.instrument.item(c).label_for(ctx.answers[c])} days" for c in used
        )
        flags.append(
            Flag(
                code="recent_use",
                message=f"Use in the past 30 days: {days}.",
                item=",".join(used),
            )
        )
    sub_items = ("7A", "7B", "7C", "7D", "7E", "7F", "7G")
    if ctx.answers["6"] == 0 and any(ctx.answers[c] > 0 for c in sub_items):
        flags.append(
            Flag(
                code="inconsistent_answers",
                message=(
                    "Item 6 says no drug use, but items 7A–7G report some; check with the "
                    "participant."
                ),
                item="6",
            )
        )
    return ctx.band


_CSSRS_LEVELS = ("none", "low", "moderate", "high")
_CSSRS_YES = {
    "4": "4 (intent)",
    "5": "5 (plan)",
    "6b": "6 (behaviour in the past 3 months)",
    "3": "3 (method)",
    "6": "6 (behaviour, not in the past 3 months)",
    "2": "2 (suicidal thoughts)",
    "1": "1 (wish to be dead)",
}
_CSSRS_ACTION = {
    3: "a same-day safety assessment is needed.",
    2: "a clinician should review today and complete a safety assessment.",
    1: "tell the clinician and repeat the screen at the next contact.",
}


def _c_ssrs(ctx: _Context, flags: list[Flag]) -> Band | None:
    # Columbia triage, DOMAIN.md §4 ✔: yes to 4 or 5, or behaviour in the past 3 months
    # → high; yes to 3, or behaviour longer ago → moderate; 1 or 2 only → low. Answers are
    # taken as given even when they break the skip pattern: every yes counts and the
    # mismatch is flagged.
    yes = {code for code, value in ctx.answers.items() if value == 1}
    # Most worrying first; "6" is named once, with or without the past-3-months follow-up.
    yes_keys = [k for k in _CSSRS_YES if k in yes and not (k == "6" and "6b" in yes)]
    if yes & {"4", "5", "6b"}:
        level = 3
    elif yes & {"3", "6"}:
        level = 2
    elif yes & {"1", "2"}:
        level = 1
    else:
        level = 0
    if level:
        risk = _CSSRS_LEVELS[level]
        said = ", ".join(_CSSRS_YES[k] for k in yes_keys)
        flags.append(
            Flag(
                code="suicide_risk",
                message=f"C-SSRS {risk} risk: {_CSSRS_ACTION[level]} Yes to {said}.",
                safety=level >= 2,
                risk=risk,
                item=yes_keys[0],
            )
        )
    mismatches = []
    if "2" not in yes and yes & {"3", "4", "5"}:
        mismatches.append("yes to 3–5 although 2 was no")
    if "6b" in yes and "6" not in yes:
        mismatches.append("past-3-months follow-up is yes although 6 was no")
    if mismatches:
        flags.append(
            Flag(
                code="inconsistent_answers",
                message=(
                    f"C-SSRS answers break the skip pattern ({'; '.join(mismatches)}). "
                    "Every yes counts towards the risk level; check with the participant."
                ),
            )
        )
    return ctx.instrument.band_for(level)


_RULES: dict[str, _Rule] = {
    "PHQ-9": _phq9,
    "AUDIT-C": _audit_c,
    "PCL-5": _pcl5,
    "BAM": _bam,
    "C-SSRS": _c_ssrs,
}
