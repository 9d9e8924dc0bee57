"""The one write of Open311: a POSTed request goes through dispatch's intake (the same
pipeline as every channel, on the Open311/API channel) and gets its Open311 record."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from zhouxin.core import audit
from zhouxin.dispatch import services as dispatch
from zhouxin.dispatch.choices import Channel

from .models import Open311Submission


@transaction.atomic
def open311_request_submit(*, actor, api_token, kind: str, area, title: str, description: str, urgency: str,
                           category, address: str = "", latitude=None, longitude=None, contact_name: str = "",
                           contact_phone: str = "", media_url: str = "",
                           idempotency_key: str | None = None) -> tuple[Open311Submission, bool]:
    """Receive a request sent by an Open311 client acting as `actor` (the api_key's user).

    dispatch.request_intake validates, screens, routes and starts the SLA clock; this adds
    the lookup token (GET tokens/{token}) and the media URL, which is only a reference and
    never fetched.  With an Idempotency-Key a retry returns the first request and its token
    (the intake keys per actor).  Returns (submission, created)."""
    request = dispatch.request_intake(
        actor=actor, kind=kind, channel=Channel.API, area=area, title=title, description=description,
        urgency=urgency, category=category, address=address, latitude=latitude, longitude=longitude,
        contact_name=contact_name, contact_phone=contact_phone, idempotency_key=idempotency_key)
    if idempotency_key:
        existing = Open311Submission.objects.filter(request=request).first()
        if existing is not None:  # a retry with the same Idempotency-Key
            return existing, False
    try:
        with transaction.atomic():
            submission = Open311Submission.objects.create(
                request=request, api_token=api_token, token=secrets.token_hex(16), media_url=media_url)
    except IntegrityError:  # the same retry running at the same time created it first
        return Open311Submission.objects.get(request=request), False
    audit.record(actor=actor, action="api.open311.submitted", obj=submission, object_repr=request.number, after={
        "request": request.number, "api_token": api_token.prefix, "media_url": media_url,
    })
    return submission, True
