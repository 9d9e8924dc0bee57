"""Funds staff URLs (namespace "funds"), under /funds/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_disclosures, views_funds, views_plans, views_reports

app_name = "funds"

urlpatterns = [
    # funds, ledger and reports (views_funds.py, views_reports.py)
    path("", views_funds.fund_list, name="fund_list"),
    path("new/", views_funds.fund_create, name="fund_create"),
    path("<int:pk>/", views_funds.fund_detail, name="fund_detail"),
    path("<int:pk>/allocate/", views_funds.fund_allocate, name="fund_allocate"),
    path("<int:pk>/verify/", views_funds.fund_verify, name="fund_verify"),
    path("reports/", views_reports.dashboard, name="dashboard"),
    path("reports/execution.xlsx", views_reports.execution_xlsx, name="execution_xlsx"),
    # spending plans (views_plans.py)
    path("plans/", views_plans.plan_list, name="plan_list"),
    path("plans/new/", views_plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views_plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/deliberate/", views_plans.plan_deliberate, name="plan_deliberate"),
    path("plans/<int:pk>/submit/", views_plans.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/review/", views_plans.plan_review, name="plan_review"),
    path("plans/<int:pk>/disburse/", views_plans.plan_disburse, name="plan_disburse"),
    path("plans/<int:pk>/vouchers/", views_plans.plan_voucher_add, name="plan_voucher_add"),
    path("plans/<int:pk>/vouchers/<int:voucher_pk>/", views_plans.plan_voucher, name="plan_voucher"),
    path("plans/<int:pk>/minutes/<int:deliberation_pk>/", views_plans.plan_minutes, name="plan_minutes"),
    path("plans/<int:pk>/accept/", views_plans.plan_accept, name="plan_accept"),
    path("plans/<int:pk>/file/", views_plans.plan_file, name="plan_file"),
    path("plans/<int:pk>/withdraw/", views_plans.plan_withdraw, name="plan_withdraw"),
    # disclosures (views_disclosures.py)
    path("disclosures/", views_disclosures.disclosure_list, name="disclosure_list"),
    path("disclosures/<int:pk>/", views_disclosures.disclosure_detail, name="disclosure_detail"),
    path("disclosures/publish/yearly/", views_disclosures.publish_yearly, name="disclosure_publish_yearly"),
    path("disclosures/publish/quarterly/", views_disclosures.publish_quarterly, name="disclosure_publish_quarterly"),
    path("disclosures/preview/", views_disclosures.disclosure_preview, name="disclosure_preview"),
]
