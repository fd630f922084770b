from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.forms import ModelMultipleIdsField
from openiop.programs.models import Program, Track

from .choices import EpisodeStatus, ReferralSource
from .models import Contact, Participant
from .services import PARTICIPANT_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ParticipantForm(forms.ModelForm):
    """Identity and contact details. `version` detects a colleague's save in between."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Participant
        fields = PARTICIPANT_FIELDS
        widgets = {"date_of_birth": DATE}

    def clean_date_of_birth(self) -> dt.date:
        dob = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if dob > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if dob.year < today.year - 120:
            raise forms.ValidationError("Check the year: that would make them over 120.")
        return dob


class NewParticipantForm(ParticipantForm):
    program: forms.ModelChoiceField[Program] = forms.ModelChoiceField(
        queryset=None, empty_label=None
    )
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_date = forms.DateField(widget=DATE)

    def __init__(self, *args: Any, programs: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        self.fields["referral_date"].initial = timezone.localdate()
        if programs.count() == 1:
            self.fields["program"].widget = forms.HiddenInput()
            self.fields["program"].initial = programs.first()

    def clean_referral_date(self) -> dt.date:
        day = self.cleaned_data["referral_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("The referral date cannot be in the future.")
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        dob, referral = data.get("date_of_birth"), data.get("referral_date")
        if dob and referral and referral < dob:
            self.add_error("referral_date", "The referral date cannot be before the birth date.")
        return data


class NewEpisodeForm(forms.Form):
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    referral_date = forms.DateField(widget=DATE)

    def clean_referral_date(self) -> dt.date:
        day = self.cleaned_data["referral_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("The referral date cannot be in the future.")
        return day


class EpisodeForm(forms.Form):
    """Level of care, track, primary counsellor and care team, limited to the program."""

    level_of_care = forms.ChoiceField(required=False)
    track = forms.ModelChoiceField(queryset=Track.objects.none(), required=False)
    primary_counsellor: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None, required=False
    )
    care_team = ModelMultipleIdsField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, program: Any, staff: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from openiop.programs.choices import LevelOfCare

        cast(forms.ChoiceField, self.fields["level_of_care"]).choices = [
            ("", "—"),
            *LevelOfCare.choices,
        ]
        cast(forms.ModelChoiceField, self.fields["track"]).queryset = Track.objects.filter(
            program=program, retired=False
        )
        cast(forms.ModelChoiceField, self.fields["primary_counsellor"]).queryset = staff
        cast(forms.ModelChoiceField, self.fields["care_team"]).queryset = staff


class TransitionForm(forms.Form):
    effective_date = forms.DateField(widget=DATE, label="Date")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, to_status: str, program: Any, staff: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = program.today()
        # Discharge has its own form (discharge:discharge, registered as a guided step).
        if to_status in (EpisodeStatus.NOT_ADMITTED, EpisodeStatus.REFERRED_ELSEWHERE):
            self.fields["reason"].required = True
            help_texts: dict[str, str] = {
                EpisodeStatus.NOT_ADMITTED: "Why the participant was not admitted.",
                EpisodeStatus.REFERRED_ELSEWHERE: "To whom, and why.",
            }
            self.fields["reason"].help_text = help_texts[to_status]
        if to_status == EpisodeStatus.ADMITTED:
            from openiop.programs.choices import LevelOfCare

            self.fields["level_of_care"] = forms.ChoiceField(
                choices=LevelOfCare.choices, initial=program.level_of_care
            )
            self.fields["track"] = forms.ModelChoiceField(
                queryset=Track.objects.filter(program=program, retired=False)
            )
            self.fields["primary_counsellor"] = forms.ModelChoiceField(queryset=staff)
            self.fields["effective_date"].label = "Admission date"
        if not self.fields["reason"].required:
            self.fields["reason"].label = "Note"
            self.fields["reason"].help_text = "Optional: kept in the status history."
        self.order_fields(
            ["effective_date", "level_of_care", "track", "primary_counsellor", "reason"]
        )


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Why this record should not exist, e.g. “Duplicate of OI-000123-4”.",
    )


class ContactForm(forms.ModelForm):
    """A contact's details. `version` detects a colleague's save in between."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    class Meta:
        model = Contact
        fields = ["name", "relationship", "phone", "email", "is_support", "is_emergency", "notes"]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "notes": "Anything staff should know, e.g. “call after 5 pm”, “knows about the "
            "program”.",
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Write the contact's name.")
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not any(ch.isdigit() for ch in phone):
            raise forms.ValidationError("A phone number needs digits.")
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("is_support") or data.get("is_emergency")) and not (
            data.get("phone") or data.get("email")
        ):
            self.add_error(
                "phone",
                "A support person or emergency contact needs a phone number or an email.",
            )
        return data


class ContactVoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Why, e.g. “Entered twice”, “No longer in touch; participant asked”.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason
