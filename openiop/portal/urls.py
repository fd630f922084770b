from django.urls import path

from . import participant_views, views

app_name = "portal"

urlpatterns = [
    path("sign-in/", views.login, name="login"),
    path("sign-out/", views.logout, name="logout"),
    path("join/<str:token>/", participant_views.accept, name="accept"),
    path("", participant_views.home, name="home"),
    path("check-in/", participant_views.check_in, name="check_in"),
    path("questionnaires/", participant_views.questionnaires, name="questionnaires"),
    path("questionnaires/<str:code>/", participant_views.questionnaire, name="questionnaire"),
    path("plan/", participant_views.plan, name="plan"),
    path("progress/", participant_views.my_progress, name="progress"),
    path("settings/", participant_views.settings, name="settings"),
]
