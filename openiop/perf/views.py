"""The bare view: Django and our middleware with no page behind them.

`make bench` and `make load` measure it in the same run as the real pages, as the
baseline a page's time is compared with (issue 13, points 2 and 4). Routed only when
OPENIOP_PERF=1 (settings.OPENIOP_PERF).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from openiop.core.access import public_view


@public_view
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
