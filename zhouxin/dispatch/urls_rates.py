"""URL patterns included by dispatch/urls.py (names live in the dispatch namespace)."""

from django.urls import path

from .views import rates

urlpatterns = [
    path("", rates.rankings, name="rankings"),
    path("trends/", rates.trends, name="trends"),
    path("themes/", rates.themes, name="themes"),
    path("themes/set/", rates.theme_set, name="theme_set"),
]
