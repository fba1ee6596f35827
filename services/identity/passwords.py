"""Password hashing (argon2id) and the password policy, with messages a school user reads."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10

_hasher = PasswordHasher()

# Passwords people choose first; a short list catches the worst of them without shipping a dictionary.
_COMMON = frozenset({
    "1234567890", "0123456789", "qwertyuiop", "password123", "йцукенгшщз", "1q2w3e4r5t", "qwerty1234",
    "1111111111", "школа12345", "пароль1234", "privet1234", "parol12345", "1234qwerty", "asdfghjkl1",
})


def policy_problems(password: str, login: str = "") -> list[str]:
    """What is wrong with a new password, in Russian; empty when it may be used."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Пароль должен быть не короче {MIN_LENGTH} символов.")
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        problems.append("Пароль должен содержать и буквы, и цифры.")
    if login and login.lower() in password.lower():
        problems.append("Пароль не должен содержать логин.")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("Пароль слишком простой: его легко подобрать.")
    return problems


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account has a password, so timing does not reveal which logins exist."""
    target = stored_hash or _DUMMY_HASH

    def check() -> bool:
        try:
            return _hasher.verify(target, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone-0")
