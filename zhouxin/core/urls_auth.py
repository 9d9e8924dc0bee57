"""Login, TOTP verification and enrolment, logout, password change (names live in the core namespace)."""

urlpatterns: list = []
