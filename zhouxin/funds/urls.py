"""Funds staff URLs (namespace "funds"), under /funds/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "funds"

urlpatterns = [
]
