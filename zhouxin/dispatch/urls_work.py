"""Work queues, intake, request detail and actions (names live in the dispatch namespace)."""

from django.urls import path

from .views import work

urlpatterns = [
    path("", work.queue, name="queue"),
    path("bulk/", work.bulk, name="bulk"),
    path("intake/", work.intake, name="intake"),
    path("intake/suggest/", work.intake_suggest, name="intake_suggest"),
    path("categories/search/", work.category_search, name="category_search"),
    path("requests/<str:number>/", work.request_detail, name="request_detail"),
    path("requests/<str:number>/receipt/", work.request_receipt, name="request_receipt"),
    path("requests/<str:number>/reveal/", work.request_reveal, name="request_reveal"),
    path("requests/<str:number>/attachments/<int:pk>/", work.attachment, name="attachment"),
    path("requests/<str:number>/<slug:action>/", work.request_action, name="request_action"),
]
