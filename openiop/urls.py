from django.urls import include, path

from openiop.core import views as core_views

urlpatterns = [
    path("", include("openiop.core.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("setup/", include("openiop.programs.urls")),
    path("participants/", include("openiop.participants.urls")),
    path("healthz", core_views.healthz, name="healthz"),
]

handler400 = "openiop.core.views.bad_request"
handler403 = "openiop.core.views.permission_denied"
handler404 = "openiop.core.views.page_not_found"
handler500 = "openiop.core.views.server_error"
