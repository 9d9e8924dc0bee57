from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submit/suggest/", views.suggest, name="suggest"),
    path("receipt/", views.receipt, name="receipt"),
    path("track/", views.track, name="track"),
    path("track/code/", views.verify, name="verify"),
    path("track/<str:number>/", views.status, name="status"),
    path("track/<str:number>/rate/", views.rate, name="rate"),
]
