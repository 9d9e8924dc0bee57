"""URL patterns included by dispatch/urls.py (names live in the dispatch namespace)."""

urlpatterns: list = []
