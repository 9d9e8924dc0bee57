"""Centre staff URLs (namespace "centers"), under /centers/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_bookings, views_centres, views_dashboard, views_events

app_name = "centers"

urlpatterns = [
    # centres, rooms, rota, catalogue (views_centres.py)
    path("", views_centres.centre_list, name="centre_list"),
    path("new/", views_centres.centre_create, name="centre_create"),
    path("<int:pk>/", views_centres.centre_detail, name="centre_detail"),
    path("<int:pk>/edit/", views_centres.centre_edit, name="centre_edit"),
    path("<int:pk>/rooms/new/", views_centres.room_create, name="room_create"),
    path("<int:pk>/rooms/<int:room_pk>/edit/", views_centres.room_edit, name="room_edit"),
    path("<int:pk>/services/new/", views_centres.service_create, name="service_create"),
    path("<int:pk>/services/<int:item_pk>/edit/", views_centres.service_edit, name="service_edit"),
    path("<int:pk>/services/<int:item_pk>/delete/", views_centres.service_delete, name="service_delete"),
    path("<int:pk>/rota/", views_centres.rota, name="rota"),
    path("<int:pk>/rota/assign/", views_centres.rota_assign, name="rota_assign"),
    path("<int:pk>/rota/<int:shift_pk>/remove/", views_centres.rota_remove, name="rota_remove"),
    # bookings (views_bookings.py)
    path("bookings/", views_bookings.booking_list, name="booking_list"),
    path("bookings/new/", views_bookings.booking_create, name="booking_create"),
    path("bookings/<int:pk>/", views_bookings.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/decide/", views_bookings.booking_decide, name="booking_decide"),
    path("bookings/<int:pk>/cancel/", views_bookings.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/no-show/", views_bookings.booking_no_show, name="booking_no_show"),
    path("bookings/<int:pk>/complete/", views_bookings.booking_complete, name="booking_complete"),
    path("bookings/rooms/<int:pk>/week/", views_bookings.room_week, name="booking_week"),
    # events (views_events.py)
    path("events/", views_events.event_list, name="event_list"),
    path("events/new/", views_events.event_create, name="event_create"),
    path("events/<int:pk>/", views_events.event_detail, name="event_detail"),
    path("events/<int:pk>/cancel/", views_events.event_cancel, name="event_cancel"),
    path("events/<int:pk>/code/", views_events.event_code, name="event_code"),
    path("events/<int:pk>/code.json", views_events.event_code_json, name="event_code_json"),
    path("events/<int:pk>/code/renew/", views_events.event_rotate_key, name="event_rotate_key"),
    path("events/<int:pk>/registrations/<int:registration_pk>/check-in/", views_events.event_registration_check_in,
         name="event_registration_check_in"),
    # utilisation and dashboards (views_dashboard.py)
    path("dashboard/street/", views_dashboard.street_dashboard, name="dashboard_street"),
    path("dashboard/community/", views_dashboard.community_dashboard, name="dashboard_community"),
    path("dashboard/visits/", views_dashboard.visits, name="visits"),
]
