"""Oversight URLs of the ratings part (included by urls.py, namespace "oversight")."""

from django.urls import path

from . import views_ratings

urlpatterns: list = [
    path("ratings/", views_ratings.rating_list, name="rating_list"),
    path("ratings/run/", views_ratings.rating_run, name="rating_run"),
    path("ratings/<str:code>/<str:period>/", views_ratings.rating_detail, name="rating_detail"),
    path("peers/<str:code>/", views_ratings.peers, name="peers"),
    path("rectifications/", views_ratings.rectification_list, name="rectification_list"),
    path("rectifications/<int:pk>/", views_ratings.rectification_detail, name="rectification_detail"),
    path("rectifications/<int:pk>/plan/", views_ratings.rectification_plan, name="rectification_plan"),
    path("rectifications/<int:pk>/close/", views_ratings.rectification_close, name="rectification_close"),
]
