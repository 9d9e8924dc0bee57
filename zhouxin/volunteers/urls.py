"""Volunteers staff URLs (namespace "volunteers"), under /volunteers/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "volunteers"

urlpatterns = [
]
