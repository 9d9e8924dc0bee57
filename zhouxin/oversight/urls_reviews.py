"""Oversight URLs of the reviews part (included by urls.py, namespace "oversight")."""

from django.urls import path

from . import views_reviews

urlpatterns: list = [
    path("reviews/", views_reviews.review_list, name="review_list"),
    path("reviews/new/", views_reviews.review_create, name="review_create"),
    path("reviews/<int:pk>/", views_reviews.review_detail, name="review_detail"),
    path("reviews/<int:pk>/refresh/", views_reviews.review_refresh, name="review_refresh"),
    path("reviews/<int:pk>/report/", views_reviews.review_report, name="review_report"),
    path("reviews/<int:pk>/submit/", views_reviews.review_submit, name="review_submit"),
    path("reviews/<int:pk>/score/", views_reviews.review_score, name="review_score"),
    path("reviews/<int:pk>/finalise/", views_reviews.review_finalise, name="review_finalise"),
]
