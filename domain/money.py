"""Money is an integer number of fen (分). Floats never touch it."""

from __future__ import annotations

from typing import TypeAlias

from domain.errors import InvalidAmount

Fen: TypeAlias = int


def fen(value: object, *, what: str = "amount", allow_zero: bool = True) -> Fen:
    """Return `value` as fen, or refuse it with a message a user can act on.

    bool is an int subclass in Python; `True` fen is a bug, not a yuan.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{what} must be a whole number of fen, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidAmount(f"{what} must be {'≥ 0' if allow_zero else '> 0'} fen, got {value}")
    return value


def yuan(amount: Fen) -> str:
    """Format fen as yuan for people (¥12.34), without float arithmetic."""
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 100)
    return f"{sign}¥{whole}.{part:02d}"
