from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.accounts.models import User
from openiop.core.models import AuditEvent
from openiop.core.roles import ROLE_PERMISSIONS, Perm, Role, permissions_for
from openiop.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_role_has_permissions_and_every_permission_a_role():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    held = set().union(*ROLE_PERMISSIONS.values())
    assert held == set(Perm.values)


def test_what_each_role_sees():
    assert Perm.CLINICAL_VIEW not in permissions_for([Role.BILLING])
    assert Perm.BILLING_VIEW in permissions_for([Role.BILLING])
    # Lab staff see identity and screening, and today's random list; never clinical notes.
    lab = permissions_for([Role.LAB])
    assert lab == {
        Perm.PARTICIPANT_VIEW,
        Perm.SCREENING_VIEW,
        Perm.SCREENING_COLLECT,
        Perm.SCREENING_ORDER,
        Perm.SCREENING_VERIFY,
    }
    # Today's random list: lab and director only (issue 7, point 3).
    today_list = {r for r in Role.values if Perm.SCREENING_COLLECT in permissions_for([r])}
    assert today_list == {Role.LAB, Role.DIRECTOR}
    assert Perm.AUDIT_VIEW in permissions_for([Role.COMPLIANCE])
    assert Perm.CLINICAL_VIEW not in permissions_for([Role.COMPLIANCE])
    assert Perm.PARTICIPANT_VIEW not in permissions_for([Role.ADMIN])


def test_admin_creates_a_staff_member_with_roles_and_programs(world, login):
    client = login(world.admin)
    response = client.post(
        reverse("accounts:staff_new"),
        {
            "username": "newcounsellor",
            "first_name": "Nia",
            "last_name": "Cole",
            "email": "nia@example.org",
            "credentials": "LADC",
            "is_active": "on",
            "roles": ["counsellor", "supervisor"],
            "programs": [world.program.pk],
            "password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302, response.content[:800]
    user = User.objects.get(username="newcounsellor")
    assert user.role_codes == {"counsellor", "supervisor"}
    assert user.program_ids == {world.program.pk}
    event = AuditEvent.objects.filter(object_type="accounts.user", action="create").latest("id")
    assert event.changes["roles"] == [None, ["counsellor", "supervisor"]]
    # The new account works and sees the program's participants.
    client.logout()
    assert client.login(username="newcounsellor", password="a-long-enough-passphrase")
    assert client.get(reverse("participants:list")).status_code == 200


def test_removing_a_role_takes_effect(world, login):
    client = login(world.admin)
    target = world.billing
    response = client.post(
        reverse("accounts:staff_edit", args=[target.pk]),
        {
            "username": "billing",
            "first_name": "B",
            "last_name": "T",
            "is_active": "on",
            "roles": [],
            "programs": [world.program.pk],
        },
    )
    assert response.status_code == 302
    client.force_login(User.objects.get(pk=target.pk))
    assert client.get(reverse("participants:list")).status_code == 403


def test_short_password_is_a_form_error(world, login):
    response = login(world.admin).post(
        reverse("accounts:staff_new"),
        {
            "username": "x1",
            "first_name": "X",
            "last_name": "Y",
            "roles": ["lab"],
            "password": "short",
        },
    )
    assert response.status_code == 400
    assert b"too short" in response.content
    assert not User.objects.filter(username="x1").exists()


def test_admin_cannot_lock_themselves_out(world, login):
    response = login(world.admin).post(
        reverse("accounts:staff_edit", args=[world.admin.pk]),
        {
            "username": "admin",
            "first_name": "A",
            "last_name": "T",
            "roles": ["admin"],
        },
    )
    assert response.status_code == 400
    assert b"cannot deactivate your own account" in response.content


def test_sign_in_out_and_failures_are_audited(client, world):
    assert (
        client.post(
            reverse("accounts:login"), {"username": "counsellor", "password": "wrong"}
        ).status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="login_failed", object_repr="counsellor").exists()
    response = client.post(
        reverse("accounts:login"), {"username": "counsellor", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEvent.objects.filter(action="login", actor=world.counsellor).exists()
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(action="logout", actor=world.counsellor).exists()
    assert client.get("/").status_code == 302


def test_deactivated_staff_cannot_sign_in(client, world):
    User.objects.filter(pk=world.counsellor.pk).update(is_active=False)
    response = client.post(
        reverse("accounts:login"), {"username": "counsellor", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_password_change(world, login):
    client = login(world.counsellor)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-good-passphrase",
            "new_password2": "another-good-passphrase",
        },
    )
    assert response.status_code == 302
    world.counsellor.refresh_from_db()
    assert world.counsellor.check_password("another-good-passphrase")


def test_production_hasher_is_argon2():
    import openiop.settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_addstaff_command_creates_the_first_admin(monkeypatch):
    from django.core.management import CommandError, call_command

    answers = iter(["a-long-enough-passphrase", "a-long-enough-passphrase", "x", "y"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("addstaff", "firstadmin", "--role", "admin")
    user = User.objects.get(username="firstadmin")
    assert user.role_codes == {"admin"} and user.check_password("a-long-enough-passphrase")
    with pytest.raises(CommandError, match="do not match"):
        call_command("addstaff", "second", "--role", "admin")
