from django.urls import include, path

app_name = "orgs"

urlpatterns = [
    # area and organisation tree, search, detail pages, people, reveal
    path("", include("zhouxin.orgs.urls_browse")),
    # xlsx import (templates, jobs, progress) and export
    path("transfer/", include("zhouxin.orgs.urls_transfer")),
]
