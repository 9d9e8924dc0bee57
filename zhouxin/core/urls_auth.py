"""URL patterns included by core/urls.py (names live in the core namespace)."""

from django.urls import path

from .views import auth

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("verify/", auth.verify_totp, name="verify_totp"),
    path("enrol/", auth.enrol_totp, name="enrol_totp"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/", auth.password_change, name="password_change"),
]
