"""Every API error as JSON: {"errors": [{"code", "field", "message"}]}.

Malformed input (the serializer) → 400; not signed in → 401; no permission → 403; outside
the caller's scope or absent → 404; a transition the request's status forbids → 409;
input a service refuses (Django ValidationError) → 422.  Co-building's InvalidTransition (the
need was claimed by someone else meanwhile) is a 409 like dispatch's TransitionError.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from zhouxin.cobuild.services import InvalidTransition as CobuildInvalidTransition
from zhouxin.dispatch.services import TransitionError


def _flatten(detail, field=None) -> list[dict]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else (f"{field}.{key}" if field else str(key))
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for value in detail:
            out.extend(_flatten(value, field))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [{"code": str(code), "field": field, "message": str(detail)}]


def _django_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        out = []
        for name, errors in exc.error_dict.items():
            for error in errors:
                for message in error.messages:
                    out.append({"code": error.code or "invalid", "field": None if name == "__all__" else name,
                                "message": str(message)})
        return out
    return [{"code": getattr(e, "code", None) or "invalid", "field": None, "message": str(m)}
            for e in exc.error_list for m in e.messages]


def _response(errors: list[dict], status_code: int, headers=None) -> Response:
    return Response({"errors": errors}, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, (TransitionError, CobuildInvalidTransition)):
        set_rollback()
        errors = _django_errors(exc)
        for error in errors:
            error["code"] = "conflict"
        return _response(errors, status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return _response(_django_errors(exc), status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到该对象，或不在您的管辖范围内。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc.args[0]) if exc.args else _("您没有权限执行此操作。"))
    if not isinstance(exc, exceptions.APIException):
        return None  # a real server error: let it surface
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    if isinstance(exc.detail, (dict, list)):
        errors = _flatten(exc.detail)
    else:
        errors = [{"code": str(getattr(exc.detail, "code", None) or exc.default_code), "field": None,
                   "message": str(exc.detail)}]
    return _response(errors, exc.status_code, headers)
