from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter()
router.register("areas", views.AreaViewSet, basename="area")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("requests", views.RequestViewSet, basename="request")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(), name="docs"),
]
