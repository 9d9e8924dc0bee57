"""Funds portal URLs (namespace "funds_public"), under /portal/disclosures/: the published
三务公开 items of each community, their canonical content and their verification."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "funds_public"

urlpatterns = [
]
