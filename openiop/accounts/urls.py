from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("password/done/", views.password_change_done, name="password_change_done"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    # Sign-in security (issue 8, point 5; helper H1).
    path("login/code/", views.login_verify, name="login_verify"),
    path("login/set-up/", views.login_enrol, name="login_enrol"),
    path("two-factor/", views.mfa_overview, name="mfa"),
    path("two-factor/set-up/", views.mfa_enrol, name="mfa_enrol"),
    path("two-factor/recovery-codes/", views.mfa_codes, name="mfa_codes"),
    path("two-factor/recovery-codes/new/", views.mfa_recovery, name="mfa_recovery"),
    path("two-factor/turn-off/", views.mfa_disable, name="mfa_disable"),
    path("security/", views.security_policy, name="security_policy"),
    path("staff/<int:pk>/two-factor/reset/", views.staff_mfa_reset, name="staff_mfa_reset"),
    path("staff/<int:pk>/unlock/", views.staff_unlock, name="staff_unlock"),
]
