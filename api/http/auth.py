"""Bearer JWTs (HS256, PyJWT): who is calling, in what role, for which districts and grids."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

from domain.events import Actor, Role

ISSUER = "gridgov"


class Unauthenticated(Exception):
    """No token, or one that is not ours, or expired: 401."""


class OutOfScope(Exception):
    """A valid token asking for something outside its role or districts: 403."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    districts: frozenset[str] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.sub, role=self.role)

    def require_district(self, district: str) -> None:
        if district not in self.districts:
            raise OutOfScope(f"this token does not cover district {district}")


def mint(secret: str, sub: str, role: Role, districts: list[str] = (), grids: list[str] = (),  # type: ignore[assignment]
         ttl_s: int = 12 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "sub": sub, "role": role.value, "districts": list(districts),
                       "grids": list(grids), "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")


def decode(secret: str, header: str | None) -> Principal:
    if not header or not header.lower().startswith("bearer "):
        raise Unauthenticated("send Authorization: Bearer <token>")
    try:
        claims = jwt.decode(header[7:].strip(), secret, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
        return Principal(sub=str(claims["sub"]), role=Role(claims["role"]),
                         districts=frozenset(claims.get("districts") or ()), grids=frozenset(claims.get("grids") or ()))
    except (jwt.PyJWTError, KeyError, ValueError) as e:
        raise Unauthenticated(f"invalid token: {e}") from None
