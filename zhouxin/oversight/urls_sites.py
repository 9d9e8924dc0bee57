"""Oversight URLs of the sites part (included by urls.py, namespace "oversight"): demonstration
sites and the case library."""

from django.urls import path

from . import views_sites

urlpatterns: list = [
    path("sites/", views_sites.site_list, name="site_list"),
    path("sites/new/", views_sites.site_nominate, name="site_nominate"),
    path("sites/<int:pk>/", views_sites.site_detail, name="site_detail"),
    path("sites/<int:pk>/decide/", views_sites.site_decide, name="site_decide"),
    path("sites/<int:pk>/revoke/", views_sites.site_revoke, name="site_revoke"),
    path("cases/", views_sites.case_list, name="case_list"),
    path("cases/new/", views_sites.case_create, name="case_create"),
    path("cases/<int:pk>/", views_sites.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views_sites.case_edit, name="case_edit"),
    path("cases/<int:pk>/publish/", views_sites.case_publish, name="case_publish"),
    path("cases/<int:pk>/withdraw/", views_sites.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/files/<int:file_pk>/", views_sites.case_file, name="case_file"),
]
