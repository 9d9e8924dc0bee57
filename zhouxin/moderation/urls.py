from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("held/<slug:source>/<int:key>/<slug:action>/", views.decide, name="decide"),
    path("lexicon/", views.lexicon, name="lexicon"),
    path("lexicon/add/", views.lexicon_add, name="lexicon_add"),
    path("lexicon/import/", views.lexicon_import, name="lexicon_import"),
    path("lexicon/test/", views.lexicon_test, name="lexicon_test"),
    path("lexicon/<int:pk>/toggle/", views.lexicon_toggle, name="lexicon_toggle"),
    path("lexicon/<int:pk>/delete/", views.lexicon_delete, name="lexicon_delete"),
]
