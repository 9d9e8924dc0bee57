"""Funds portal URLs (namespace "funds_public"), under /portal/disclosures/: the published
三务公开 items of each community, their canonical content and their verification."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_public

app_name = "funds_public"

urlpatterns = [
    # disclosures (views_public.py): a community's items, one item, its canonical JSON, a fingerprint check
    path("community/<str:code>/", views_public.community, name="community"),
    path("<int:pk>/", views_public.disclosure_page, name="disclosure"),
    path("<int:pk>/content.json", views_public.disclosure_content, name="content"),
    path("<int:pk>/check/", views_public.disclosure_check, name="check"),
]
