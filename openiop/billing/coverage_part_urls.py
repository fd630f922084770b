"""URL patterns (issue 11); included by urls.py / coverage_urls.py.

A participant's coverage and authorisations, under /participants/<pk>/billing/."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import coverage_views as views

patterns: list[Any] = [
    path("", views.overview, name="overview"),
    path("coverage/new/", views.coverage_new, name="coverage_new"),
    path("coverage/<int:coverage_pk>/", views.coverage_edit, name="coverage_edit"),
    path("coverage/<int:coverage_pk>/void/", views.coverage_void, name="coverage_void"),
    path("authorisations/new/", views.authorisation_new, name="authorisation_new"),
    path("authorisations/<int:auth_pk>/", views.authorisation_edit, name="authorisation_edit"),
    path(
        "authorisations/<int:auth_pk>/void/",
        views.authorisation_void,
        name="authorisation_void",
    ),
    path(
        "authorisations/<int:auth_pk>/renew/",
        views.authorisation_renew,
        name="authorisation_renew",
    ),
]
