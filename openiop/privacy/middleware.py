"""Answers `EmergencyAccessRequired` (raised by `participants.access`) with the
break-the-glass form, for any participant page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from openiop.core.access import EmergencyAccessRequired


class EmergencyAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, EmergencyAccessRequired):
            return None
        from .emergency_views import break_glass_page

        return break_glass_page(request, exception.participant_pk)
