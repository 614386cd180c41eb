"""API tokens and passwords: how they are made, stored (hashed) and checked.

A token is ``cb_<token id>_<secret>``: the id (8 random bytes, hex) finds the
user; only a salted SHA-256 of the secret (32 random bytes) is stored, and it
is compared in constant time. A 256-bit random secret needs no slow hash.
Passwords are people-chosen, so they get scrypt. Nothing here touches a database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "cb"
TOKEN_SECRET_BYTES = 32
TOKEN_LEN_MAX = 128
PASSWORD_LEN_MIN = 12
PASSWORD_LEN_MAX = 256
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``text`` is shown once; the rest is what the store keeps."""

    text: str
    token_id: str
    salt: str
    secret_hash: str


def issue_token() -> IssuedToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(TOKEN_SECRET_BYTES)
    salt = secrets.token_hex(16)
    return IssuedToken(f"{TOKEN_PREFIX}_{token_id}_{secret}", token_id, salt,
                       _secret_hash(salt, secret))  # fmt: skip


def split_token(text: str) -> tuple[str, str] | None:
    """(token id, secret) of a well-formed token, else None."""
    if len(text) > TOKEN_LEN_MAX:
        return None
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 16 or not parts[2]:
        return None
    return parts[1], parts[2]


def token_matches(secret: str, salt: str, stored_hash: str) -> bool:
    return hmac.compare_digest(_secret_hash(salt, secret), stored_hash)


def _secret_hash(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> None:
    if not PASSWORD_LEN_MIN <= len(password) <= PASSWORD_LEN_MAX:
        raise ValueError(f"password must be {PASSWORD_LEN_MIN}..{PASSWORD_LEN_MAX} characters")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P)  # fmt: skip
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt" or len(password) > PASSWORD_LEN_MAX:
            return False
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n),
                                r=int(r), p=int(p))  # fmt: skip
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def new_session_secret() -> tuple[str, str]:
    """(cookie value, its SHA-256 as stored)."""
    value = secrets.token_urlsafe(32)
    return value, session_hash(value)


def session_hash(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()
