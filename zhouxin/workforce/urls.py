"""Community worker URLs (namespace "workforce"), under /workforce/."""

from django.urls import path  # noqa: F401  (routes are appended by each part of the domain)

from . import views_payroll, views_promotion, views_roster

app_name = "workforce"

urlpatterns = [
    # 年度考核 and 晋级 (views_promotion.py)
    path("assessments/", views_promotion.assessment_page, name="assessments"),
    path("promotion/", views_promotion.promotion_page, name="promotion"),
    path("promotion/run/", views_promotion.promotion_run_view, name="promotion_run"),
    path("promotion/<int:pk>/confirm/", views_promotion.promotion_confirm_view, name="promotion_confirm"),
    path("promotion/results/<int:pk>/", views_promotion.promotion_result, name="promotion_result"),
    # 月度工资 and 我的工资 (views_payroll.py)
    path("payroll/", views_payroll.payroll_page, name="payroll"),
    path("payroll/run/", views_payroll.payroll_run, name="payroll_run"),
    path("payroll/<int:pk>/", views_payroll.payroll_detail, name="payroll_detail"),
    path("payroll/<int:pk>/confirm/", views_payroll.payroll_confirm, name="payroll_confirm"),
    path("payroll/<int:pk>/xlsx/", views_payroll.payroll_xlsx, name="payroll_xlsx"),
    path("payslips/<int:pk>/", views_payroll.payslip_detail, name="payslip"),
    path("me/", views_payroll.my_pay, name="my_pay"),
    path("me/<int:pk>/", views_payroll.my_payslip, name="my_payslip"),
    # 花名册 and 配备情况 (views_roster.py)
    path("roster/", views_roster.roster_list, name="roster_list"),
    path("roster/new/", views_roster.worker_create, name="worker_create"),
    path("roster/import/", views_roster.roster_import, name="roster_import"),
    path("roster/import/template.xlsx", views_roster.roster_template, name="roster_template"),
    path("roster/<int:pk>/", views_roster.worker_detail, name="worker_detail"),
    path("roster/<int:pk>/edit/", views_roster.worker_edit, name="worker_edit"),
    path("roster/<int:pk>/leave/", views_roster.worker_leave, name="worker_leave"),
    path("roster/<int:pk>/posts/", views_roster.post_add, name="post_add"),
    path("roster/<int:pk>/posts/<int:post_pk>/end/", views_roster.post_end, name="post_end"),
    path("staffing/", views_roster.staffing_page, name="staffing"),
]
