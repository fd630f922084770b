from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone

from openiop.participants.choices import ReferralSource
from openiop.participants.forms import DATE, ParticipantForm
from openiop.participants.models import Participant
from openiop.participants.services import PARTICIPANT_FIELDS
from openiop.programs.choices import LevelOfCare
from openiop.programs.models import Program, Track

from . import asam, prescreen
from .choices import ContactMethod, ContactOutcome, FormSource, NotAdmittedReason, Outcome
from .models import Referral

IDENTITY_FIELDS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
]
DETAIL_FIELDS = [
    "urgency",
    "referrer_name",
    "referrer_organisation",
    "referrer_phone",
    "referrer_email",
    "reason",
    "insurance_payer",
    "insurance_member_id",
    "insurance_verified",
    "assigned_to",
]


def _not_future(day: dt.date, what: str) -> dt.date:
    if day > timezone.localdate() + dt.timedelta(days=1):
        raise forms.ValidationError(f"The {what} cannot be in the future.")
    return day


class ReferralDetailsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Referral
        fields = DETAIL_FIELDS
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, staff: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assigned_to"]).queryset = staff
        self.fields["reason"].required = True


class NewReferralForm(ReferralDetailsForm):
    """A referral: who the person is, who sent them and why. A possible duplicate of an
    existing participant is shown; the user links the referral to them or confirms a new
    person."""

    program: forms.ModelChoiceField[Program] = forms.ModelChoiceField(
        queryset=None, empty_label=None
    )
    legal_first_name = forms.CharField(max_length=80, label="Legal first name")
    legal_last_name = forms.CharField(max_length=80, label="Legal last name")
    preferred_name = forms.CharField(max_length=80, required=False)
    date_of_birth = forms.DateField(widget=DATE)
    phone = forms.CharField(max_length=30, required=False)
    email = forms.EmailField(required=False)
    referral_source = forms.ChoiceField(choices=ReferralSource.choices, label="Source")
    referral_date = forms.DateField(widget=DATE)
    existing = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_new = forms.BooleanField(
        required=False, label="This is a different person: register them as new"
    )

    field_order = [
        "program",
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "phone",
        "email",
        "referral_source",
        "referral_date",
        "urgency",
        "reason",
        "referrer_name",
        "referrer_organisation",
        "referrer_phone",
        "referrer_email",
        "insurance_payer",
        "insurance_member_id",
        "insurance_verified",
        "assigned_to",
    ]

    def __init__(self, *args: Any, programs: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        self.fields["referral_date"].initial = timezone.localdate()
        if programs.count() == 1:
            self.fields["program"].widget = forms.HiddenInput()
            self.fields["program"].initial = programs.first()

    def clean_date_of_birth(self) -> dt.date:
        return cast(dt.date, ParticipantForm.clean_date_of_birth(self))  # type: ignore[arg-type]

    def clean_referral_date(self) -> dt.date:
        return _not_future(self.cleaned_data["referral_date"], "referral date")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        dob, referral = data.get("date_of_birth"), data.get("referral_date")
        if dob and referral and referral < dob:
            self.add_error("referral_date", "The referral date cannot be before the birth date.")
        return data

    def identity(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in IDENTITY_FIELDS}


class ContactForm(forms.Form):
    method = forms.ChoiceField(choices=ContactMethod.choices)
    outcome = forms.ChoiceField(choices=ContactOutcome.choices)
    note = forms.CharField(max_length=500, required=False)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[c for c in Outcome.choices if c[0] != Outcome.ADMITTED],
        widget=forms.RadioSelect,
    )
    not_admitted_reason = forms.ChoiceField(
        choices=[("", "—"), *NotAdmittedReason.choices], required=False, label="Why not admitted"
    )
    referred_to = forms.CharField(max_length=200, required=False, label="Referred to")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False, label="Why"
    )
    effective_date = forms.DateField(widget=DATE, label="Date")

    def clean_effective_date(self) -> dt.date:
        return _not_future(self.cleaned_data["effective_date"], "date")


class PreScreenForm(forms.Form):
    """The pre-admission questions, built from `prescreen.QUESTIONS`."""

    screened_on = forms.DateField(widget=DATE, label="Date")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False
    )

    YES_NO = [("yes", "Yes"), ("no", "No"), ("unknown", "Not known yet")]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for q in prescreen.QUESTIONS:
            if q.kind == "yes_no":
                field: forms.Field = forms.ChoiceField(
                    choices=self.YES_NO, widget=forms.RadioSelect, label=q.text, help_text=q.help
                )
            else:
                field = forms.TypedChoiceField(
                    choices=[(str(n), str(n)) for n in range(11)],
                    coerce=int,
                    widget=forms.RadioSelect,
                    label=q.text,
                    help_text=q.help,
                )
            self.fields[f"q_{q.code}"] = field
        self.order_fields([f"q_{q.code}" for q in prescreen.QUESTIONS] + ["note", "screened_on"])

    def clean_screened_on(self) -> dt.date:
        return _not_future(self.cleaned_data["screened_on"], "screening date")

    def answers(self) -> dict[str, Any]:
        return {q.code: self.cleaned_data[f"q_{q.code}"] for q in prescreen.QUESTIONS}

    def question_fields(self) -> list[Any]:
        return [self[f"q_{q.code}"] for q in prescreen.QUESTIONS]


# The generic severity words of the 0–4 scale (DOMAIN.md §1.4), not ASAM's anchor text.
RATING_CHOICES = [
    ("0", "0 · none or stable"),
    ("1", "1 · mild"),
    ("2", "2 · moderate"),
    ("3", "3 · serious"),
    ("4", "4 · severe, imminent danger"),
]


class AssessmentForm(forms.Form):
    """Six dimensions, a rating 0–4 and a narrative each; a draft may be incomplete."""

    assessed_on = forms.DateField(widget=DATE, label="Date of assessment")
    form_source = forms.ChoiceField(choices=FormSource.choices, label="Ratings from")
    licensed_tool = forms.CharField(max_length=120, required=False, label="Licensed tool")
    licensed_reference = forms.CharField(
        max_length=120, required=False, label="Reference in that tool"
    )
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=8000, required=False
    )
    chosen_level = forms.ChoiceField(required=False, label="Level of care chosen")
    override_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        label="Reason, if the level chosen differs from the recommendation",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, edition: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.edition = edition
        self.dimensions = asam.DIMENSIONS[edition]
        for d in self.dimensions:
            self.fields[f"rating_{d.number}"] = forms.TypedChoiceField(
                choices=RATING_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                label=f"Risk rating, dimension {d.number}",
                widget=forms.RadioSelect,
            )
            self.fields[f"narrative_{d.number}"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 4}),
                max_length=8000,
                required=False,
                label=f"Findings, dimension {d.number}",
            )
        prefix = f"{edition}:"
        cast(forms.ChoiceField, self.fields["chosen_level"]).choices = [
            ("", "The recommended level"),
            *[c for c in LevelOfCare.choices if c[0].startswith(prefix)],
        ]

    def clean_assessed_on(self) -> dt.date:
        return _not_future(self.cleaned_data["assessed_on"], "assessment date")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {
            k: data.get(k)
            for k in (
                "assessed_on",
                "form_source",
                "licensed_tool",
                "licensed_reference",
                "summary",
                "chosen_level",
                "override_reason",
            )
        }
        for n in range(1, 7):
            out[f"rating_{n}"] = data.get(f"rating_{n}")
            out[f"narrative_{n}"] = data.get(f"narrative_{n}") or ""
        if not any(d.number == 6 and d.risk_rated for d in self.dimensions):
            out["rating_6"] = None
        return out

    def dimension_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "dimension": d,
                "rating": self[f"rating_{d.number}"],
                "narrative": self[f"narrative_{d.number}"],
            }
            for d in self.dimensions
        ]


DIAGNOSIS_ROWS = 4


class AdmissionForm(forms.Form):
    """The guided admission: identity, level and placement, diagnoses, consents."""

    # Identity (confirm or complete)
    version = forms.IntegerField(widget=forms.HiddenInput)
    # Placement
    level_of_care = forms.ChoiceField(label="Level of care")
    level_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        label="Reason, if admitting at a level the assessment did not choose",
    )
    track: forms.ModelChoiceField[Track] = forms.ModelChoiceField(queryset=None)
    primary_counsellor: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    admission_date = forms.DateField(widget=DATE, label="Start date (first service)")
    primary_diagnosis = forms.TypedChoiceField(
        choices=[(str(i), str(i + 1)) for i in range(DIAGNOSIS_ROWS)],
        coerce=int,
        initial=0,
        widget=forms.RadioSelect,
        label="Primary diagnosis",
    )
    # Consents
    consent_signature = forms.CharField(
        max_length=200, label="Consent to treatment: participant's signature (typed name)"
    )
    consent_signed_on = forms.DateField(widget=DATE, label="Consent signed on")
    notice_acknowledged = forms.BooleanField(
        label="The participant received the confidentiality notice (42 CFR Part 2) and "
        "acknowledged it"
    )
    notice_given_on = forms.DateField(widget=DATE, label="Notice given on")

    def __init__(self, *args: Any, program: Any, staff: Any, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        edition = program.level_of_care.split(":")[0]
        cast(forms.ChoiceField, self.fields["level_of_care"]).choices = [
            c for c in LevelOfCare.choices if c[0].startswith(f"{edition}:")
        ]
        cast(forms.ModelChoiceField, self.fields["track"]).queryset = Track.objects.filter(
            program=program, retired=False
        )
        cast(forms.ModelChoiceField, self.fields["primary_counsellor"]).queryset = staff
        self.identity_form = ParticipantForm(
            self.data if self.is_bound else None,
            instance=participant,
            prefix="id",
        )
        for i in range(DIAGNOSIS_ROWS):
            self.fields[f"dx_code_{i}"] = forms.CharField(
                max_length=10,
                required=i == 0,
                label="ICD-10-CM code",
                widget=forms.TextInput(attrs={"list": "icd10-codes", "autocomplete": "off"}),
            )
            self.fields[f"dx_description_{i}"] = forms.CharField(
                max_length=250, required=False, label="Description"
            )

    def is_valid(self) -> bool:
        own = super().is_valid()
        return self.identity_form.is_valid() and own

    def clean(self) -> dict[str, Any]:
        super().clean()
        from . import icd10

        data = self.cleaned_data
        for i in range(DIAGNOSIS_ROWS):
            code = (data.get(f"dx_code_{i}") or "").strip()
            if code:
                try:
                    data[f"dx_code_{i}"] = icd10.normalize(code)
                except ValueError as exc:
                    self.add_error(f"dx_code_{i}", str(exc))
        primary = data.get("primary_diagnosis")
        row = f"dx_code_{primary}"
        if primary is not None and not (data.get(row) or "").strip() and row not in self.errors:
            self.add_error("primary_diagnosis", "The primary diagnosis row has no code.")
        for name in ("admission_date", "consent_signed_on", "notice_given_on"):
            if data.get(name):
                try:
                    _not_future(data[name], "date")
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def diagnosis_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "code": self[f"dx_code_{i}"],
                "description": self[f"dx_description_{i}"],
            }
            for i in range(DIAGNOSIS_ROWS)
        ]

    def identity(self) -> dict[str, Any]:
        return {k: self.identity_form.cleaned_data[k] for k in PARTICIPANT_FIELDS}
