"""The identity provider's access tokens, verified against the keys it publishes.

The provider (Keycloak, or any OpenID Connect provider) signs with RS256 or ES256;
its discovery document (`<issuer>/.well-known/openid-configuration`) names its JWKS,
fetched once and kept. A token signed by a key not yet known (a rotation) fetches
the keys again, but no more often than once per OIDC_JWKS_REFETCH_S: a flood of
made-up `kid`s is one fetch, not a flood. `iss`, `aud`, `exp` (and `nbf` when
present) are checked, with OIDC_LEEWAY_S of clock skew. A provider that cannot be
reached while a key is needed is ProviderUnavailable (503), not a 401.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import httpx
import jwt

from api.http.auth import (Authenticator, ClaimMap, EitherOf, Principal, ProviderUnavailable, SharedSecret,
                           Unauthenticated, Verified, principal_of)

# The only algorithms taken, each with the key type it needs: never `none`, never HS256
# (whose "secret" an attacker would pick as the public key's bytes).
ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}
TIMEOUT = httpx.Timeout(3.0, connect=2.0)


class ProviderTokens:
    accepts_shared_secret = False

    def __init__(self, issuer: str, audience: str, claims: ClaimMap, leeway_s: float = 30,
                 refetch_s: float = 10, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.issuer, self.audience, self.claims = issuer.rstrip("/"), audience, claims
        self.leeway_s, self.refetch_s, self.clock = leeway_s, refetch_s, clock
        self.http = http or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self.verified = Verified()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None  # the last attempt, whether it reached the provider or not
        self._reached = True
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> ProviderTokens:
        return cls(settings.OIDC_ISSUER, settings.OIDC_AUDIENCE, ClaimMap.from_settings(settings),
                   settings.OIDC_LEEWAY_S, settings.OIDC_JWKS_REFETCH_S, **kwargs)

    def known(self, token: str) -> Principal | None:
        return self.verified.get(token)

    def verify(self, token: str) -> Principal:
        if (who := self.verified.get(token)) is not None:
            return who
        alg, kid = self._header(token)
        key = self._key(kid, alg)
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway_s, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired: sign in again") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet (nbf or iat in the future beyond the clock skew "
                                  "allowed)") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"the token is not meant for this engine: its aud does not name "
                                  f"{self.audience}") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated(f"the token was not issued by {self.issuer}") from None
        except jwt.PyJWTError as e:
            raise Unauthenticated(f"invalid token: {e}") from None
        who = principal_of(claims, self.claims)
        self.verified.put(token, claims["exp"] + self.leeway_s, who)
        return who

    @staticmethod
    def _header(token: str) -> tuple[str, str | None]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise Unauthenticated(f"invalid token: {e}") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise Unauthenticated(f"a token signed with {alg!r} is not taken: only the identity provider's "
                                  f"{' or '.join(ALGORITHMS)} tokens are")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("invalid token: its kid is not a text")
        return alg, kid

    def _key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        """The provider's key of that id, fetched again (within the bound) when not yet known."""
        key = self._known(kid)
        if key is None:
            with self._lock:  # one fetch at a time; those who waited find its keys
                key = self._known(kid)
                if key is None and self._may_fetch():
                    self._fetch()
                    key = self._known(kid)
            if key is None and not self._reached:
                raise ProviderUnavailable(f"the identity provider at {self.issuer} could not be reached for its "
                                          "signing keys; try again shortly")
            if key is None:
                raise Unauthenticated(f"the token was signed with a key the identity provider does not publish "
                                      f"(kid {kid!r})")
        if ALGORITHMS[alg] != key.key_type or key.algorithm_name != alg:
            raise Unauthenticated(f"the token says {alg} but its key (kid {kid!r}) is for {key.algorithm_name}")
        return key

    def _known(self, kid: str | None) -> jwt.PyJWK | None:
        keys = self._keys
        if kid is None:  # a provider with one signing key may leave kid out
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.refetch_s

    def _fetch(self) -> None:
        self._fetched_at = self.clock()
        try:
            if self._jwks_uri is None:
                self._jwks_uri = self._discover()
            response = self.http.get(self._jwks_uri)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as e:
            self._reached = False
            raise ProviderUnavailable(f"the identity provider at {self.issuer} could not be reached for its signing "
                                      f"keys ({type(e).__name__}); try again shortly") from None
        self._reached = True
        self._keys = signing_keys(document)

    def _discover(self) -> str:
        document = self.http.get(f"{self.issuer}/.well-known/openid-configuration")
        document.raise_for_status()
        found = document.json()
        if not isinstance(found, dict):
            raise ValueError("the discovery document is not an object")
        issuer = found.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            raise ValueError(f"the discovery document names another issuer: {issuer!r}")
        uri = found.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document names no jwks_uri")
        return uri


def signing_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The RS256 and ES256 signing keys of a JWKS by their kid; others (encryption keys,
    symmetric ones, algorithms not taken) left out."""
    keys: dict[str, jwt.PyJWK] = {}
    published = document.get("keys") if isinstance(document, dict) else None
    for jwk in published if isinstance(published, list) else []:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("RSA", "EC"):
            continue
        alg = jwk.get("alg") or ("RS256" if jwk["kty"] == "RSA" else "ES256")
        if not isinstance(alg, str) or alg not in ALGORITHMS or ALGORITHMS[alg] != jwk["kty"] or jwk["kty"] == "EC" and jwk.get("crv") != "P-256":
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):  # a key that cannot be read is not one
            continue
        keys[str(jwk.get("kid", ""))] = key
    return keys


# `gridgov serve --demo --oidc` without OIDC_ISSUER: the local Keycloak of scripts/keycloak.sh and
# its realm's pages client (scripts/keycloak/gridgov-realm.json), a secret for development only.
LOCAL_KEYCLOAK = {"OIDC_ISSUER": "http://127.0.0.1:18080/realms/gridgov",
                  "OIDC_CLIENT_SECRET": "gridgov-pages-dev-secret"}


def trusted(settings: Any, shared_secret: str | None) -> Authenticator:
    """Whose tokens the API takes: with OIDC_ISSUER, the provider's alone, and HS256 ones of
    `shared_secret` beside them only when given (the demo); without, HS256 of `shared_secret`."""
    if not settings.OIDC_ISSUER:
        if not shared_secret:
            raise ValueError("neither OIDC_ISSUER nor a signing secret: no token could be verified")
        return SharedSecret(shared_secret)
    provider = ProviderTokens.from_settings(settings)
    return EitherOf(provider, SharedSecret(shared_secret)) if shared_secret else provider
