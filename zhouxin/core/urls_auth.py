"""URL patterns included by core/urls.py (names live in the core namespace)."""

urlpatterns: list = []
