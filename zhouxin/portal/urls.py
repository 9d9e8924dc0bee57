from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submit/suggest/", views.suggest, name="suggest"),
    path("submit/grids/", views.grids, name="grids"),
    path("receipt/", views.receipt, name="receipt"),
    path("track/", views.track, name="track"),
    path("track/code/", views.verify, name="verify"),
    path("track/<str:number>/", views.status, name="status"),
    path("track/<str:number>/rate/", views.rate, name="rate"),
    # The optional resident account (phone + one-time code) and the resident's own data.
    path("signin/", views.signin, name="signin"),
    path("signin/code/", views.signin_code, name="signin_code"),
    path("signout/", views.signout, name="signout"),
    path("me/", views.me, name="me"),
    path("me/data/", views.me_data, name="me_data"),
    path("me/data/export/", views.me_export, name="me_export"),
    path("me/data/delete/", views.me_delete, name="me_delete"),
    path("me/requests/<str:number>/contact/", views.me_correct, name="me_correct"),
    # Public pages of the communities.
    path("communities/", views.communities, name="communities"),
    path("communities/<str:code>/", views.street, name="street"),
    path("community/<str:code>/", views.community, name="community"),
]
