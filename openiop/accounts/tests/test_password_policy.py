"""Password policy (issue 8, point 5; NIST SP 800-63B §5.1.1.2): 12 to 128 characters,
not common, not all digits, not like the username, not one of the last 5; no
composition rules and no expiry."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from openiop.accounts import services
from openiop.accounts.models import PasswordHistory, User
from openiop.testing import PASSWORD

pytestmark = pytest.mark.django_db

PHRASES = [f"harbor-lantern-number-{word}" for word in ("one", "two", "three", "four", "five")]


def change(client, old: str, new: str):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_length_limits_and_no_composition_rules(world):
    user = world.counsellor
    validate_password("x" * 5 + "q" * 123, user)  # 128 characters: fine
    with pytest.raises(ValidationError, match="too long"):
        validate_password("harbor" + "q" * 123, user)  # 129
    with pytest.raises(ValidationError, match="too short"):
        validate_password("short-pass", user)
    # Only lower-case letters and spaces: no rule asks for digits or symbols.
    validate_password("maple syrup on tuesday mornings", user)
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234", user)
    with pytest.raises(ValidationError, match="entirely numeric"):
        validate_password("271828182845904", user)


def test_no_periodic_expiry_or_composition_validator_is_configured():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "MaximumLengthValidator",
        "PasswordHistoryValidator",
    ]


def test_the_change_page_refuses_the_last_five_passwords(world, login):
    client = login(world.counsellor)
    # The current password (set before any history existed) is refused.
    response = change(client, PASSWORD, PASSWORD)
    assert response.status_code == 200 and b"used recently" in response.content
    current = PASSWORD
    for phrase in PHRASES:
        assert change(client, current, phrase).status_code == 302
        current = phrase
    # History holds the last five hashes, never a clear password.
    rows = list(PasswordHistory.objects.filter(user=world.counsellor))
    assert len(rows) == 5
    assert not any(p in r.password_hash for p in PHRASES for r in rows)
    for old in PHRASES:
        response = change(client, current, old)
        assert b"used recently" in response.content, old
    # The first password is six changes back: allowed again.
    assert change(client, current, PASSWORD).status_code == 302


def test_the_staff_form_refuses_a_recent_password_and_writes_history(world, login):
    client = login(world.admin)
    url = reverse("accounts:staff_edit", args=[world.lab.pk])
    data = {
        "username": "lab",
        "first_name": "Lab",
        "last_name": "Tester",
        "is_active": "on",
        "roles": ["lab"],
        "programs": [world.program.pk],
    }
    assert client.post(url, {**data, "password": "reset-by-admin-2026"}).status_code == 302
    # (The world's users were made by create_user, which writes the hash directly.)
    assert PasswordHistory.objects.filter(user=world.lab).count() == 1
    response = client.post(url, {**data, "password": "reset-by-admin-2026"})
    assert response.status_code == 400 and b"used recently" in response.content
    response = client.post(url, {**data, "password": "x" * 129})
    assert response.status_code == 400 and b"too long" in response.content


def test_every_way_of_setting_a_password_writes_history(world):
    user = User(username="newstaff", first_name="New", last_name="Staff")
    services.save_staff_user(
        user, actor=world.admin, roles=["lab"], programs=[], password=PHRASES[0]
    )
    assert PasswordHistory.objects.filter(user=user).count() == 1
    user.set_password(PHRASES[1])
    user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 2
    # An unusable password (an account without a first password) is not history.
    nopass = User(username="nopass", first_name="No", last_name="Pass")
    services.save_staff_user(nopass, actor=world.admin, roles=["lab"], programs=[])
    assert not PasswordHistory.objects.filter(user=nopass).exists()
    # Saving the account for other reasons adds nothing.
    user.first_name = "Renamed"
    user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 2


def test_checking_the_history_does_not_rewrite_the_current_hash(world, settings):
    # hashers.check_password, not User.check_password (which may upgrade and save).
    before = User.objects.get(pk=world.counsellor.pk).password
    with pytest.raises(ValidationError):
        validate_password(PASSWORD, world.counsellor)
    assert User.objects.get(pk=world.counsellor.pk).password == before
