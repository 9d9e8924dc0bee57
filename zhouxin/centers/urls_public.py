"""Centre portal URLs (namespace "centers_public"), under /portal/centres/: centres and their
rooms, the public events calendar, registration, QR check-in and residents' room bookings."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "centers_public"

urlpatterns = [
]
