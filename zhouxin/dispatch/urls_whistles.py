"""URL patterns included by dispatch/urls.py (names live in the dispatch namespace):
街乡吹哨、部门报到 — the board, blowing a whistle, a whistle and its actions, the department evaluation."""

from django.urls import path

from .views import whistles as views

urlpatterns = [
    path("", views.whistle_board, name="whistle_board"),
    path("new/", views.whistle_open, name="whistle_open"),
    path("scores/", views.department_scores, name="department_scores"),
    path("<str:number>/", views.whistle_detail, name="whistle_detail"),
    path("<str:number>/summons/<int:pk>/report/", views.summons_report, name="summons_report"),
    path("<str:number>/summons/<int:pk>/rate/", views.summons_rate, name="summons_rate"),
    path("<str:number>/solve/", views.whistle_solve, name="whistle_solve"),
]
