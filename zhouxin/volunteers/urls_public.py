"""Volunteers portal URLs (namespace "volunteers_public"), under /portal/volunteer/: a phone-first
side for residents and Party members (activities, sign-up, check-in, wishes, registration)."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_public_activities, views_public_registration, views_public_wishes

app_name = "volunteers_public"

urlpatterns = [
    path("register/", views_public_registration.register, name="register"),
    # 微心愿: the wall, ordering, my wishes, a wish's page and its actions (views_public_wishes.py)
    path("wishes/", views_public_wishes.wall, name="wishes"),
    path("wishes/new/", views_public_wishes.order, name="wish_order"),
    path("wishes/mine/", views_public_wishes.mine, name="wishes_mine"),
    path("wishes/<str:number>/", views_public_wishes.wish_page, name="wish"),
    path("wishes/<str:number>/take/", views_public_wishes.take, name="wish_take"),
    path("wishes/<str:number>/give-back/", views_public_wishes.give_back, name="wish_give_back"),
    path("wishes/<str:number>/withdraw/", views_public_wishes.withdraw, name="wish_withdraw"),
    path("wishes/<str:number>/thank/", views_public_wishes.thank, name="wish_thank"),
    # Activities, sign-up, 我的志愿服务, scanning the check-in code (views_public_activities.py)
    path("activities/", views_public_activities.activity_list, name="activities"),
    path("activities/<int:pk>/", views_public_activities.activity_page, name="activity"),
    path("activities/<int:pk>/signup/", views_public_activities.activity_signup, name="activity_signup"),
    path("activities/<int:pk>/withdraw/", views_public_activities.activity_withdraw, name="activity_withdraw"),
    path("me/", views_public_activities.me, name="me"),
    path("check/<str:token>/", views_public_activities.check, name="check"),
]
