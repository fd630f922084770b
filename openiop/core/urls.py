from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.today, name="today"),
    path("audit/", views.audit_log, name="audit_log"),
    path("admin/jobs/", views.jobs, name="jobs"),
]
