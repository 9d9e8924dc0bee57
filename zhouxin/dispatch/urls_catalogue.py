"""URL patterns included by dispatch/urls.py (names live in the dispatch namespace)."""

from django.urls import path, re_path

from .views import catalogue as views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("new/", views.category_create, name="category_create"),
    re_path(r"^(?P<code>[0-9]{2}(?:[0-9]{2}){0,2})/edit/$", views.category_edit, name="category_edit"),
    path("routing/", views.routing_rules, name="routing_rules"),
    path("routing/<int:pk>/delete/", views.routing_rule_delete, name="routing_rule_delete"),
    path("deadline/", views.deadline_calculator, name="deadline_calculator"),
]
