from django.urls import path

from . import views

app_name = "conferences"

urlpatterns = [
    path("", views.conference_list, name="conference_list"),
    path("new/", views.conference_create, name="conference_create"),
    path("<int:pk>/", views.conference_detail, name="conference_detail"),
    path("<int:pk>/members/", views.membership_add, name="membership_add"),
    path("<int:pk>/members/<int:membership_id>/end/", views.membership_end, name="membership_end"),
    path("<int:pk>/part-time/", views.part_time_add, name="part_time_add"),
    path("<int:pk>/meetings/", views.meeting_create, name="meeting_create"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/status/", views.meeting_status, name="meeting_status"),
    path("meetings/<int:pk>/agenda/", views.agenda_propose, name="agenda_propose"),
    path("meetings/<int:pk>/agenda/<int:item_id>/", views.agenda_decide, name="agenda_decide"),
    path("meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:pk>/decisions/", views.decision_add, name="decision_add"),
    path("actions/", views.action_board, name="action_board"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
]
