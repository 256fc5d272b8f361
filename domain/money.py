"""Money is an integer number of fen (分). Floats never touch it.

Bounds: one command moves at most MAX_AMOUNT fen (10^12, ten billion yuan),
and no total the ledger keeps may leave a signed 64-bit integer, which is what
both read-model stores hold (BIGINT). Both are checked where the money enters,
so a read model can never be handed a number it cannot store.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import AfterValidator, Field, StrictInt
from pydantic_core import PydanticCustomError

from domain.errors import AmountTooLarge, InvalidAmount

Fen: TypeAlias = int

MAX_AMOUNT: Fen = 10**12
MAX_TOTAL: Fen = 2**63 - 1


def bounded(value: int) -> int:
    """A pydantic check: `value` unless it is more than one command may move."""
    if value > MAX_AMOUNT:
        raise PydanticCustomError("amount_too_large", "at most {max} in one command", {"max": MAX_AMOUNT})
    return value


_LIMIT = {"maximum": MAX_AMOUNT}
# Fen or points in a command: whole, non-negative (or positive), at most MAX_AMOUNT.
Amount = Annotated[StrictInt, Field(ge=0, json_schema_extra=_LIMIT), AfterValidator(bounded)]
PositiveAmount = Annotated[StrictInt, Field(gt=0, json_schema_extra=_LIMIT), AfterValidator(bounded)]


def add(total: int, amount: int, *, what: str) -> int:
    """`total + amount`, refused if the sum would leave int64."""
    if total + amount > MAX_TOTAL:
        raise AmountTooLarge(f"{what} would exceed {MAX_TOTAL} with {amount} more", total=total, amount=amount)
    return total + amount


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
