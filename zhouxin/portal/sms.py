"""Sending text messages (one-time codes) through a pluggable backend.

settings.SMS_BACKEND is the dotted path of a class with `send(phone, message)`; the
default ConsoleBackend writes the message to the log, which is what a deployment without
an SMS gateway uses.  MemoryBackend keeps the messages in `outbox` (tests, demos)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("zhouxin.portal.sms")

DEFAULT_BACKEND = "zhouxin.portal.sms.ConsoleBackend"


@dataclass(frozen=True)
class Message:
    phone: str
    text: str


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


outbox: list[Message] = []


class MemoryBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append(Message(phone=phone, text=text))


def backend():
    return import_string(getattr(settings, "SMS_BACKEND", "") or DEFAULT_BACKEND)()


def send(phone: str, text: str) -> None:
    backend().send(phone, text)
