"""Volunteers staff URLs (namespace "volunteers"), under /volunteers/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_activities, views_feedback, views_registration, views_wishes

app_name = "volunteers"

urlpatterns = [
    # 双报到 registration and completion figures (views_registration.py)
    path("registrations/", views_registration.registration_list, name="registration_list"),
    path("registrations/member/new/", views_registration.member_register, name="member_register"),
    path("registrations/member/<int:pk>/decide/", views_registration.member_registration_decide,
         name="member_registration_decide"),
    path("registrations/unit/<int:pk>/decide/", views_registration.unit_registration_decide,
         name="unit_registration_decide"),
    path("my-unit/", views_registration.my_unit, name="my_unit"),
    path("completion/", views_registration.completion_overview, name="completion"),
    path("completion/unit/<int:pk>/", views_registration.completion_unit, name="completion_unit"),
    # 微心愿 and the three-order chain (views_wishes.py)
    path("wishes/", views_wishes.wish_board, name="wish_board"),
    path("wishes/new/", views_wishes.wish_create, name="wish_create"),
    path("wishes/<int:pk>/", views_wishes.wish_detail, name="wish_detail"),
    path("wishes/<int:pk>/post/", views_wishes.wish_post, name="wish_post"),
    path("wishes/<int:pk>/reject/", views_wishes.wish_reject, name="wish_reject"),
    path("wishes/<int:pk>/complete/", views_wishes.wish_complete, name="wish_complete"),
    path("wishes/<int:pk>/take/", views_wishes.wish_take, name="wish_take"),
    path("wishes/<int:pk>/give-back/", views_wishes.wish_give_back, name="wish_give_back"),
    # Feedback to work units and the community dashboard (views_feedback.py)
    path("feedback/", views_feedback.feedback_units, name="feedback_units"),
    path("feedback/units/<int:unit_pk>/", views_feedback.feedback_unit, name="feedback_unit"),
    path("feedback/units/<int:unit_pk>/generate/", views_feedback.feedback_generate, name="feedback_generate"),
    path("feedback/batches/<int:pk>/pdf/", views_feedback.feedback_pdf, name="feedback_pdf"),
    path("feedback/batches/<int:pk>/xlsx/", views_feedback.feedback_xlsx, name="feedback_xlsx"),
    path("dashboard/", views_feedback.community_dashboard, name="community_dashboard"),
    # Activities, roster, check-in codes (views_activities.py)
    path("activities/", views_activities.activity_list, name="activity_list"),
    path("activities/new/", views_activities.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views_activities.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views_activities.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/publish/", views_activities.activity_publish, name="activity_publish"),
    path("activities/<int:pk>/cancel/", views_activities.activity_cancel, name="activity_cancel"),
    path("activities/<int:pk>/finish/", views_activities.activity_finish, name="activity_finish"),
    path("activities/<int:pk>/code/", views_activities.activity_code, name="activity_code"),
    path("activities/<int:pk>/code.json", views_activities.activity_code_json, name="activity_code_json"),
    path("activities/<int:pk>/code/renew/", views_activities.activity_rotate_key, name="activity_rotate_key"),
    path("activities/<int:pk>/signups/add/", views_activities.signup_add, name="activity_signup_add"),
    path("activities/<int:pk>/signups/<int:signup_pk>/check-in/", views_activities.signup_check_in,
         name="activity_check_in"),
    path("activities/<int:pk>/signups/<int:signup_pk>/check-out/", views_activities.signup_check_out,
         name="activity_check_out"),
    path("activities/<int:pk>/signups/<int:signup_pk>/no-show/", views_activities.signup_no_show,
         name="activity_no_show"),
]
