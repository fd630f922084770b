from __future__ import annotations

from django.db import models


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded"


# The plan's sections: (field, label, prompt for the editor, heading in the participant's
# words for the wallet card). Each is a list of short items; "when cravings hit" is an
# ordered list of steps.
SECTIONS: list[tuple[str, str, str, str]] = [
    (
        "reasons",
        "Reasons for recovery",
        "In the participant's own words: why recovery matters to them.",
        "Why I am doing this",
    ),
    (
        "triggers",
        "Triggers",
        "People, places, feelings and things that set off the urge to use.",
        "My triggers",
    ),
    (
        "high_risk",
        "High-risk situations",
        "Situations where using is most likely (payday, parties, being alone at night…).",
        "Situations to watch",
    ),
    (
        "warning_signs",
        "Warning signs",
        "Changes in thinking, mood or behaviour that come before a relapse.",
        "My warning signs",
    ),
    (
        "coping",
        "Coping strategies",
        "What works: skills, activities, places, routines.",
        "What helps me",
    ),
    (
        "craving_steps",
        "When cravings hit",
        "Steps in order: what to do first, then next.",
        "When a craving hits, I will",
    ),
]
SECTION_KEYS = [key for key, *_ in SECTIONS]
SECTION_LABELS = {key: label for key, label, *_ in SECTIONS}
# Sections that must have at least one item before the plan is signed.
REQUIRED_SECTIONS = ("triggers", "warning_signs", "coping", "craving_steps")
# Sections whose order matters (a reordering is a change worth showing).
ORDERED_SECTIONS = frozenset({"craving_steps"})
