"""Authentication backends."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.exceptions import ValidationError

from . import bulk


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend, whose get_user (run on every signed-in request) reads the user
    with SQL compiled once per process (core.bulk.get_by_pk) rather than compiling the same
    ORM query on each request (docs/performance.md, "Request intake")."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = bulk.get_by_pk(model, pk)
        return user if user is not None and self.user_can_authenticate(user) else None
