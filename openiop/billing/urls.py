"""Billing pages under /billing/: the board, days and risks (board_urls), claims and
claim files (claims_urls), payers, the billing profile and the sliding fee (setup_urls)."""

from __future__ import annotations

from . import board_urls, claims_urls, setup_urls

app_name = "billing"

urlpatterns = [*board_urls.patterns, *claims_urls.patterns, *setup_urls.patterns]
