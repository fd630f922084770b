from django.urls import include, path

from openiop.core import views as core_views
from openiop.instruments import urls as instrument_urls

urlpatterns = [
    path("", include("openiop.core.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("setup/", include("openiop.programs.urls")),
    path("participants/", include("openiop.participants.urls")),
    path("participants/<int:pk>/measures/", include(instrument_urls.participant_patterns)),
    path("measures/", include("openiop.instruments.urls")),
    path("intake/", include("openiop.intake.urls")),
    path("healthz", core_views.healthz, name="healthz"),
]

handler400 = "openiop.core.views.bad_request"
handler403 = "openiop.core.views.permission_denied"
handler404 = "openiop.core.views.page_not_found"
handler500 = "openiop.core.views.server_error"
