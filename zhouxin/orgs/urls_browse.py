"""URL patterns included by orgs/urls.py (names live in the orgs namespace)."""

from django.urls import path

from .views import browse

urlpatterns = [
    path("", browse.tree, name="tree"),
    path("search/", browse.search, name="search"),
    path("areas/<str:code>/", browse.area_detail, name="area_detail"),
    path("areas/<str:code>/children/", browse.area_children, name="area_children"),
    path("organisations/", browse.org_list, name="org_list"),
    path("organisations/<int:pk>/", browse.org_detail, name="org_detail"),
    path("people/", browse.person_list, name="person_list"),
    path("people/<int:pk>/", browse.person_detail, name="person_detail"),
    path("people/<int:pk>/reveal/", browse.person_reveal, name="person_reveal"),
]
