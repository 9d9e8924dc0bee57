from django.urls import include, path

app_name = "dispatch"

urlpatterns = [
    # work queues, request detail and actions, intake forms
    path("", include("zhouxin.dispatch.urls_work")),
    # catalogue, routing rules, deadline calculator
    path("catalogue/", include("zhouxin.dispatch.urls_catalogue")),
    # whistles
    path("whistles/", include("zhouxin.dispatch.urls_whistles")),
    # three rates, rankings, trends, monthly themes
    path("rates/", include("zhouxin.dispatch.urls_rates")),
]
