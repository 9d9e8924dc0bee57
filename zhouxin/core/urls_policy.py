"""Policy rules and the working-day calendar (included at admin/ in the core namespace)."""

from django.urls import path

from .views import policy

urlpatterns = [
    path("policies/", policy.policy_list, name="policy_list"),
    path("policies/<str:key>/new/", policy.policy_edit, name="policy_edit"),
    path("calendar/", policy.calendar, name="calendar"),
    path("calendar/<int:year>/", policy.calendar_year, name="calendar_year"),
]
