"""Staff forms of the family area (English: staff pages are not translated)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.core.forms import ModelMultipleIdsField
from openiop.portal.models import Language

from .choices import ArticleSection, Audience
from .models import EducationArticle


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise forms.ValidationError("Remove the invisible NUL character.")


class ContactChoiceField(ModelMultipleIdsField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_relationship_display()} of {obj.participant.display_name})"


class InviteForm(forms.Form):
    """Family members to invite: only those whose consent is in force are offered."""

    contacts = ContactChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Invite",
        error_messages={"required": "Tick the family members to invite."},
    )

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["contacts"]).queryset = contacts


class CancelInvitationForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        validators=[_no_nul],
        help_text="e.g. “The participant asked us not to invite them this week”.",
    )


class PortalInviteForm(forms.Form):
    """How a family portal invitation reaches the family member."""

    channel = forms.ChoiceField(
        choices=[
            ("printed", "Printed or read out (the link is shown once, here)"),
            ("email", "Email"),
            ("sms", "Text message"),
        ],
        initial="printed",
    )
    sent_to = forms.CharField(
        max_length=200,
        required=False,
        label="Email or mobile number",
        validators=[_no_nul],
        help_text="For email or a text message. Blank: the contact's own.",
    )
    language = forms.ChoiceField(choices=Language.choices, initial=Language.ENGLISH)

    def __init__(self, *args: Any, contact: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, sent_to = data.get("channel"), (data.get("sent_to") or "").strip()
        if channel == "email" and not sent_to and self.contact is not None:
            sent_to = self.contact.email
        if channel == "sms" and not sent_to and self.contact is not None:
            sent_to = self.contact.phone
        if channel in ("email", "sms") and not sent_to:
            self.add_error("sent_to", "Give the email address or mobile number to send it to.")
        if channel == "email" and sent_to:
            try:
                forms.EmailField().clean(sent_to)
            except forms.ValidationError:
                self.add_error("sent_to", "Enter a valid email address.")
        if channel == "printed":
            sent_to = ""
        data["sent_to"] = sent_to
        return data


class ArticleForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    position = forms.IntegerField(
        min_value=0, max_value=1000, initial=100, help_text="Lower numbers are listed first."
    )

    class Meta:
        model = EducationArticle
        fields = ["title", "summary", "body", "section", "audience", "language", "position"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}
        labels = {"section": "Where it appears"}
        help_texts = {
            "audience": "Family members see articles for families and for everyone.",
            "language": "Families read articles in the language of their account.",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = ArticleSection.choices  # type: ignore[attr-defined]
        self.fields["audience"].choices = Audience.choices  # type: ignore[attr-defined]
        for name in ("title", "summary", "body"):
            self.fields[name].validators.append(_no_nul)

    def clean_title(self) -> str:
        title = (self.cleaned_data.get("title") or "").strip()
        if not title:
            raise forms.ValidationError("Give the article a title.")
        return title

    def clean_body(self) -> str:
        body = (self.cleaned_data.get("body") or "").strip()
        if not body:
            raise forms.ValidationError("Write the article.")
        return body.replace("\r\n", "\n")
