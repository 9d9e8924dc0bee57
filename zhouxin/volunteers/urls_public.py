"""Volunteers portal URLs (namespace "volunteers_public"), under /portal/volunteer/: a phone-first
side for residents and Party members (activities, sign-up, check-in, wishes, registration)."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "volunteers_public"

urlpatterns = [
]
