"""Centre staff URLs (namespace "centers"), under /centers/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

app_name = "centers"

urlpatterns = [
]
