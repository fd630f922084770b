"""Forms of the consent registry. They parse; `services.consent_problems` decides whether a
consent is complete (42 CFR §2.31(a), DOMAIN.md §2.3) and its problems are shown beside
the fields they name."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from .choices import TPO_PURPOSES, ConsentKind, InfoCategory, Purpose, RecipientKind, SignerRole
from .models import Consent
from .services import TPO_DEFAULT_RECIPIENTS, ConsentInput

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SIGNATURE_METHODS = list(Consent._meta.get_field("signature_method").choices or [])

# What each kind of consent offers on its form (the service still checks every rule).
TPO_RECIPIENTS = [RecipientKind.TPO_CLASS, RecipientKind.PROVIDER, RecipientKind.PAYER]
NON_TPO_INFO = [c for c in InfoCategory.values if c != InfoCategory.COUNSELLING_NOTES]


def shown_choices(kind: str) -> dict[str, list[str]]:
    """The choices a kind of consent offers: a TPO consent covers only TPO purposes and
    recipients; SUD counselling notes go only on their own consent (§2.31(b)). The service
    checks the same rules for every other caller."""
    if kind == ConsentKind.TPO:
        return {
            "recipient_kind": list(TPO_RECIPIENTS),
            "purposes": [p for p in Purpose.values if p in TPO_PURPOSES],
            "information": NON_TPO_INFO,
            "expiry_event": [Consent.ExpiryEvent.END_OF_TREATMENT, Consent.ExpiryEvent.NO_EXPIRY],
        }
    return {
        "recipient_kind": [k for k in RecipientKind.values if k != RecipientKind.TPO_CLASS],
        "purposes": list(Purpose.values),
        "information": (
            [InfoCategory.COUNSELLING_NOTES]
            if kind == ConsentKind.COUNSELLING_NOTES
            else NON_TPO_INFO
        ),
        "expiry_event": [Consent.ExpiryEvent.END_OF_TREATMENT],
    }


ALL_CHOICES: dict[str, list[tuple[str, str]]] = {
    "recipient_kind": [("", "—"), *RecipientKind.choices],
    "purposes": list(Purpose.choices),
    "information": list(InfoCategory.choices),
    "expiry_event": list(Consent.ExpiryEvent.choices),
}


class ContactChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_relationship_display()})"


class ConsentForm(forms.Form):
    """A signed consent, element by element (the numbers are those of §2.31(a))."""

    discloser = forms.CharField(
        label="Who may disclose (element 2)",
        max_length=200,
        required=False,
        help_text="The program, or the person or class of persons allowed to disclose.",
    )
    recipient_kind = forms.ChoiceField(
        label="Kind of recipient (element 4)",
        choices=[("", "—"), *RecipientKind.choices],
        required=False,
    )
    contact = ContactChoice(
        label="Family member or support person",
        queryset=None,
        required=False,
        empty_label="—",
        help_text="For a family member or support person: choose them from the contacts.",
    )
    recipient_name = forms.CharField(
        label="Recipient (element 4)",
        max_length=200,
        required=False,
        help_text="The name of the person or organisation, or the class of recipients.",
    )
    recipient_address = forms.CharField(label="Recipient's address", max_length=300, required=False)
    purposes = forms.MultipleChoiceField(
        label="Purpose of the disclosure (element 5)",
        choices=Purpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose_detail = forms.CharField(
        label="Purpose, in the participant's words",
        max_length=300,
        required=False,
        help_text="Needed for “Other”; useful for any purpose.",
    )
    information = forms.MultipleChoiceField(
        label="What information (element 3)",
        choices=InfoCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    information_detail = forms.CharField(
        label="Description of the information (element 3)",
        max_length=500,
        required=False,
        help_text="Specific and meaningful, e.g. “dates and hours attended, Sept–Dec 2026”.",
    )
    expires_on = forms.DateField(label="Expires on (element 7)", required=False, widget=DATE)
    expiry_event = forms.ChoiceField(
        label="…or expires at (element 7)",
        choices=Consent.ExpiryEvent.choices,
        required=False,
    )
    revocation_explained = forms.BooleanField(
        label="I told the participant of the right to revoke, and how (element 6)",
        required=False,
    )
    refusal_consequences_stated = forms.BooleanField(
        label="The consent states the consequences of refusing to sign",
        required=False,
    )
    redisclosure_stated = forms.BooleanField(
        label="The consent states that records may be redisclosed and then lose Part 2 "
        "protection",
        required=False,
    )
    signed_by = forms.CharField(
        label="Signed by (element 8)",
        max_length=200,
        required=False,
        help_text="The name as signed.",
    )
    signer_role = forms.ChoiceField(
        label="Who signed", choices=SignerRole.choices, initial=SignerRole.SELF
    )
    signed_on = forms.DateField(label="Date signed (element 9)", required=False, widget=DATE)
    signature_method = forms.ChoiceField(
        label="How it was signed", choices=SIGNATURE_METHODS, initial="paper"
    )

    def __init__(self, *args: Any, participant: Any, kind: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.participant = participant
        self.shown = shown_choices(kind)
        contact_field = cast(forms.ModelChoiceField, self.fields["contact"])
        contact_field.queryset = participant.contacts.filter(voided=False)
        if kind != ConsentKind.TPO:
            # The TPO statements are a TPO consent's own (§2.31(a), TPO extras).
            del self.fields["refusal_consequences_stated"]
            del self.fields["redisclosure_stated"]
        else:
            del self.fields["contact"]
        for name, values in self.shown.items():
            field = cast(forms.ChoiceField, self.fields[name])
            field.choices = [(v, lbl) for v, lbl in ALL_CHOICES[name] if v in values or v == ""]

    @classmethod
    def initial_for(cls, participant: Any, kind: str, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "discloser": participant.program.name,
            "signed_by": participant.legal_name,
            "signer_role": SignerRole.SELF,
            "signed_on": today,
            "signature_method": "paper",
        }
        if kind == ConsentKind.TPO:
            initial.update(
                {
                    "recipient_kind": RecipientKind.TPO_CLASS,
                    "recipient_name": TPO_DEFAULT_RECIPIENTS,
                    "purposes": [Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS],
                    "information": NON_TPO_INFO,
                    "information_detail": (
                        f"My substance use disorder treatment records at "
                        f"{participant.program.name}"
                    ),
                    "expiry_event": Consent.ExpiryEvent.END_OF_TREATMENT,
                }
            )
        elif kind == ConsentKind.COUNSELLING_NOTES:
            initial.update(
                {
                    "information": [InfoCategory.COUNSELLING_NOTES],
                    "information_detail": "My SUD counselling notes",
                }
            )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact = data.get("contact")
        # A family member named by choosing the contact: the contact's name is the
        # recipient's unless another is typed.
        if contact is not None and not data.get("recipient_name"):
            data["recipient_name"] = contact.name
        return data

    def consent_input(self) -> ConsentInput:
        d = self.cleaned_data
        contact = d.get("contact")
        return ConsentInput(
            kind=self.kind,
            discloser=d.get("discloser") or "",
            recipient_kind=d.get("recipient_kind") or "",
            recipient_name=d.get("recipient_name") or "",
            recipient_address=d.get("recipient_address") or "",
            contact_id=contact.pk if contact is not None else None,
            purposes=tuple(d.get("purposes") or ()),
            purpose_detail=d.get("purpose_detail") or "",
            information=tuple(d.get("information") or ()),
            information_detail=d.get("information_detail") or "",
            expires_on=d.get("expires_on"),
            expiry_event=d.get("expiry_event") or "",
            revocation_explained=bool(d.get("revocation_explained")),
            refusal_consequences_stated=bool(d.get("refusal_consequences_stated")),
            redisclosure_stated=bool(d.get("redisclosure_stated")),
            signed_by=d.get("signed_by") or "",
            signer_role=d.get("signer_role") or "",
            signed_on=d.get("signed_on"),
            signature_method=d.get("signature_method") or "",
        )


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(
        label="Date the participant revoked it", widget=DATE, required=False
    )
    note = forms.CharField(
        label="How the revocation was received",
        max_length=500,
        required=False,
        help_text="E.g. “Signed revocation handed in at group; copy on file”.",
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Why is this consent void?",
        max_length=500,
        required=False,
        help_text="Only for a consent recorded in error (wrong participant, typing error). "
        "A consent the participant withdraws is revoked, not voided.",
    )
