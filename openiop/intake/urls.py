from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.referral_new, name="new"),
    path("<int:episode_pk>/", views.referral, name="referral"),
    path("<int:episode_pk>/edit/", views.referral_edit, name="edit"),
    path("<int:episode_pk>/contact/", views.contact, name="contact"),
    path("<int:episode_pk>/close/", views.close, name="close"),
    path("<int:episode_pk>/screen/", views.prescreen, name="prescreen"),
    path("<int:episode_pk>/assessment/", views.assessment_new, name="assessment_new"),
    path("<int:episode_pk>/admit/", views.admit, name="admit"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment_edit"),
]
