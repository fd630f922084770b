"""Claim pages under /billing/claims/ (helper A, issue 11 point 4); included by urls.py."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import claims_views as views

patterns: list[Any] = [
    path("claims/", views.claim_list, name="claims"),
    path("claims/csv/", views.claims_csv, name="claims_csv"),
    path("claims/build/", views.build, name="build"),
    path("claims/submit/", views.submit, name="submit"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("claims/<int:pk>/submit/", views.claim_submit, name="claim_submit"),
    path("claims/<int:pk>/paid/", views.claim_paid, name="claim_paid"),
    path("claims/<int:pk>/denied/", views.claim_denied, name="claim_denied"),
    path("claims/<int:pk>/void/", views.claim_void, name="claim_void"),
    path("claims/files/<int:pk>/", views.batch_detail, name="batch"),
    path("claims/files/<int:pk>/837p/", views.batch_download, name="batch_download"),
]
