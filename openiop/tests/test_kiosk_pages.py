"""Pages handed to a participant on a tablet show the document and its signature only:
no staff navigation, no banners about other people's safety alerts, no other names."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.instruments.models import SafetyAlert


@pytest.mark.parametrize(
    ("name", "record"),
    [("plans:participant_sign", "plan"), ("relapse:participant_sign", "relapse_plan")],
)
def test_the_tablet_signing_page_shows_nothing_of_the_staff_screens(world, login, name, record):
    # The counsellor has an open safety alert about someone: staff pages show a banner.
    assert SafetyAlert.objects.filter(resolved_at__isnull=True).exists()
    client = login(world.counsellor)
    staff_page = client.get(reverse("participants:chart", kwargs={"pk": world.active.pk}))
    assert b"safety alert" in staff_page.content
    url = reverse(name, kwargs={"pk": world.active.pk, "plan_pk": world.records[record].pk})
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "safety alert" not in page.lower()
    assert 'class="topbar"' not in page and "Sign out" not in page
    assert 'aria-label="Main"' not in page
    # Nobody else's name is on it.
    for other in ("screening", "assessed", "referred"):
        if other in world.participants:
            assert world.participants[other].legal_last_name not in page or (
                world.participants[other].legal_last_name == world.active.legal_last_name
            )
    assert world.active.display_name in page
