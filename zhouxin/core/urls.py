from django.urls import include, path

from .views import home

app_name = "core"

urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/", include("zhouxin.core.urls_auth")),
    path("admin/", include("zhouxin.core.urls_admin")),
]
