"""A participant's billing pages under /participants/<pk>/billing/: coverage and
authorisations (coverage_part_urls) and concurrent-review packets (packet_urls)."""

from __future__ import annotations

from . import coverage_part_urls, packet_urls

app_name = "coverage"

urlpatterns = [*coverage_part_urls.patterns, *packet_urls.patterns]
