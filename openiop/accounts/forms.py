from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from openiop.core.forms import ModelMultipleIdsField
from openiop.core.roles import ROLE_PERMISSIONS, Perm, Role
from openiop.programs.models import Program

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
