from django.urls import path

from . import audit_views, idle_views, views

app_name = "core"

urlpatterns = [
    path("", views.today, name="today"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("audit/verify/", audit_views.audit_verify, name="audit_verify"),
    path("admin/jobs/", views.jobs, name="jobs"),
    # Automatic log-off (H2, issue 8 point 5): the idle script's endpoints, POST only.
    path("session/keepalive/", idle_views.keepalive, name="keepalive"),
    path("session/park/", idle_views.park, name="park"),
    path("session/park/restored/", idle_views.park_restored, name="park_restored"),
    path("session/timed-out/", idle_views.idle_logout, name="idle_logout"),
]
