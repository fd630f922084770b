"""The portal's sign-in and sign-out (issue 9). Pages of the participant portal live in
`participant_views`, the family portal in `openiop.family`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from openiop.accounts import lockout
from openiop.accounts.views import _refused_address
from openiop.core.middleware import client_ip

from .access import portal_public
from .forms import PortalSignInForm


class PortalSignInView(auth_views.LoginView):
    template_name = "portal/login.html"
    form_class = PortalSignInForm
    redirect_authenticated_user = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and request.user.portal_kind:
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        until = lockout.address_refused_until(client_ip(request))
        if until is not None:
            return _refused_address(request, until)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        lockout.record_success(user.username, client_ip(self.request), lockout.PASSWORD)
        return super().form_valid(form)

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)


def home_url(user: Any) -> str:
    if getattr(user, "portal_kind", "") == "family":
        return reverse("family_portal:home")
    return reverse("portal:home")


login = portal_public(PortalSignInView.as_view())


@portal_public
def logout(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    auth_logout(request)
    return redirect("portal:login")
