"""URL patterns included by core/urls.py (names live in the core namespace)."""

from django.urls import path

from .views import users

urlpatterns = [
    path("", users.user_list, name="user_list"),
    path("new/", users.user_create, name="user_create"),
    path("<int:pk>/", users.user_detail, name="user_detail"),
    path("<int:pk>/deactivate/", users.user_deactivate, name="user_deactivate"),
    path("<int:pk>/reactivate/", users.user_reactivate, name="user_reactivate"),
    path("<int:pk>/grants/add/", users.grant_add, name="grant_add"),
    path("grants/<int:pk>/revoke/", users.grant_revoke, name="grant_revoke"),
    # login lockouts (安全管理员)
    path("lockouts/", users.lockout_list, name="lockout_list"),
    path("lockouts/clear/", users.lockout_clear, name="lockout_clear"),
]
