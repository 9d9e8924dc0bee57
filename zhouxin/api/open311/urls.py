"""Open311 GeoReport v2, mounted at /open311/v2/ (zhouxin/urls.py).  Every resource ends in
its format (.json or .xml); another format is answered with a 404 error array."""

from django.urls import re_path

from . import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, views.services_list, name="services"),
    re_path(r"^services/(?P<service_code>[^/]{1,100})" + FORMAT, views.service_definition, name="service_definition"),
    re_path(r"^requests" + FORMAT, views.requests_view, name="requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]{1,100})" + FORMAT, views.request_detail, name="request_detail"),
    re_path(r"^tokens/(?P<token>[^/]{1,100})" + FORMAT, views.token_detail, name="token"),
]
