"""Public co-building pages (namespace "cobuild_public"), under /portal/projects/: inside the
portal, so the withheld-page middleware and the integrity monitor cover them."""

from django.urls import path

from . import views_public

app_name = "cobuild_public"

urlpatterns = [
    path("<int:pk>/", views_public.project_page, name="project"),
    path("<int:pk>/rate/", views_public.project_rate, name="rate"),
]
