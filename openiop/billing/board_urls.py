"""URL patterns (issue 11); included by urls.py / coverage_urls.py."""

from __future__ import annotations

from typing import Any

from django.urls import path

from . import board_views

patterns: list[Any] = [
    path("", board_views.board, name="board"),
    path("days/", board_views.days, name="days"),
    path("risks/", board_views.risk_report, name="risks"),
    path("risks/csv/", board_views.risks_csv, name="risks_csv"),
]
