"""Personal-data protection: encryption at rest, an HMAC index for exact lookup, masking.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key list so keys can
rotate: the first key encrypts, every key decrypts.  The lookup index is a keyed
HMAC-SHA256 of the normalised value under a separate key, so equality search works
without storing plaintext and without letting the index be reversed by brute force
unless the index key leaks as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _derive(label: str) -> bytes:
    return hashlib.sha256(f"zhouxin:{label}:{settings.SECRET_KEY}".encode()).digest()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive("field-encryption")).decode(),)
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered ciphertext: never return garbage
        raise ValueError("personal data could not be decrypted with the configured keys") from exc


def blind_index(kind: str, value: str) -> str:
    """Keyed HMAC of a normalised value, for exact-match lookup of encrypted fields."""
    key = settings.FIELD_INDEX_KEY.encode() if settings.FIELD_INDEX_KEY else _derive("field-index")
    normalised = "".join(value.split()).upper()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def mask_phone(value: str) -> str:
    """138****1234"""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_id_number(value: str) -> str:
    """110***********123X"""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python sees plaintext, the database a Fernet token.

    Encrypted values cannot be searched: pair the field with a blind index field.
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)
