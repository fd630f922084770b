from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, public_view, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.middleware import client_ip
from openiop.core.roles import Perm, Role

from . import lockout, mfa, services, signin
from .forms import (
    CodeForm,
    ReasonForm,
    SecurityPolicyForm,
    SignInCodeForm,
    SignInForm,
    StaffUserForm,
)
from .models import AccountLock, RecoveryCode, TotpDevice, User


def _refused_address(request: HttpRequest, until: dt.datetime) -> HttpResponse:
    """429: this client address failed too often (lockout.address_refused_until)."""
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    response = render(
        request,
        "accounts/throttled.html",
        {"until": timezone.localtime(until)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class SignInView(auth_views.LoginView):
    """The password step. With an authenticator (or a role that must enrol) it does not
    sign in: it hands over to the code (or enrolment) page with the user pending."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        until = lockout.address_refused_until(client_ip(request))
        if until is not None:
            return _refused_address(request, until)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        next_url = self.get_success_url()  # Django's: validated with url_has_allowed_host…
        if mfa.confirmed_device(user) is not None:
            signin.begin(self.request, user, stage=signin.VERIFY, next_url=next_url)
            return redirect("accounts:login_verify")
        if mfa.is_required_for(user):
            signin.begin(self.request, user, stage=signin.ENROL, next_url=next_url)
            return redirect("accounts:login_enrol")
        lockout.record_success(user.username, client_ip(self.request), lockout.PASSWORD)
        return super().form_valid(form)


login = public_view(SignInView.as_view())
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
    users = (
        User.objects.select_related("totp_device", "lock")
        .prefetch_related("role_assignments", "programs")
        .order_by("-is_active", "last_name", "first_name")
    )
    required = set(mfa.required_roles())
    now = timezone.now()
    rows = []
    for u in users:
        device = getattr(u, "totp_device", None)
        lock = getattr(u, "lock", None)
        roles = {ra.role for ra in u.role_assignments.all()}
        rows.append(
            {
                "user": u,
                "mfa_on": device is not None and device.confirmed_at is not None,
                "mfa_required": u.is_active and bool(roles & required),
                "has_device": device is not None,
                "locked_until": timezone.localtime(lock.until)
                if lock is not None and lock.until > now
                else None,
            }
        )
    return render(
        request,
        "accounts/staff_list.html",
        {
            "rows": rows,
            "can_secure": request.user.has_perm_code(Perm.SECURITY_CONFIGURE),
        },
    )


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


# --- Two-factor sign-in: the pending steps (the user is not signed in yet) ----------------


def _start_over(request: HttpRequest, message: str) -> HttpResponse:
    signin.clear(request)
    messages.error(request, message)
    return redirect("accounts:login")


@public_view
def login_verify(request: HttpRequest) -> HttpResponseBase:
    """Second step: a code from the authenticator app, or a recovery code."""
    state = signin.pending(request)
    if state is None or state.stage != signin.VERIFY:
        return _start_over(request, "Sign in with your username and password first.")
    user = state.user
    form = SignInCodeForm(posted(request))
    if request.method == "POST":
        address = client_ip(request)
        until = lockout.address_refused_until(address)
        if until is not None:
            return _refused_address(request, until)
        lock = lockout.lock_for(user.username)
        if lock is not None:
            lockout.record_refused(user.username, address)
            return _start_over(request, lock.message())
        if form.is_valid():
            code = form.cleaned_data["code"]
            device = mfa.confirmed_device(user)
            ok = device is not None and mfa.use_totp(device, code)
            recovery = None
            if not ok and not mfa.looks_like_totp(code):
                recovery = mfa.use_recovery_code(user, code)
                ok = recovery is not None
            if ok:
                lockout.record_success(user.username, address, lockout.MFA)
                if recovery is not None:
                    left = services.note_recovery_code_used(user)
                    messages.warning(
                        request,
                        f"You signed in with a recovery code; {left} left. Make new ones "
                        "under Two-factor sign-in if you are running low.",
                    )
                return redirect(signin.complete(request, state))
            audit.record(AuditAction.MFA_FAILED, actor=None, obj=user, object_repr=user.username)
            lock = lockout.record_failure(user.username, address, lockout.MFA)
            if lock is not None:
                return _start_over(request, lock.message())
            form.add_error(
                "code",
                "That code did not work. Type the code your app shows now (each code works "
                "once), or a recovery code.",
            )
    return render(
        request,
        "accounts/login_verify.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@public_view
def login_enrol(request: HttpRequest) -> HttpResponseBase:
    """The policy requires two-factor sign-in for the user's role and they have none yet:
    they set up an authenticator before they are signed in."""
    state = signin.pending(request)
    if state is None or state.stage != signin.ENROL:
        return _start_over(request, "Sign in with your username and password first.")
    user = state.user
    try:
        device = services.start_enrolment(user)
    except services.MfaRefused:
        return _start_over(request, "Sign in again: two-factor sign-in is already on.")
    form = CodeForm(posted(request))
    if request.method == "POST":
        until = lockout.address_refused_until(client_ip(request))
        if until is not None:
            return _refused_address(request, until)
        if form.is_valid():
            codes = services.confirm_enrolment(device, form.cleaned_data["code"], actor=user)
            if codes is not None:
                lockout.record_success(user.username, client_ip(request), lockout.MFA)
                then = signin.complete(request, state)
                signin.keep_codes_to_show(request, codes, then=then)
                return redirect("accounts:mfa_codes")
            form.add_error("code", _WRONG_ENROL_CODE)
    return render(
        request,
        "accounts/mfa_enrol.html",
        {"form": form, "forced": True, **_enrol_context(user, device)},
        status=400 if request.method == "POST" else 200,
    )


_WRONG_ENROL_CODE = (
    "That code did not match. Check that the app added the account (scan the code again "
    "or type the key), then type the 6 digits it shows now."
)


def _enrol_context(user: User, device: TotpDevice) -> dict[str, Any]:
    secret = mfa.secret_of(device) or ""
    return {
        "secret": mfa.grouped(secret),
        "qr": mfa.qr_data_uri(mfa.provisioning_uri(user, secret)),
        "issuer": settings.OPENIOP_MFA_ISSUER,
    }


# --- Two-factor sign-in: the signed-in user's own page -------------------------------------


@staff_view(None, audit_page="accounts.mfa")
def mfa_overview(request: StaffRequest) -> HttpResponse:
    user = request.user
    device = mfa.confirmed_device(user)
    return render(
        request,
        "accounts/mfa.html",
        {
            "device": device,
            "required": mfa.is_required_for(user),
            "codes_left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
        },
    )


@staff_view(None, audit_page="accounts.mfa_enrol")
def mfa_enrol(request: StaffRequest) -> HttpResponse:
    user = request.user
    try:
        device = services.start_enrolment(user)
    except services.MfaRefused as refusal:
        if request.method == "POST":
            return _mfa_refusal(request, str(refusal))
        messages.info(request, "Two-factor sign-in is already on.")
        return redirect("accounts:mfa")
    form = CodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_enrolment(device, form.cleaned_data["code"], actor=user)
        if codes is not None:
            signin.keep_codes_to_show(request, codes)
            return redirect("accounts:mfa_codes")
        form.add_error("code", _WRONG_ENROL_CODE)
    return render(
        request,
        "accounts/mfa_enrol.html",
        {"form": form, "forced": False, **_enrol_context(user, device)},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(None, audit_page="accounts.mfa_codes")
def mfa_codes(request: StaffRequest) -> HttpResponse:
    """New recovery codes, shown once (they are taken out of the session)."""
    codes, then = signin.take_codes_to_show(request)
    return render(request, "accounts/mfa_codes.html", {"codes": codes, "then": then})


def _check_current_code(request: StaffRequest, form: CodeForm, device: TotpDevice) -> bool:
    """A current code confirms a change; a wrong one counts as a failed second factor."""
    if not form.is_valid():
        return False
    if mfa.use_totp(device, form.cleaned_data["code"]):
        return True
    user = request.user
    audit.record(AuditAction.MFA_FAILED, actor=user, obj=user, object_repr=user.username)
    lockout.record_failure(user.username, client_ip(request), lockout.MFA)
    form.add_error("code", "That code did not work. Type the code your app shows now.")
    return False


def _mfa_refusal(request: StaffRequest, refusal: str, action: str = "") -> HttpResponse:
    return render(
        request,
        "accounts/mfa_confirm.html",
        {"refusal": refusal, "form": None, "action": action},
        status=409,
    )


@staff_view(None, audit_page="accounts.mfa_recovery")
def mfa_recovery(request: StaffRequest) -> HttpResponse:
    """Make ten new recovery codes (confirmed with a current code)."""
    device = mfa.confirmed_device(request.user)
    if device is None:
        return _mfa_refusal(request, "Set up two-factor sign-in first.", "recovery")
    form = CodeForm(posted(request))
    if request.method == "POST" and _check_current_code(request, form, device):
        codes = services.regenerate_recovery_codes(request.user, actor=request.user)
        signin.keep_codes_to_show(request, codes)
        return redirect("accounts:mfa_codes")
    return render(
        request,
        "accounts/mfa_confirm.html",
        {"form": form, "action": "recovery"},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(None, audit_page="accounts.mfa_disable")
def mfa_disable(request: StaffRequest) -> HttpResponse:
    """Turn two-factor sign-in off: only when no role of the user requires it."""
    user = request.user
    device = mfa.confirmed_device(user)
    if device is None:
        return _mfa_refusal(request, "Two-factor sign-in is off.", "disable")
    if mfa.is_required_for(user):
        return _mfa_refusal(
            request,
            "Your role must use two-factor sign-in (security policy), so it cannot be turned "
            "off. To move it to a new phone, ask an administrator to reset it.",
            "disable",
        )
    form = CodeForm(posted(request))
    if request.method == "POST" and _check_current_code(request, form, device):
        try:
            services.turn_off_mfa(user, actor=user, reason="turned off by the user")
        except services.MfaRefused as refusal:
            return _mfa_refusal(request, str(refusal), "disable")
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("accounts:mfa")
    return render(
        request,
        "accounts/mfa_confirm.html",
        {"form": form, "action": "disable"},
        status=400 if request.method == "POST" else 200,
    )


# --- Administrators: the security policy, resets and unlocks -------------------------------


@staff_view(Perm.SECURITY_CONFIGURE, audit_page="accounts.security_policy")
def security_policy(request: StaffRequest) -> HttpResponse:
    policy = services.security_policy()
    version = policy.updated_at.isoformat() if policy.pk else "default"
    form = SecurityPolicyForm(
        posted(request),
        initial={"mfa_required_roles": policy.mfa_required_roles, "version": version},
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["version"] != version:
            form.add_error(
                None,
                "Someone else changed the policy while you had it open. Check it and save "
                "again.",
            )
        else:
            services.save_security_policy(
                roles=form.cleaned_data["mfa_required_roles"], actor=request.user
            )
            messages.success(request, "The security policy was saved.")
            return redirect("accounts:security_policy")
    # Per role: members, and those still without an authenticator app.
    counts = {
        row["role"]: row
        for row in User.objects.filter(is_active=True, role_assignments__isnull=False)
        .order_by()
        .values(role=F("role_assignments__role"))
        .annotate(
            members=Count("pk", distinct=True),
            without=Count("pk", filter=Q(totp_device__confirmed_at__isnull=True), distinct=True),
        )
    }
    rows = [
        {
            "label": label,
            "members": counts.get(code, {}).get("members", 0),
            "without": counts.get(code, {}).get("without", 0),
        }
        for code, label in Role.choices
    ]
    return render(
        request,
        "accounts/security_policy.html",
        {
            "form": form,
            "rows": rows,
            "saved": policy.pk is not None,
            "lockout_failures": settings.OPENIOP_LOCKOUT_FAILURES,
            "lockout_window": settings.OPENIOP_LOCKOUT_WINDOW_MINUTES,
            "lockout_minutes": settings.OPENIOP_LOCKOUT_MINUTES,
            "lockout_ip": settings.OPENIOP_LOCKOUT_IP_FAILURES,
        },
        status=400 if request.method == "POST" else 200,
    )


def _target(pk: int) -> User:
    return get_object_or_404(User, pk=pk)


@staff_view(Perm.SECURITY_CONFIGURE, audit_page="accounts.staff_mfa_reset")
def staff_mfa_reset(request: StaffRequest, pk: int) -> HttpResponse:
    """Remove a staff member's authenticator (lost phone); they enrol again if required."""
    target = _target(pk)
    refusal = None
    if target == request.user:
        refusal = "Use Two-factor sign-in under your own name to change your own."
    elif not TotpDevice.objects.filter(user=target).exists():
        refusal = f"{target.username} has no two-factor sign-in to reset."
    if refusal:
        return render(
            request,
            "accounts/staff_security_action.html",
            {"target": target, "action": "reset", "refusal": refusal, "form": None},
            status=409,
        )
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        services.turn_off_mfa(target, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"Two-factor sign-in of {target.username} was reset.")
        return redirect("accounts:staff_list")
    return render(
        request,
        "accounts/staff_security_action.html",
        {
            "target": target,
            "action": "reset",
            "form": form,
            "required": mfa.is_required_for(target),
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.SECURITY_CONFIGURE, audit_page="accounts.staff_unlock")
def staff_unlock(request: StaffRequest, pk: int) -> HttpResponse:
    """End a lockout before it runs out (audited with the reason)."""
    target = _target(pk)
    lock = lockout.lock_for(target.username)
    if lock is None:
        return render(
            request,
            "accounts/staff_security_action.html",
            {
                "target": target,
                "action": "unlock",
                "refusal": f"{target.username} is not locked.",
                "form": None,
            },
            status=409,
        )
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        lockout.unlock(target, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{target.username} was unlocked.")
        return redirect("accounts:staff_list")
    return render(
        request,
        "accounts/staff_security_action.html",
        {
            "target": target,
            "action": "unlock",
            "form": form,
            "until": timezone.localtime(lock.until),
            "lock": AccountLock.objects.filter(user=target).first(),
        },
        status=400 if request.method == "POST" else 200,
    )
