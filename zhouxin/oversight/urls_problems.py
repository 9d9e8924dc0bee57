"""Oversight URLs of the problems part (included by urls.py, namespace "oversight"):
responsibility lists, key problems and topic meetings (views_problems.py)."""

from django.urls import path

from . import views_problems as views

urlpatterns: list = [
    path("responsibilities/", views.responsibility_list, name="responsibility_list"),
    path("responsibilities/new/", views.responsibility_create, name="responsibility_create"),
    path("responsibilities/<int:pk>/", views.responsibility_detail, name="responsibility_detail"),
    path("responsibilities/<int:pk>/items/", views.responsibility_item_add, name="responsibility_item_add"),
    path("responsibilities/<int:pk>/items/<int:item_pk>/", views.responsibility_item_update,
         name="responsibility_item_update"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/new/", views.problem_create, name="problem_create"),
    path("problems/<int:pk>/", views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/progress/", views.problem_update, name="problem_update"),
    path("problems/<int:pk>/closure/", views.problem_request_closure, name="problem_request_closure"),
    path("problems/<int:pk>/closure/decision/", views.problem_decide_closure, name="problem_decide_closure"),
    path("problems/<int:pk>/evidence/<int:evidence_pk>/", views.problem_evidence, name="problem_evidence"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
]
