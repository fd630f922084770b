"""URL patterns (issue 11); included by urls.py / coverage_urls.py."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import packet_views

patterns: list[Any] = [
    path(
        "authorisations/<int:auth_pk>/packet/",
        packet_views.packet,
        name="packet",
    ),
    path("packets/<int:packet_pk>/pdf/", packet_views.packet_pdf, name="packet_pdf"),
]
