"""API token keys: made from 256 random bits, stored only as their SHA-256.

A key this random needs no salt or slow hash (those protect guessable
passwords): its digest is looked up directly, one indexed query per request.
Keys made before hashing (DRF's 40 hex digits) hash and authenticate the same way.
"""

import hashlib
import secrets

KEY_PREFIX = "sc_"
SHOWN_PREFIX_LENGTH = 8


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    """The start of a key that the token list shows (8 characters: 30 of a new key's 256 bits)."""
    return key[:SHOWN_PREFIX_LENGTH]
