from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openiop.accounts.forms import SignInForm
from openiop.attendance import rules

from .models import Language


class PortalSignInForm(SignInForm):
    """The staff sign-in's checks (lockout, address throttle) in the portal's words.
    A staff account is refused here: staff sign in on the staff page."""

    error_messages = {
        "invalid_login": _("That username and password do not match. Please try again."),
        "inactive": _("That username and password do not match. Please try again."),
        "staff": _(
            "This is the sign-in for participants and families. Staff sign in on the " "staff page."
        ),
        "locked": _(
            "Too many tries. For your safety this account is locked for a while; try "
            "again later or call the program."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")

    def clean(self) -> dict[str, Any]:
        try:
            super().clean()
        except forms.ValidationError as error:
            if getattr(error, "code", "") == "locked":
                raise forms.ValidationError(self.error_messages["locked"], code="locked") from None
            raise
        return self.cleaned_data

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.portal_kind:
            raise forms.ValidationError(self.error_messages["staff"], code="staff")


# --- accepting an invitation (issue 9, point 1) ----------------------------------------------


class AcceptForm(forms.Form):
    """Username, password twice and language. The username's uniqueness and the password
    rules are checked by `services.accept` (Django's validators), which reports them per
    field."""

    username = forms.CharField(
        label=_("Choose a username"),
        max_length=150,
        help_text=_("Letters, numbers and @ . + - _ only. You will type it to sign in."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=4096,
        help_text=_("At least 12 characters. A few words you will remember work well."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Type the password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, again = data.get("password"), data.get("password_again")
        if first and again and first != again:
            self.add_error("password_again", _("The two passwords are not the same."))
        return data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of my portal"), choices=Language.choices, widget=forms.RadioSelect
    )


# --- the daily check-in, in the participant's words ----------------------------------------


def _scale(low: int, high: int) -> list[tuple[int, str]]:
    return [(i, str(i)) for i in range(low, high + 1)]


class PortalCheckInForm(forms.Form):
    """The daily check-in (the same values and rules as staff's `attendance.forms
    .CheckInForm`), with big tap targets and the words translated."""

    mood = forms.TypedChoiceField(
        choices=_scale(1, 10),
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How is your mood today? (1 = very bad, 10 = very good)"),
    )
    craving = forms.TypedChoiceField(
        choices=_scale(0, 10),
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How strong are your cravings? (0 = none, 10 = very strong)"),
    )
    used = forms.TypedChoiceField(
        choices=[("no", pgettext_lazy("answer", "No")), ("yes", pgettext_lazy("answer", "Yes"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label=_("Have you used alcohol or drugs since your last session?"),
    )
    substances = forms.CharField(
        required=False,
        max_length=rules.SUBSTANCES_MAX_LENGTH,
        label=_("If yes: what did you use?"),
        help_text=_("Your counsellor will talk it through with you. Honest answers help."),
    )
    stress = forms.TypedChoiceField(
        choices=_scale(0, 10),
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How stressed do you feel? (0 = not at all, 10 = extremely)"),
    )
    sleep_hours = forms.DecimalField(
        min_value=Decimal("0"),
        max_value=Decimal("24"),
        decimal_places=1,
        max_digits=3,
        label=_("How many hours did you sleep last night?"),
        help_text=_("For example 7 or 6.5"),
        # A text box with the number keypad: a number box's spinner changes the value on
        # a stray scroll, and a comma is the decimal mark in Spanish ("6,5").
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Anything else you want your counsellor to know? (optional)"),
    )

    def values(self) -> rules.CheckInValues:
        d = self.cleaned_data
        return rules.CheckInValues(
            mood=d.get("mood"),
            craving=d.get("craving"),
            used=bool(d.get("used")),
            substances=d.get("substances", "") or "",
            stress=d.get("stress"),
            sleep_hours=d.get("sleep_hours"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(k in data for k in ("mood", "craving", "used", "stress", "sleep_hours")):
            problems = rules.validate_check_in(self.values())
            if "substances" in problems:
                if data.get("used"):
                    self.add_error("substances", _("Please say what you used."))
                else:
                    self.add_error(
                        "substances", _("Leave this empty, or answer “Yes” to the question above.")
                    )
            if "sleep_hours" in problems:
                self.add_error("sleep_hours", _("Give the hours as a number such as 7 or 7.5."))
        return data


# --- a questionnaire -------------------------------------------------------------------------


class QuestionnaireForm(forms.Form):
    """One radio group per item of the instrument. The items and answers are the
    validated English wording of the instrument (its catalogue definition)."""

    def __init__(self, *args: Any, instrument: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.code}"] = forms.TypedChoiceField(
                choices=[(str(o.value), o.label) for o in item.options],
                coerce=int,
                widget=forms.RadioSelect,
                label=f"{item.code}. {item.text}",
                error_messages={
                    "required": _("Please answer this question."),
                    "invalid_choice": _("Please choose one of the answers."),
                },
            )

    def item_fields(self) -> list[Any]:
        return [self[f"item_{item.code}"] for item in self.instrument.items]

    def answers(self) -> dict[str, int]:
        return {item.code: self.cleaned_data[f"item_{item.code}"] for item in self.instrument.items}


# --- staff: inviting, withdrawing an invitation, ending access (English) ---------------------


class InviteForm(forms.Form):
    channel = forms.ChoiceField(
        label="How the invitation goes",
        choices=[
            ("sms", "Text message"),
            ("email", "Email"),
            ("printed", "Printed or read out (I hand it over)"),
        ],
        widget=forms.RadioSelect,
    )
    sent_to = forms.CharField(
        label="Mobile number or email address",
        required=False,
        max_length=200,
        help_text="Prefilled from the participant's record. Leave empty for printed.",
    )
    language = forms.ChoiceField(
        label="Language of the invitation and the portal",
        choices=Language.choices,
        help_text="Preset from the participant's preferred language; they can change it later.",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why is the invitation withdrawn?",
        max_length=300,
        help_text="For example: sent to the wrong number; the participant asked for a new one.",
    )


class EndAccountForm(forms.Form):
    reason = forms.CharField(
        label="Why does portal access end?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: discharged and asked to close it; lost phone; consent revoked.",
    )
