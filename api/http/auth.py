"""Bearer JWTs (HS256, PyJWT): who is calling, in what role, for which districts and grids."""

from __future__ import annotations

import time
from uuid import UUID
from dataclasses import dataclass, field

import jwt

from domain.events import Actor, Role
from domain.scope import EVERYWHERE, Scope

# The engine's own role: no token carries it.
TOKEN_ROLES = frozenset(Role) - {Role.SYSTEM}

ISSUER = "gridgov"


class Unauthenticated(Exception):
    """No token, or one that is not ours, or expired: 401."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    districts: frozenset[str] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.sub, role=self.role)

    @property
    def scope(self) -> Scope:
        """How far the token reaches in commands. A rider is held to itself by the
        domain instead; an officer to its grids, an admin to its districts."""
        if self.role is Role.RIDER:
            return EVERYWHERE
        return Scope(districts=self.districts, grids=self.grids if self.role is Role.GRID_OFFICER else None)


def mint(secret: str, sub: str, role: Role, districts: list[str] = (), grids: list[str] = (),  # type: ignore[assignment]
         ttl_s: int = 12 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "sub": sub, "role": role.value, "districts": list(districts),
                       "grids": list(grids), "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")


def decode(secret: str, header: str | None) -> Principal:
    """The caller, or Unauthenticated (401) for anything but a well-formed token of ours:
    claims of the wrong type are refused here, so nothing after may trip over them."""
    if not header or not header.lower().startswith("bearer "):
        raise Unauthenticated("send Authorization: Bearer <token>")
    try:
        claims = jwt.decode(header[7:].strip(), secret, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.PyJWTError as e:
        raise Unauthenticated(f"invalid token: {e}") from None
    sub, role = claims.get("sub"), claims.get("role")
    if not isinstance(sub, str) or not sub or len(sub) > 200:
        raise Unauthenticated("invalid token: `sub` must be a non-empty string")
    if not isinstance(role, str) or role not in {r.value for r in TOKEN_ROLES}:
        raise Unauthenticated(f"invalid token: `role` must be one of {', '.join(sorted(TOKEN_ROLES))}")
    if role in (Role.RIDER.value, Role.PARTNER.value) and not _is_uuid(sub):
        raise Unauthenticated(f"invalid token: a {role} token's `sub` is the {role}'s id, a UUID")
    return Principal(sub=sub, role=Role(role), districts=_names(claims, "districts"), grids=_names(claims, "grids"))


def _names(claims: dict[str, object], claim: str) -> frozenset[str]:
    value = claims.get(claim, [])
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unauthenticated(f"invalid token: `{claim}` must be a list of strings")
    return frozenset(value)


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
