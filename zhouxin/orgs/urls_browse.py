"""URL patterns included by orgs/urls.py (names live in the orgs namespace)."""

urlpatterns: list = []
