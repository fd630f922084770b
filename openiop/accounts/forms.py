from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password

from openiop.core.forms import ModelMultipleIdsField
from openiop.core.middleware import client_ip
from openiop.core.roles import ROLE_PERMISSIONS, Perm, Role
from openiop.programs.models import Program

from . import lockout
from .models import User


def role_help() -> str:
    return " · ".join(
        f"{Role(r).label}: " + ", ".join(sorted(Perm(p).value for p in perms))
        for r, perms in ROLE_PERMISSIONS.items()
    )


class StaffUserForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    programs = ModelMultipleIdsField(
        queryset=Program.objects.filter(retired=False),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text="Set a first password (at least 12 characters). Leave empty to keep it.",
    )

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "credentials",
            "notes_need_cosign",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = sorted(self.instance.role_codes)
            self.fields["programs"].initial = list(self.instance.programs.all())
        else:
            self.fields["password"].required = True
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def _post_clean(self) -> None:
        # A private Django hook (as UserCreationForm uses), absent from django-stubs.
        super()._post_clean()  # type: ignore[misc]
        # Validate the password once the instance holds the submitted username and names,
        # so the similarity check compares against them (as Django's UserCreationForm).
        password = self.cleaned_data.get("password")
        if password:
            try:
                validate_password(password, self.instance)
            except forms.ValidationError as error:
                self.add_error("password", error)


# --- Sign-in security (issue 8, point 5; helper H1) --------------------------------------

INVALID_LOGIN = "Your username and password did not match, or the account is not active. Try again."


class SignInForm(AuthenticationForm):
    """The password step, with the lockout: a locked username is refused unchecked."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        address = client_ip(self.request) if self.request is not None else None
        lock = lockout.lock_for(username)
        if lock is not None:
            lockout.record_refused(username, address)
            raise forms.ValidationError(lock.message(), code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            lock = lockout.record_failure(username, address, lockout.PASSWORD)
            if lock is not None:
                raise forms.ValidationError(lock.message(), code="locked")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=24,
        help_text="The 6-digit code your authenticator app shows now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class SignInCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=24,
        help_text="The 6-digit code from your authenticator app, or one of your recovery " "codes.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit log, e.g. “lost phone, identity checked in person”.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class SecurityPolicyForm(forms.Form):
    mfa_required_roles = forms.MultipleChoiceField(
        label="Roles that must use two-factor sign-in",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of these roles set up an authenticator app at their next sign-in "
        "and cannot turn it off. Everyone else may turn it on for themselves.",
    )
    # The policy as it was when the page was opened: a change made meanwhile by someone
    # else is not overwritten (and an empty POST is not "no role").
    version = forms.CharField(widget=forms.HiddenInput, max_length=64)
