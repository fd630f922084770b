from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy

from openiop.core.access import StaffRequest, public_view, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm

from . import services
from .forms import StaffUserForm
from .models import User

login = public_view(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html", redirect_authenticated_user=True
    )
)
logout = public_view(auth_views.LogoutView.as_view())

password_change = staff_view(None, audit_page="accounts.password_change")(
    auth_views.PasswordChangeView.as_view(
        template_name="accounts/password_change.html",
        success_url=reverse_lazy("accounts:password_change_done"),
    )
)
password_change_done = staff_view(None, audit_page="accounts.password_change_done")(
    auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html")
)


@staff_view(Perm.USERS_MANAGE, audit_page="accounts.staff_list")
def staff_list(request: StaffRequest) -> HttpResponse:
    users = User.objects.prefetch_related("role_assignments", "programs").order_by(
        "-is_active", "last_name", "first_name"
    )
    return render(request, "accounts/staff_list.html", {"users": users})


def _save(request: StaffRequest, form: StaffUserForm) -> HttpResponse:
    user = form.save(commit=False)
    services.save_staff_user(
        user,
        actor=request.user,
        roles=form.cleaned_data["roles"],
        programs=list(form.cleaned_data["programs"]),
        password=form.cleaned_data.get("password") or None,
    )
    messages.success(request, f"{user.username} was saved.")
    return redirect("accounts:staff_list")


@staff_view(Perm.USERS_MANAGE, audit_page="accounts.staff_form")
def staff_new(request: StaffRequest) -> HttpResponse:
    form = StaffUserForm(posted(request))
    if request.method == "POST" and form.is_valid():
        return _save(request, form)
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "creating": True},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.USERS_MANAGE, audit_page="accounts.staff_form")
def staff_edit(request: StaffRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User, pk=pk)
    form = StaffUserForm(posted(request), instance=target)
    if request.method == "POST" and form.is_valid():
        if target == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", "You cannot deactivate your own account.")
        elif target == request.user and "admin" not in form.cleaned_data["roles"]:
            form.add_error("roles", "You cannot remove your own administrator role.")
        else:
            return _save(request, form)
    return render(
        request,
        "accounts/staff_form.html",
        {"form": form, "creating": False, "target": target},
        status=400 if request.method == "POST" else 200,
    )
