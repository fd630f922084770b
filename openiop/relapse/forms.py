from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.core.forms import ModelMultipleIdsField

from . import services
from .choices import SECTIONS


class SupportField(ModelMultipleIdsField):
    def label_from_instance(self, obj: Any) -> str:
        phone = f" · {obj.phone}" if obj.phone else ""
        return f"{obj.name} ({obj.get_relationship_display()}){phone}"


class PlanDraftForm(forms.Form):
    """The draft editor: one textarea per section (one item per line), the support people
    chosen from the participant's contacts, each with the part they play."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, label, prompt, _mine in SECTIONS:
            self.fields[f"section_{key}"] = forms.CharField(
                label=label,
                help_text=prompt + " One per line.",
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        self.fields["support"] = SupportField(
            queryset=contacts,
            required=False,
            label="Support people",
            widget=forms.CheckboxSelectMultiple,
        )
        self.contacts = list(contacts)
        for contact in self.contacts:
            self.fields[f"role_{contact.pk}"] = forms.CharField(
                label=f"What {contact.name} will do",
                required=False,
                max_length=services.MAX_ROLE_CHARS,
                widget=forms.TextInput(
                    attrs={"placeholder": "e.g. call when a craving hits; drive me to a meeting"}
                ),
            )

    def _clean_section(self, key: str, label: str) -> list[str]:
        try:
            return services.parse_items(self.cleaned_data.get(f"section_{key}", ""), label)
        except services.RelapseError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key, label, _prompt, _mine in SECTIONS:
            if f"section_{key}" in self.errors:
                continue
            try:
                data[key] = self._clean_section(key, label)
            except forms.ValidationError as exc:
                self.add_error(f"section_{key}", exc)
        chosen = data.get("support") or []
        if len(chosen) > services.MAX_SUPPORT:
            self.add_error("support", f"At most {services.MAX_SUPPORT} support people.")
        return data

    def sections(self) -> dict[str, list[str]]:
        return {key: self.cleaned_data[key] for key, *_ in SECTIONS}

    def support(self) -> list[tuple[int, str]]:
        chosen = self.cleaned_data.get("support") or []
        return [(c.pk, self.cleaned_data.get(f"role_{c.pk}", "") or "") for c in chosen]

    def support_rows(self) -> list[dict[str, Any]]:
        """Each contact with its checkbox state and role box, for the template."""
        field = cast(forms.ModelMultipleChoiceField, self.fields["support"])
        raw = self["support"].value() or []
        chosen = {str(v) for v in raw}
        rows = []
        for contact in self.contacts:
            rows.append(
                {
                    "contact": contact,
                    "checked": str(contact.pk) in chosen,
                    "role": self[f"role_{contact.pk}"],
                    "label": field.label_from_instance(contact),
                }
            )
        return rows


class StartForm(forms.Form):
    """Start a new version from the latest signed one (0: none yet). A colleague who
    signed a newer version in between is reported instead of copied from the wrong one."""

    from_number = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=100000)


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ParticipantSignForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your name",
        max_length=services.MAX_NAME_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "words"}),
    )
    signature = forms.CharField(
        required=False,
        max_length=services.MAX_SIGNATURE_CHARS,
        widget=forms.HiddenInput(attrs={"id": "id_signature"}),
    )

    def clean_signature(self) -> str:
        try:
            return services.clean_signature_image(self.cleaned_data.get("signature", ""))
        except services.RelapseError as exc:
            raise forms.ValidationError(str(exc)) from None
