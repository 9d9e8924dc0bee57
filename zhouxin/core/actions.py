"""The post → service → message step that most staff actions share.

A page posts a small form; the view validates it, calls one service and redirects back.
`perform` does the middle part: on a valid form it calls the service with the cleaned
data, shows the success message, and turns a ValidationError (or the form's own errors)
into error messages, so nothing is changed and the user is told why::

    ok, meeting = perform(request, MeetingForm(request.POST),
                          lambda data: services.meeting_create(actor=request.user, conference=c, **data),
                          success=_("会议已安排。"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

T = TypeVar("T")


def flash_errors(request, source: forms.BaseForm | ValidationError) -> None:
    """Show every message of a form's errors or of a service's ValidationError."""
    if isinstance(source, ValidationError):
        for message in source.messages:
            messages.error(request, message)
        return
    for errors in source.errors.values():
        for error in errors:
            messages.error(request, error)


def perform(request, form: forms.BaseForm | None, action: Callable[[dict], T], *,
            success: str | Callable[[T], str]) -> tuple[bool, T | None]:
    """Validate `form` (None: nothing to validate), call `action(cleaned_data)` and flash the outcome.

    Returns (True, what the action returned) or (False, None) after showing the errors."""
    if form is not None and not form.is_valid():
        flash_errors(request, form)
        return False, None
    try:
        result = action(form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        flash_errors(request, exc)
        return False, None
    messages.success(request, success(result) if callable(success) else success)
    return True, result


def errors_into_form(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has that field,
    otherwise as a form-wide error, so a re-rendered form shows each message in place."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
