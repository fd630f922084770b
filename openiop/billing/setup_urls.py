"""URL patterns (issue 11); included by urls.py / coverage_urls.py.

Billing set-up under /billing/: payers, the program's billing profile, the sliding fee."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import setup_views as views

patterns: list[Any] = [
    path("payers/", views.payers, name="payers"),
    path("payers/new/", views.payer_new, name="payer_new"),
    path("payers/<int:pk>/", views.payer_edit, name="payer_edit"),
    path("payers/<int:pk>/retire/", views.payer_retire, name="payer_retire"),
    path("profile/", views.profile, name="profile"),
    path("sliding-fee/", views.sliding_fee, name="sliding_fee"),
    path("sliding-fee/<int:pk>/retire/", views.tier_retire, name="tier_retire"),
]
