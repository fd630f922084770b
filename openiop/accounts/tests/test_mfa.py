"""Two-factor sign-in (TOTP, RFC 6238): enrolment, the code step, replay, drift, recovery
codes, the security policy and what administrators do (issue 8, point 5)."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from openiop.accounts import mfa, services
from openiop.accounts.models import RecoveryCode, SecurityPolicy, TotpDevice
from openiop.core.models import AuditEvent
from openiop.testing import PASSWORD, TOTP_SECRET, give_totp_device

pytestmark = pytest.mark.django_db

# 10 s into a 30-second step, near now (sessions made while time is frozen must still be
# valid when it runs again). Taken afresh before each test: a value taken at import was
# past the idle sign-out (15 min) for tests that ran late in a long run.
_NOW = int(time.time())
T0 = dt.datetime.fromtimestamp(_NOW - _NOW % 30 + 10, tz=dt.UTC)
TOTP = pyotp.TOTP(TOTP_SECRET)


@pytest.fixture(autouse=True)
def _fresh_t0() -> None:
    global T0
    now = int(time.time())
    T0 = dt.datetime.fromtimestamp(now - now % 30 + 10, tz=dt.UTC)


def code_at(when: dt.datetime, steps: int = 0) -> str:
    return TOTP.generate_otp(int(when.timestamp()) // 30 + steps)


def password_step(client, username: str, next_url: str | None = None, **extra):
    data = {"username": username, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- the secret at rest --------------------------------------------------------------------


def test_the_secret_is_encrypted_at_rest_and_survives_a_key_rotation(world, settings):
    give_totp_device(world.counsellor)
    stored = TotpDevice.objects.get(user=world.counsellor).secret_encrypted
    assert TOTP_SECRET not in stored
    assert mfa.decrypt(stored) == TOTP_SECRET
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 40
    assert mfa.decrypt(stored) is None  # another key cannot open it
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert mfa.decrypt(stored) == TOTP_SECRET  # the old key, kept as a fallback, still can


# --- enrolment -------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_then_recovery_codes_once(world, login):
    client = login(world.counsellor)
    page = client.get(reverse("accounts:mfa_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, allowed by the CSP (img-src data:)
    assert "<script" not in html.split("</header>")[1]
    secret = re.search(r'data-secret="([A-Z2-7 ]+)"', html).group(1).replace(" ", "")
    assert len(secret) == 32
    device = TotpDevice.objects.get(user=world.counsellor)
    assert device.confirmed_at is None and secret not in device.secret_encrypted
    # The page again: the same secret (the app may already hold it).
    assert secret in client.get(reverse("accounts:mfa_enrol")).content.decode().replace(" ", "")

    wrong = client.post(reverse("accounts:mfa_enrol"), {"code": "000000"})
    assert wrong.status_code == 400 and b"did not match" in wrong.content
    response = client.post(reverse("accounts:mfa_enrol"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:mfa_codes")
    device.refresh_from_db()
    assert device.confirmed_at is not None and device.last_step > 0
    event = AuditEvent.objects.filter(action="mfa", object_id=str(world.counsellor.pk)).latest("id")
    assert event.changes == {"two_factor": ["off", "on"]}

    shown = client.get(reverse("accounts:mfa_codes")).content.decode()
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=world.counsellor))
    assert len(stored) == 10
    assert not any(c.replace("-", "") in r.code_hash for c in codes for r in stored)
    # Shown once: the page does not show them again.
    again = client.get(reverse("accounts:mfa_codes")).content.decode()
    assert not any(c in again for c in codes) and "shown only once" in again
    # With a device on, the set-up page sends back to the overview.
    assert client.get(reverse("accounts:mfa_enrol"))["Location"] == reverse("accounts:mfa")


# --- the code step ---------------------------------------------------------------------------


def test_a_user_with_a_device_is_not_signed_in_by_the_password_alone(client, world):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        response = password_step(client, "counsellor")
        assert response["Location"] == reverse("accounts:login_verify")
        assert not signed_in(client)
        assert client.get("/")["Location"].startswith(reverse("accounts:login"))
        assert client.get(reverse("accounts:login_verify")).status_code == 200
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(T0)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)
    assert AuditEvent.objects.filter(action="login", actor=world.counsellor).exists()
    assert client.get("/").status_code == 200


def test_a_wrong_code_fails_and_is_audited(client, world):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        password_step(client, "counsellor")
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(T0, 5)})
    assert response.status_code == 400 and b"did not work" in response.content
    assert not signed_in(client)
    assert AuditEvent.objects.filter(action="mfa_failed", object_repr="counsellor").exists()
    assert not AuditEvent.objects.filter(action="login", actor=world.counsellor).exists()


def test_a_replayed_code_fails(client, world):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        password_step(client, "counsellor")
        ok = client.post(reverse("accounts:login_verify"), {"code": code_at(T0)})
        assert ok.status_code == 302 and signed_in(client)
        client.post(reverse("accounts:logout"))
        # Same code, same 30 seconds: someone who saw it over a shoulder cannot reuse it.
        password_step(client, "counsellor")
        replay = client.post(reverse("accounts:login_verify"), {"code": code_at(T0)})
        assert replay.status_code == 400 and not signed_in(client)
        # Nor an earlier step's code (it is not later than the one used).
        earlier = client.post(reverse("accounts:login_verify"), {"code": code_at(T0, -1)})
        assert earlier.status_code == 400 and not signed_in(client)


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_one_step_of_clock_drift_either_way(client, world, steps, accepted):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        password_step(client, "counsellor")
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(T0, steps)})
    assert signed_in(client) is accepted
    assert response.status_code == (302 if accepted else 400)


def test_use_totp_accepts_a_step_once_even_when_raced(world):
    give_totp_device(world.counsellor)
    first = TotpDevice.objects.get(user=world.counsellor)
    second = TotpDevice.objects.get(user=world.counsellor)  # a second request, same moment
    now = T0.timestamp()
    assert mfa.use_totp(first, code_at(T0), now=now)
    assert not mfa.use_totp(second, code_at(T0), now=now)  # its last_step was stale
    assert not mfa.use_totp(first, "12345x", now=now)
    assert not mfa.use_totp(first, "", now=now)


def test_a_recovery_code_works_once(client, world):
    give_totp_device(world.counsellor)
    codes = services.regenerate_recovery_codes(world.counsellor, actor=world.counsellor)
    password_step(client, "counsellor")
    response = client.post(reverse("accounts:login_verify"), {"code": codes[3].upper()})
    assert response.status_code == 302 and signed_in(client)
    assert AuditEvent.objects.filter(
        action="mfa", reason__startswith="signed in with a recovery code (9 left)"
    ).exists()
    client.post(reverse("accounts:logout"))
    password_step(client, "counsellor")
    again = client.post(reverse("accounts:login_verify"), {"code": codes[3]})
    assert again.status_code == 400 and not signed_in(client)
    assert RecoveryCode.objects.filter(user=world.counsellor, used_at__isnull=False).count() == 1


def test_new_recovery_codes_need_a_current_code_and_cancel_the_old_ones(world, login):
    give_totp_device(world.counsellor)
    old = services.regenerate_recovery_codes(world.counsellor, actor=world.counsellor)
    client = login(world.counsellor)
    with time_machine.travel(T0, tick=False):
        wrong = client.post(reverse("accounts:mfa_recovery"), {"code": code_at(T0, 4)})
        assert wrong.status_code == 400
        response = client.post(reverse("accounts:mfa_recovery"), {"code": code_at(T0)})
    assert response["Location"] == reverse("accounts:mfa_codes")
    new = re.findall(r"<li>([a-z2-9-]{11})</li>", client.get(response["Location"]).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert mfa.use_recovery_code(world.counsellor, old[0]) is None
    assert mfa.use_recovery_code(world.counsellor, new[0]) is not None
    assert AuditEvent.objects.filter(action="mfa", reason="recovery codes regenerated").count() == 2


def test_next_is_kept_through_the_code_step_and_validated(client, world):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        password_step(client, "counsellor", "/participants/")
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(T0)})
    assert response["Location"] == "/participants/"
    client.post(reverse("accounts:logout"))
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        password_step(client, "counsellor", "https://evil.example/steal")
        later = T0 + dt.timedelta(minutes=1)
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(later)})
    assert response["Location"] == "/"


def test_the_code_page_needs_a_fresh_password_step(client, world):
    give_totp_device(world.counsellor)
    response = client.get(reverse("accounts:login_verify"))
    assert response["Location"] == reverse("accounts:login")
    with time_machine.travel(T0, tick=False):
        password_step(client, "counsellor")
    late = T0 + dt.timedelta(minutes=11)  # OPENIOP_MFA_PENDING_SECONDS is 10 minutes
    with time_machine.travel(late, tick=False):
        response = client.post(reverse("accounts:login_verify"), {"code": code_at(late)})
    assert response["Location"] == reverse("accounts:login") and not signed_in(client)


def test_a_password_change_ends_the_pending_state(client, world):
    give_totp_device(world.counsellor)
    password_step(client, "counsellor")
    world.counsellor.set_password("an-entirely-new-passphrase")
    world.counsellor.save()
    response = client.get(reverse("accounts:login_verify"))
    assert response["Location"] == reverse("accounts:login")


def test_the_session_key_changes_at_the_password_step(client, world):
    give_totp_device(world.counsellor)
    client.get(reverse("accounts:login"))
    before = client.session.session_key
    password_step(client, "counsellor")
    assert client.session.session_key != before


# --- the policy ----------------------------------------------------------------------------


def test_by_default_admin_and_compliance_must_use_mfa(world):
    assert not SecurityPolicy.objects.exists()
    assert mfa.required_roles() == ["admin", "compliance"]
    assert mfa.is_required_for(world.admin) and mfa.is_required_for(world.compliance)
    assert not mfa.is_required_for(world.counsellor)


def test_a_required_role_enrols_before_it_is_signed_in(client, world):
    response = password_step(client, "compliance", "/accounts/two-factor/")
    assert response["Location"] == reverse("accounts:login_enrol") and not signed_in(client)
    page = client.get(reverse("accounts:login_enrol"))
    assert page.status_code == 200 and b"Your role must sign in with a second factor" in (
        page.content
    )
    secret = mfa.secret_of(TotpDevice.objects.get(user=world.compliance))
    wrong = client.post(reverse("accounts:login_enrol"), {"code": "123456"})
    assert wrong.status_code == 400 and not signed_in(client)
    response = client.post(reverse("accounts:login_enrol"), {"code": pyotp.TOTP(secret).now()})
    assert response["Location"] == reverse("accounts:mfa_codes") and signed_in(client)
    shown = client.get(reverse("accounts:mfa_codes")).content.decode()
    assert len(re.findall(r"<li>[a-z2-9-]{11}</li>", shown)) == 10
    assert 'href="/accounts/two-factor/"' in shown  # the continue link goes to ?next=
    assert TotpDevice.objects.get(user=world.compliance).confirmed_at is not None
    assert AuditEvent.objects.filter(action="login", actor=world.compliance).exists()


def test_a_role_not_required_signs_in_with_the_password(client, world):
    response = password_step(client, "counsellor")
    assert response["Location"] == "/" and signed_in(client)


def test_the_policy_page_changes_who_must_enrol(client, world, login):
    login(world.admin)
    page = client.get(reverse("accounts:security_policy"))
    assert page.status_code == 200 and b"administrators and compliance officers" in page.content
    empty = client.post(reverse("accounts:security_policy"), {})
    assert empty.status_code == 400 and not SecurityPolicy.objects.exists()
    response = client.post(
        reverse("accounts:security_policy"),
        {"mfa_required_roles": ["counsellor", "admin"], "version": "default"},
    )
    assert response.status_code == 302
    assert SecurityPolicy.objects.get().mfa_required_roles == ["counsellor", "admin"]
    event = AuditEvent.objects.filter(object_type="accounts.securitypolicy").latest("id")
    assert event.action == "change" and event.actor == world.admin
    assert event.changes == {
        "mfa_required_roles": [["admin", "compliance"], ["admin", "counsellor"]]
    }
    client.post(reverse("accounts:logout"))
    assert password_step(client, "counsellor")["Location"] == reverse("accounts:login_enrol")
    client.get(reverse("accounts:login"))
    assert password_step(client, "compliance")["Location"] == "/"
    bad = login(world.admin).post(
        reverse("accounts:security_policy"), {"mfa_required_roles": ["root"], "version": "default"}
    )
    assert bad.status_code == 400
    # Saved meanwhile by someone else: the stale page's save is refused, nothing changes.
    stale = client.post(
        reverse("accounts:security_policy"), {"mfa_required_roles": [], "version": "default"}
    )
    assert stale.status_code == 400 and b"Someone else changed" in stale.content
    assert SecurityPolicy.objects.get().mfa_required_roles == ["counsellor", "admin"]


def test_turning_off_is_refused_to_a_required_role_and_allowed_otherwise(world, login):
    give_totp_device(world.compliance)
    client = login(world.compliance)
    response = client.get(reverse("accounts:mfa_disable"))
    assert response.status_code == 409 and b"cannot be turned off" in response.content
    with time_machine.travel(T0, tick=False):
        assert client.post(reverse("accounts:mfa_disable"), {"code": code_at(T0)}).status_code == (
            409
        )
    assert TotpDevice.objects.filter(user=world.compliance).exists()

    give_totp_device(world.counsellor)
    client = login(world.counsellor)
    with time_machine.travel(T0, tick=False):
        wrong = client.post(reverse("accounts:mfa_disable"), {"code": code_at(T0, 3)})
        assert wrong.status_code == 400
        response = client.post(reverse("accounts:mfa_disable"), {"code": code_at(T0)})
    assert response["Location"] == reverse("accounts:mfa")
    assert not TotpDevice.objects.filter(user=world.counsellor).exists()
    event = AuditEvent.objects.filter(action="mfa", actor=world.counsellor).latest("id")
    assert event.changes == {"two_factor": ["on", "off"]}


def test_the_overview_page(world, login):
    client = login(world.counsellor)
    assert b"Set up two-factor sign-in" in client.get(reverse("accounts:mfa")).content
    give_totp_device(world.counsellor)
    services.regenerate_recovery_codes(world.counsellor, actor=world.counsellor)
    page = client.get(reverse("accounts:mfa")).content
    assert b"On</span>" in page and b"<strong>10</strong> of 10" in page
    # Linked from the user menu and the password page.
    assert (
        b'href="/accounts/two-factor/"' in client.get(reverse("accounts:password_change")).content
    )


# --- administrators ----------------------------------------------------------------------------


def test_an_administrator_resets_a_lost_device_with_a_reason(world, login):
    give_totp_device(world.counsellor)
    services.regenerate_recovery_codes(world.counsellor, actor=world.counsellor)
    client = login(world.admin)
    url = reverse("accounts:staff_mfa_reset", args=[world.counsellor.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "  "}).status_code == 400
    response = client.post(url, {"reason": "Lost phone; identity checked in person"})
    assert response["Location"] == reverse("accounts:staff_list")
    assert not TotpDevice.objects.filter(user=world.counsellor).exists()
    assert not RecoveryCode.objects.filter(user=world.counsellor).exists()
    event = AuditEvent.objects.filter(action="mfa", actor=world.admin).latest("id")
    assert event.reason == "Lost phone; identity checked in person"
    assert event.object_id == str(world.counsellor.pk)
    # Nothing left to reset; and never one's own.
    assert client.get(url).status_code == 409
    give_totp_device(world.admin)
    own = reverse("accounts:staff_mfa_reset", args=[world.admin.pk])
    assert client.post(own, {"reason": "x"}).status_code == 409
    assert TotpDevice.objects.filter(user=world.admin).exists()


def test_the_staff_list_shows_two_factor_and_locks(world, login, django_assert_num_queries):
    give_totp_device(world.counsellor)
    from openiop.accounts import lockout

    for _ in range(5):
        lockout.record_failure("lab", "10.0.0.9", lockout.PASSWORD)
    client = login(world.admin)
    # 1 session, 2 user, 3 roles (access), 4 security policy, 5 users with device and
    # lock, 6 their roles, 7 their programs, 8-10 the audit event of the view (chain head,
    # event, new head): the same for any number of staff.
    with django_assert_num_queries(10):
        page = client.get(reverse("accounts:staff_list")).content.decode()
    assert "Required, not set up" in page  # compliance, admin
    assert f'href="/accounts/staff/{world.counsellor.pk}/two-factor/reset/"' in page
    assert "Locked until" in page
    assert f'href="/accounts/staff/{world.lab.pk}/unlock/"' in page


@override_settings(OPENIOP_MFA_ISSUER="Harbor IOP")
def test_the_provisioning_uri_names_the_issuer_and_account(world):
    uri = mfa.provisioning_uri(world.counsellor, TOTP_SECRET)
    assert uri.startswith("otpauth://totp/Harbor%20IOP:counsellor?secret=" + TOTP_SECRET)
    assert "issuer=Harbor%20IOP" in uri
