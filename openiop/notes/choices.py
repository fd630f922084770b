from __future__ import annotations

from django.db import models


class NoteFormat(models.TextChoices):
    DAP = "dap", "DAP (Data, Assessment, Plan)"
    BIRP = "birp", "BIRP (Behavior, Intervention, Response, Plan)"
    SOAP = "soap", "SOAP (Subjective, Objective, Assessment, Plan)"
    GROUP = "group", "Group note entry"


# The sections of each format, in order: (key, label, prompt).
SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    NoteFormat.DAP: [
        ("data", "Data", "What the participant said and did; what was observed."),
        ("assessment", "Assessment", "Your clinical impression; progress toward goals."),
        ("plan", "Plan", "Next steps, homework, next appointment."),
    ],
    NoteFormat.BIRP: [
        ("behavior", "Behavior", "Presentation, mood, what the participant reported."),
        ("intervention", "Intervention", "What you did (modality, techniques)."),
        ("response", "Response", "How the participant responded."),
        ("plan", "Plan", "Next steps, homework, next appointment."),
    ],
    NoteFormat.SOAP: [
        ("subjective", "Subjective", "The participant's own report."),
        ("objective", "Objective", "What was observed; screens and measures."),
        ("assessment", "Assessment", "Your clinical impression; progress toward goals."),
        ("plan", "Plan", "Next steps, homework, next appointment."),
    ],
}


# A group note's individual entry (the narrative is on the GroupNote).
SECTIONS[NoteFormat.GROUP] = [
    ("participation", "Participation", "How they took part (prefilled from attendance)."),
    ("response", "Response", "How they responded; what they shared."),
    ("goal", "Toward the goal", "What they did toward their plan goal (optional)."),
]
# Entries need participation and response to be signed; the goal may be left blank.
REQUIRED_GROUP = ("participation", "response")


class GroupModality(models.TextChoices):
    PROCESS = "process", "Process group"
    CBT = "cbt", "Cognitive behavioural therapy"
    DBT = "dbt", "Dialectical behaviour therapy skills"
    MI = "mi", "Motivational interviewing"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
    HOLISTIC = "holistic", "Holistic (mindfulness, movement, art)"
    FAMILY = "family", "Family"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
