from __future__ import annotations

from django.db import models


class NoteFormat(models.TextChoices):
    DAP = "dap", "DAP (Data, Assessment, Plan)"
    BIRP = "birp", "BIRP (Behavior, Intervention, Response, Plan)"
    SOAP = "soap", "SOAP (Subjective, Objective, Assessment, Plan)"


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


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
