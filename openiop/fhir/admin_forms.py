"""Forms of the API clients' pages: registering a client, a new secret, retiring it and
revoking its tokens.

Text fields are Django CharFields, which refuse NUL characters (PostgreSQL cannot store
them) with a form error. The scopes offered are the server's: `system/<Type>.read` for
each registered type, `system/*.read`, and `patient/*.read` with a participant context
(`fhir.scopes`)."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from openiop.participants.models import Participant
from openiop.privacy.choices import Purpose, RecipientKind

from .models import ApiClient, ClientKind
from .registry import REGISTRY

ALL_SYSTEM = "system/*.read"
PATIENT_ALL = "patient/*.read"
MIN_MINUTES, MAX_MINUTES = 5, 1440

# Who an outside client can be: a class of recipients (TPO) or the participant's own app
# are not organisations a program registers.
RECIPIENT_KINDS = [
    (value, label)
    for value, label in RecipientKind.choices
    if value not in (RecipientKind.TPO_CLASS, RecipientKind.PARTICIPANT)
]
PURPOSES = [(value, label) for value, label in Purpose.choices if value != Purpose.PATIENT_REQUEST]

KIND_HELP = (
    "Internal: the program's own system (a data warehouse, a reporting tool). Its reads "
    "are uses inside the program: audited, not checked against consents. "
    "Outside: another organisation (a hospital, a residential program, a state system). "
    "Every read is a disclosure under 42 CFR Part 2: only participants whose consent in "
    "force names this recipient, purpose and kind of information are served, and each "
    "read goes in their accounting of disclosures."
)

STAMP = {"widget": forms.HiddenInput, "max_length": 16, "min_length": 16}


def scope_choices() -> list[tuple[str, str]]:
    """`system/*.read`, `system/<Type>.read` for each type the server has, and
    `patient/*.read`."""
    choices = [(ALL_SYSTEM, "system/*.read: every resource type of the program")]
    for rtype in sorted(REGISTRY):
        only = " (internal clients only)" if REGISTRY[rtype].internal_only else ""
        choices.append((f"system/{rtype}.read", f"system/{rtype}.read: {rtype} only{only}"))
    choices.append((PATIENT_ALL, "patient/*.read: every resource type of one participant (below)"))
    return choices


def stamp_of(client: ApiClient) -> str:
    """A stamp of what the pages change (the secret, retirement): ApiClient has no
    version, and a save by someone else in between moves it on."""
    state = f"{client.secret_sha256}|{client.retired_at.isoformat() if client.retired_at else ''}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


class ClientForm(forms.ModelForm):
    program: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(
        label="Kind of client",
        choices=ClientKind.choices,
        widget=forms.RadioSelect,
        help_text=KIND_HELP,
    )
    recipient_kind = forms.ChoiceField(
        label="Recipient kind (outside clients)",
        choices=RECIPIENT_KINDS,
        required=False,
        help_text="What the organisation is, as a consent names it. A TPO consent covers "
        "health care providers and health plans.",
    )
    recipient_name = forms.CharField(
        label="Recipient name (outside clients)",
        max_length=200,
        required=False,
        help_text="The organisation's name as the participants' consents name it.",
    )
    purpose = forms.ChoiceField(
        label="Purpose (outside clients)",
        choices=PURPOSES,
        required=False,
        help_text="Why the organisation receives the records; a consent must allow it.",
    )
    scopes = forms.MultipleChoiceField(
        label="Allowed scopes",
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
        help_text="What the client may ask a token for: system/ scopes read the whole "
        "program; patient/*.read reads one participant (the patient context below).",
    )
    participant_record = forms.CharField(
        label="Patient context: record number",
        max_length=20,
        required=False,
        help_text="Only with patient/*.read: the record number of the one participant "
        "this client reads.",
    )
    token_minutes = forms.IntegerField(
        label="Token lifetime (minutes)",
        min_value=MIN_MINUTES,
        max_value=MAX_MINUTES,
        initial=60,
        help_text=f"How long a token lasts: {MIN_MINUTES} to {MAX_MINUTES} minutes (a day).",
    )

    field_order = [
        "program",
        "name",
        "kind",
        "recipient_kind",
        "recipient_name",
        "purpose",
        "scopes",
        "participant_record",
        "token_minutes",
        "contact",
    ]

    class Meta:
        model = ApiClient
        fields = ["name", "contact"]
        labels = {"name": "Client name", "contact": "Contact"}
        help_texts = {
            "name": "What the program calls it, e.g. “Casco Bay Hospital discharge planning”.",
            "contact": "Who to call about this client (a name, an email or a phone number).",
        }

    def __init__(self, *args: Any, programs: QuerySet[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        program = cast(forms.ModelChoiceField, self.fields["program"])
        program.queryset = programs
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = scope_choices()
        self.fields["kind"].initial = ClientKind.INTERNAL
        self.fields["recipient_kind"].initial = RecipientKind.PROVIDER
        self.fields["purpose"].initial = Purpose.TREATMENT
        self.participant: Participant | None = None

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the client a name.")
        return name

    def clean_contact(self) -> str:
        return self.cleaned_data.get("contact", "").strip()

    def clean_recipient_name(self) -> str:
        return self.cleaned_data.get("recipient_name", "").strip()

    def clean_participant_record(self) -> str:
        return self.cleaned_data.get("participant_record", "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program = data.get("program")
        name = data.get("name")
        if program is not None and name:
            clash = ApiClient.objects.filter(
                program=program, name__iexact=name, retired_at__isnull=True
            )
            if clash.exists():
                self.add_error("name", "The program already has a client of that name.")
        if data.get("kind") == ClientKind.OUTSIDE:
            if not data.get("recipient_name"):
                self.add_error(
                    "recipient_name",
                    "An outside client needs the recipient's name: consents are checked "
                    "against it.",
                )
            for field, what in (("recipient_kind", "recipient kind"), ("purpose", "purpose")):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, f"An outside client needs a {what}.")
        self._clean_scopes(data, program)
        return data

    def _clean_scopes(self, data: dict[str, Any], program: Any) -> None:
        scopes: list[str] = list(dict.fromkeys(data.get("scopes") or []))
        record = data.get("participant_record", "")
        if "scopes" in self.errors or not scopes:
            return
        system = [s for s in scopes if s.startswith("system/")]
        if PATIENT_ALL in scopes and system:
            self.add_error(
                "scopes",
                "Choose system/ scopes (the whole program) or patient/*.read (one "
                "participant), not both.",
            )
            return
        if data.get("kind") == ClientKind.OUTSIDE:
            internal = [
                s
                for s in scopes
                if s.startswith("system/")
                and getattr(REGISTRY.get(s[7:].removesuffix(".read")), "internal_only", False)
            ]
            if internal:
                self.add_error(
                    "scopes",
                    f"{', '.join(internal)}: only the program's own systems read it, not "
                    "outside organisations.",
                )
                return
        if ALL_SYSTEM in scopes:
            scopes = [ALL_SYSTEM]  # it covers every type already chosen
        data["scopes"] = scopes
        if PATIENT_ALL not in scopes:
            if record:
                self.add_error(
                    "participant_record",
                    "A patient context is only for patient/*.read: leave it empty, or "
                    "choose patient/*.read.",
                )
            return
        if not record:
            self.add_error(
                "participant_record",
                "patient/*.read needs a patient context: the participant's record number.",
            )
            return
        if program is None:
            return
        self.participant = Participant.objects.filter(
            program=program, record_number=record, voided=False
        ).first()
        if self.participant is None:
            self.add_error(
                "participant_record",
                f"No participant of {program.name} has record number " f"{record}.",
            )

    def validate_unique(self) -> None:
        # client_id is made by the view; the name is checked in clean().
        return None


class NewSecretForm(forms.Form):
    stamp = forms.CharField(**STAMP)  # type: ignore[arg-type]
    revoke_tokens = forms.BooleanField(
        label="Also revoke the tokens issued with the old secret",
        required=False,
        initial=True,
        help_text="Do this when the old secret may have been seen by someone else.",
    )


class RetireForm(forms.Form):
    stamp = forms.CharField(**STAMP)  # type: ignore[arg-type]
    reason = forms.CharField(
        label="Why the client is retired",
        max_length=300,
        help_text="Kept with the client, e.g. “Agreement with the hospital ended”.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the client is retired.")
        return reason


class RevokeTokenForm(forms.Form):
    token = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class RevokeAllForm(forms.Form):
    """Revoke every active token; the stamp is the client's as the page showed it."""

    stamp = forms.CharField(**STAMP)  # type: ignore[arg-type]
