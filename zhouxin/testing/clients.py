from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY


def verified_client(personas, name: str) -> Client:
    """A client signed in as the persona, with the second factor verified when the role needs it."""
    client = Client()
    user = personas.users[name]
    client.force_login(user)
    device = personas.devices.get(name)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
