"""Audit log browsing, working-day calendar, users and grants (names live in the core namespace)."""

urlpatterns: list = []
