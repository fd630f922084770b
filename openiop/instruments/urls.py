from django.urls import path

from . import views

app_name = "instruments"

# Pages about one participant, under /participants/<pk>/measures/ (namespace "measures").
participant_patterns = (
    [
        path("", views.measures, name="list"),
        path("give/", views.give_choose, name="give_choose"),
        path("give/<str:code>/", views.give, name="give"),
        path("<int:response_pk>/", views.response_detail, name="response"),
    ],
    "measures",
)

urlpatterns = [
    path("due/", views.due_list, name="due"),
    path("alerts/<int:alert_pk>/", views.alert, name="alert"),
    path("setup/<int:program_pk>/", views.program_settings, name="settings"),
]
