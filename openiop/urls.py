from django.conf import settings
from django.urls import include, path

from openiop.attendance import urls as attendance_urls
from openiop.core import views as core_views
from openiop.family import urls as family_urls
from openiop.instruments import urls as instrument_urls
from openiop.letters import urls as letters_urls
from openiop.letters import verify_views as letters_verify
from openiop.notes import urls as notes_urls
from openiop.notify import urls as notify_urls
from openiop.participants.contact_views import contact_patterns
from openiop.plans import urls as plans_urls
from openiop.portal import onetap_views as portal_onetap
from openiop.privacy import urls as privacy_urls
from openiop.privacy.amendment_urls import participant_patterns as amendment_patterns
from openiop.privacy.consent_urls import participant_patterns as consent_patterns
from openiop.relapse import urls as relapse_urls
from openiop.scheduling import urls as scheduling_urls
from openiop.scheduling import views as scheduling_views
from openiop.screening import urls as screening_urls

urlpatterns = [
    path("", include("openiop.core.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    # Issue 12: the API clients' pages, before program set-up, whose "<kind>/new/" would
    # take "api-clients/new/".
    path("setup/api-clients/", include("openiop.fhir.admin_urls")),
    path("setup/", include("openiop.programs.urls")),
    path("participants/", include("openiop.participants.urls")),
    path("participants/<int:pk>/measures/", include(instrument_urls.participant_patterns)),
    path("measures/", include("openiop.instruments.urls")),
    path("intake/", include("openiop.intake.urls")),
    path("schedule/", include("openiop.scheduling.urls")),
    path("participants/<int:pk>/schedule/", include(scheduling_urls.participant_patterns)),
    path("attendance/", include("openiop.attendance.urls")),
    path("participants/<int:pk>/check-ins/", include(attendance_urls.participant_patterns)),
    path("notes/", include("openiop.notes.urls")),
    path("participants/<int:pk>/notes/", include(notes_urls.participant_patterns)),
    path("plans/", include("openiop.plans.urls")),
    path("participants/<int:pk>/plan/", include(plans_urls.participant_patterns)),
    path("participants/<int:pk>/contacts/", include(contact_patterns)),
    path("participants/<int:pk>/relapse-plan/", include(relapse_urls.participant_patterns)),
    path("screening/", include("openiop.screening.urls")),
    path("participants/<int:pk>/screening/", include(screening_urls.participant_patterns)),
    path("privacy/", include("openiop.privacy.urls")),
    path("participants/<int:pk>/privacy/", include(privacy_urls.participant_patterns)),
    path("participants/<int:pk>/amendments/", include(amendment_patterns)),
    path("participants/<int:pk>/consents/", include(consent_patterns)),
    path("ical/<str:token>.ics", scheduling_views.ical_feed, name="ical_feed"),
    path("my/", include("openiop.portal.urls")),
    # Issue 9: the portal's staff pages, and one-tap links from a text or email (public).
    path("participants/<int:pk>/portal/", include("openiop.portal.staff_urls")),
    path("t/<str:token>", portal_onetap.onetap_page, name="onetap"),
    path("t/<str:token>/thanks/", portal_onetap.onetap_thanks, name="onetap_thanks"),
    # Issue 9: family involvement (staff pages) and the family portal.
    path("schedule/sessions/<int:pk>/family/", include(family_urls.session_patterns)),
    path("participants/<int:pk>/family/", include(family_urls.participant_patterns)),
    path("education/", include(family_urls.education_patterns)),
    path("family/", include(family_urls.portal_patterns)),
    # Issue 9: attendance letters (staff worklist, per participant, in the portal) and
    # their public verification page.
    path("letters/", include("openiop.letters.urls")),
    path("participants/<int:pk>/letters/", include(letters_urls.participant_patterns)),
    path("my/letters/", include(letters_urls.portal_patterns)),
    path("verify/", letters_verify.verify, name="verify_letter"),
    # Issue 9: notifications (the staff outbox; the participant's message preferences).
    path("messages/", include("openiop.notify.urls")),
    path("my/notifications/", include(notify_urls.portal_patterns)),
    path("participants/<int:pk>/discharge/", include("openiop.discharge.urls")),
    path("alumni/", include("openiop.alumni.urls")),
    path("participants/<int:pk>/aftercare/", include("openiop.discharge.aftercare_urls")),
    path("my/aftercare/", include("openiop.discharge.aftercare_portal_urls")),
    # Issue 10: TEDS state reporting (the export before the outcomes pages; the items).
    path("outcomes/teds/", include("openiop.outcomes.teds_urls")),
    path("participants/<int:pk>/teds/", include("openiop.intake.teds_urls")),
    path("outcomes/", include("openiop.outcomes.urls")),
    path("billing/", include("openiop.billing.urls")),
    path("participants/<int:pk>/billing/", include("openiop.billing.coverage_urls")),
    # Issue 12: the FHIR R4 API (bearer tokens, not sessions).
    path("fhir/R4/", include("openiop.fhir.urls")),
    path("healthz", core_views.healthz, name="healthz"),
]

if settings.OPENIOP_PERF:
    from openiop.perf.views import bare

    urlpatterns.append(path("perf/bare", bare, name="perf_bare"))

handler400 = "openiop.core.views.bad_request"
handler403 = "openiop.core.views.permission_denied"
handler404 = "openiop.core.views.page_not_found"
handler500 = "openiop.core.views.server_error"
