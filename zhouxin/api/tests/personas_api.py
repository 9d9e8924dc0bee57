"""One more persona for the token pages: a system administrator of a single street.

The shared personas' system_admin is granted on the city; 景山街道's administrator manages
only the accounts of 景山街道 (community_staff_b), not 东华门街道's street hub."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant, User
from zhouxin.testing.personas import PASSWORD, TOTP_KEY_HEX

STREET_ADMIN = "street_b_system_admin"


def add_street_admin(personas) -> User:
    """Adds (once) STREET_ADMIN to personas.users and personas.devices and returns it."""
    if STREET_ADMIN in personas.users:
        return personas.users[STREET_ADMIN]
    user = User.objects.create_user(username=STREET_ADMIN, password=PASSWORD, full_name="孔令仪")
    Grant.objects.create(user=user, role=Role.SYSTEM_ADMIN, area=personas.areas["street_b"])
    personas.users[STREET_ADMIN] = user
    personas.devices[STREET_ADMIN] = TOTPDevice.objects.create(user=user, name="默认", key=TOTP_KEY_HEX,
                                                               confirmed=True)
    return user
