"""Centre portal URLs (namespace "centers_public"), under /portal/centres/: centres and their
rooms, the public events calendar, registration, QR check-in and residents' room bookings."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_public, views_public_bookings

app_name = "centers_public"

urlpatterns = [
    # public centre pages and calendar (views_public.py)
    path("", views_public.centre_list, name="centres"),
    path("<int:pk>/", views_public.centre_page, name="centre"),
    path("rooms/<int:pk>/", views_public.room_page, name="room"),
    path("calendar/", views_public.calendar, name="calendar"),
    path("events/<int:pk>/", views_public.event_page, name="event"),
    path("events/<int:pk>/register/", views_public.event_register, name="event_register"),
    path("events/<int:pk>/cancel/", views_public.event_cancel_registration, name="event_cancel_registration"),
    path("check/<str:token>/", views_public.check, name="check"),
    # residents' bookings (views_public_bookings.py)
    path("rooms/<int:pk>/book/", views_public_bookings.room_book, name="room_book"),
    path("my-bookings/", views_public_bookings.my_bookings, name="my_bookings"),
    path("my-bookings/<int:pk>/cancel/", views_public_bookings.booking_cancel, name="my_booking_cancel"),
]
