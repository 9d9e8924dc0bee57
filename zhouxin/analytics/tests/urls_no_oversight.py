"""The site's URLs with an oversight namespace that has neither the rating explanation nor the report
form: the dashboard must then show neither link nor button."""

from django.urls import URLResolver, include, path

from zhouxin.urls import urlpatterns as site

urlpatterns = [p for p in site if not (isinstance(p, URLResolver) and p.namespace == "oversight")]
urlpatterns.append(path("oversight/", include(([], "oversight"))))
