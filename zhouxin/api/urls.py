from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views, views_cobuild, views_tokens

app_name = "api"

router = SimpleRouter()
router.register("areas", views.AreaViewSet, basename="area")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("requests", views.RequestViewSet, basename="request")
router.register("cobuild/needs", views_cobuild.NeedViewSet, basename="cobuild-need")
router.register("cobuild/resources", views_cobuild.ResourceViewSet, basename="cobuild-resource")
router.register("cobuild/projects", views_cobuild.ProjectViewSet, basename="cobuild-project")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(), name="docs"),
    path("tokens/", views_tokens.token_list, name="token_list"),
    path("tokens/new/", views_tokens.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
