"""Who is calling, in what role, for which districts and grids: bearer JWTs.

Two ways to verify a token (an `Authenticator`): `SharedSecret` (HS256 signed
with a secret the engine holds: the demo and the tests) and the provider's keys
(`api/http/provider_tokens.py`: RS256/ES256 against its JWKS). Both hand the
verified claims to `principal_of`, the one mapping of claims to a `Principal`,
driven by a `ClaimMap` (the OIDC_* settings for the provider's tokens).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import jwt

from domain.events import Actor, Role
from domain.scope import EVERYWHERE, Scope

# The engine's own role: no token carries it.
TOKEN_ROLES = frozenset(Role) - {Role.SYSTEM}

ISSUER = "gridgov"
MAX_NAME = 200  # an id, a district's or a grid's name
MAX_NAMES = 1000  # districts or grids one token may name


class Unauthenticated(Exception):
    """No token, or one that is not ours, or expired: 401. `code` is the problem's type."""

    def __init__(self, message: str, code: str = "unauthenticated") -> None:
        super().__init__(message)
        self.code = code


class ClaimsUnmapped(Unauthenticated):
    """A token signed as it should be whose claims name no person of the engine: 401."""

    def __init__(self, message: str) -> None:
        super().__init__(f"the token's claims do not map: {message}", "token-claims-unmapped")


class ProviderUnavailable(Exception):
    """The identity provider could not be reached while one of its keys was needed: 503,
    not a 401 (the token may be good) and not a 500."""


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


class Authenticator(Protocol):
    """Verifies a bearer token: the caller, or Unauthenticated (or ProviderUnavailable)."""

    # True when HS256 tokens of the demo's or the tests' secret are taken (POST /auth/token-session).
    accepts_shared_secret: bool

    def verify(self, token: str) -> Principal: ...

    def known(self, token: str) -> Principal | None:
        """The caller of a token verified before and not expired, else None: no signature
        checked, no key fetched, so it may be asked on the event loop."""
        ...


@dataclass(frozen=True)
class ClaimMap:
    """Where in a token's claims the engine finds its person. Each claim is a name or a
    dotted path into nested objects (`realm_access.roles`); `roles` maps the provider's
    role names to the engine's (empty: the engine's own names)."""

    role: str = "role"
    districts: str = "districts"
    grids: str = "grids"
    id: str = "sub"
    roles: Mapping[str, Role] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> ClaimMap:
        return cls(role=settings.OIDC_ROLE_CLAIM, districts=settings.OIDC_DISTRICTS_CLAIM,
                   grids=settings.OIDC_GRIDS_CLAIM, id=settings.OIDC_ID_CLAIM, roles=role_map(settings.OIDC_ROLE_MAP))


def role_map(text: str) -> dict[str, Role]:
    """`wg-officer=grid_officer,wg-admin=district_admin` as a dict; ValueError naming the bad pair."""
    roles: dict[str, Role] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        theirs, _, ours = (part.strip() for part in pair.partition("="))
        if not theirs or ours not in {r.value for r in TOKEN_ROLES}:
            raise ValueError(f"OIDC_ROLE_MAP: `{pair}` is not provider-role=engine-role "
                             f"(one of {', '.join(sorted(TOKEN_ROLES))})")
        roles[theirs] = Role(ours)
    return roles


def principal_of(claims: Mapping[str, Any], claims_map: ClaimMap) -> Principal:
    """The person verified claims name, or ClaimsUnmapped saying which claim held what.
    Claims of the wrong type are refused here, so nothing after may trip over them."""
    role = _role(claims, claims_map)
    held = _claim(claims, claims_map.id)
    if held is None and claims_map.id != "sub":
        held = claims.get("sub")  # the provider's own id when it carries none of the engine's
    if not isinstance(held, str) or not held.strip() or len(held) > MAX_NAME:
        raise ClaimsUnmapped(f"the person's id ({claims_map.id}, else sub) must be a non-empty text of at most "
                             f"{MAX_NAME} characters; it held {_shown(held)}")
    if role in (Role.RIDER, Role.PARTNER) and not _is_uuid(held):
        raise ClaimsUnmapped(f"a {role}'s id ({claims_map.id}) is the {role}'s UUID in the engine; "
                             f"it held {_shown(held)}")
    return Principal(sub=held, role=role, districts=_names(claims, claims_map.districts),
                     grids=_names(claims, claims_map.grids))


def _role(claims: Mapping[str, Any], claims_map: ClaimMap) -> Role:
    value = _claim(claims, claims_map.role)
    if value is None:
        raise ClaimsUnmapped(f"the token names no role of the engine: {claims_map.role} is missing")
    named = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if named is None or not all(isinstance(v, str) for v in named):
        raise ClaimsUnmapped(f"{claims_map.role} must be a role's name or a list of them; it held {_shown(value)}")
    ours = {claims_map.roles[v] if claims_map.roles else Role(v) for v in named
            if (v in claims_map.roles if claims_map.roles else v in {r.value for r in TOKEN_ROLES})}
    if len(ours) != 1:
        how = "no role" if not ours else f"{len(ours)} roles ({', '.join(sorted(ours))})"
        raise ClaimsUnmapped(f"the token names {how} of the engine where it must name one: "
                             f"{claims_map.role} held {_shown(value)}")
    return ours.pop()


def _names(claims: Mapping[str, Any], path: str) -> frozenset[str]:
    value = _claim(claims, path)
    if value is None:
        return frozenset()
    # A list even of one, as the HS256 tokens' always were: a lone string (a provider's attribute
    # not marked multivalued) is refused, so a mapper set up wrong shows at the first sign-in.
    names = value
    if (not isinstance(names, list) or len(names) > MAX_NAMES
            or not all(isinstance(v, str) and v.strip() and len(v) <= MAX_NAME for v in names)):
        raise ClaimsUnmapped(f"{path} must be a list of names; it held {_shown(value)}")
    return frozenset(names)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named `path`, else the one its dots lead to (a namespaced claim such as
    `https://city.example/role` is a name with dots of its own)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


class Verified:
    """Principals of tokens already verified, by the whole token, each until its `exp`
    (an hour at most): a signature is checked once per token, not once per request (RS256
    costs more than HS256). Keyed by the whole token, never by its signature alone, so a
    token whose claims were changed is a miss. Bounded; thread-safe."""

    def __init__(self, size: int = 4096, clock: Any = time.time, longest_s: float = 3600) -> None:
        self.size, self.clock, self.longest_s = size, clock, longest_s
        self._held: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            held = self._held.get(token)
            if held is None:
                return None
            if held[0] <= self.clock():
                del self._held[token]
                return None
            self._held.move_to_end(token)
            return held[1]

    def put(self, token: str, exp: int | float, who: Principal) -> None:
        """Kept until `exp`, a number as the token gave it (10**400 is one: compared, never
        turned into a float)."""
        until = min(exp, self.clock() + self.longest_s)
        with self._lock:
            self._held[token] = (until, who)
            self._held.move_to_end(token)
            while len(self._held) > self.size:
                self._held.popitem(last=False)


class SharedSecret:
    """HS256 tokens signed with a secret the engine holds (`mint`): for `--demo` and the tests."""

    accepts_shared_secret = True
    CLAIMS = ClaimMap()

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.verified = Verified()

    def known(self, token: str) -> Principal | None:
        return self.verified.get(token)

    def verify(self, token: str) -> Principal:
        if (who := self.verified.get(token)) is not None:
            return who
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["sub", "exp", "iss"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired: sign in again") from None
        except jwt.PyJWTError as e:
            raise Unauthenticated(f"invalid token: {e}") from None
        who = principal_of(claims, self.CLAIMS)
        if isinstance(claims["exp"], (int, float)):
            self.verified.put(token, claims["exp"], who)
        return who


class EitherOf:
    """`gridgov serve --demo --oidc`: the provider's tokens and the demo's HS256 ones,
    each to its own verifier by the algorithm its header names."""

    accepts_shared_secret = True

    def __init__(self, provider: Authenticator, demo: SharedSecret) -> None:
        self.provider, self.demo = provider, demo

    def known(self, token: str) -> Principal | None:
        return self.demo.known(token) or self.provider.known(token)

    def verify(self, token: str) -> Principal:
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as e:
            raise Unauthenticated(f"invalid token: {e}") from None
        return (self.demo if alg == "HS256" else self.provider).verify(token)


def bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthenticated."""
    if not header or not header.lower().startswith("bearer ") or not header[7:].strip():
        raise Unauthenticated("send Authorization: Bearer <token>")
    return header[7:].strip()


def mint(secret: str, sub: str, role: Role, districts: list[str] = (), grids: list[str] = (),  # type: ignore[assignment]
         ttl_s: int = 12 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "sub": sub, "role": role.value, "districts": list(districts),
                       "grids": list(grids), "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")


def decode(secret: str, header: str | None) -> Principal:
    """The caller of an `Authorization` header with an HS256 token of `secret`, or Unauthenticated (401)."""
    return SharedSecret(secret).verify(bearer(header))
