"""The engine as the identity provider's client (OpenID Connect, confidential): the
provider's discovery document, the authorization URL (code flow, PKCE S256, state
and nonce), the code and refresh grants at its token endpoint, the id token's
checks, and the URL that ends the provider's session (RP-initiated logout).

PKCE and the URLs are Authlib's; the calls are plain httpx with short timeouts (the
sign-in waits on them), and the id token is checked with PyJWT against the
provider's keys."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from api.http.auth import ProviderUnavailable

TIMEOUT_S = 5.0
DISCOVERY_TTL_S = 3600


class ProviderDown(ProviderUnavailable):
    """The provider could not be reached, or answered with something not OAuth: 503."""


class GrantRefused(Exception):
    """The provider answered a grant with an OAuth error (a code used twice, a refresh
    token of a disabled account or an ended session)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


class BadIdToken(Exception):
    """The id token is not the provider's, not for us, or not of this sign-in (nonce)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: float
    refresh_token: str | None
    id_token: str | None


class ProviderClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str, leeway_s: int = 30,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.issuer, self.client_id, self.client_secret = issuer.rstrip("/"), client_id, client_secret
        self.leeway_s, self.timeout_s = leeway_s, timeout_s
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> ProviderClient | None:
        """The pages' client of the configured provider (OIDC_*), or None without one."""
        if not settings.OIDC_ISSUER:
            return None
        return cls(settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET, settings.OIDC_LEEWAY_S)

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata[0] > DISCOVERY_TTL_S:
                found = self._json("GET", f"{self.issuer}/.well-known/openid-configuration")
                if found.get("issuer", "").rstrip("/") != self.issuer:
                    raise ProviderDown(f"the provider's discovery document names another issuer: {found.get('issuer')}")
                self._metadata = (time.monotonic(), found)
                self._keys = jwt.PyJWKClient(found["jwks_uri"], cache_keys=True, lifespan=DISCOVERY_TTL_S,
                                             timeout=self.timeout_s)
            return self._metadata[1]

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        return add_params_to_uri(self.metadata()["authorization_endpoint"], [
            ("response_type", "code"), ("client_id", self.client_id), ("redirect_uri", redirect_uri),
            ("scope", "openid"), ("state", state), ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(verifier)), ("code_challenge_method", "S256")])

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        return self._grant({"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                            "redirect_uri": redirect_uri})

    def refresh(self, refresh_token: str) -> Tokens:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The id token's claims: signed by the provider, issued by it, for this client, of this sign-in."""
        self.metadata()
        assert self._keys is not None
        try:
            key = self._keys.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(id_token, key.key, algorithms=["RS256", "ES256"], audience=self.client_id,
                                issuer=self.issuer, leeway=self.leeway_s, options={"require": ["exp", "iat", "sub"]})
        except jwt.PyJWKClientConnectionError as e:
            raise ProviderDown(f"the provider's keys could not be fetched: {e}") from None
        except jwt.PyJWTError as e:
            raise BadIdToken(f"the id token was refused: {e}") from None
        if claims.get("nonce") != nonce:
            raise BadIdToken("the id token is not of this sign-in (its nonce differs)")
        return claims

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        params = [("client_id", self.client_id), ("post_logout_redirect_uri", post_logout_redirect_uri)]
        return add_params_to_uri(endpoint, params + ([("id_token_hint", id_token)] if id_token else []))

    def _grant(self, form: dict[str, str]) -> Tokens:
        # A confidential client authenticates (client_secret_basic); a public one names itself, PKCE its proof.
        secret = {"auth": (self.client_id, self.client_secret)} if self.client_secret else {}
        answer = self._json("POST", self.metadata()["token_endpoint"],
                            data=form if self.client_secret else {**form, "client_id": self.client_id}, **secret)
        if "access_token" not in answer:
            raise ProviderDown("the provider's token endpoint answered without an access token")
        return Tokens(access_token=answer["access_token"],
                      expires_at=time.time() + float(answer.get("expires_in") or 60),
                      refresh_token=answer.get("refresh_token"), id_token=answer.get("id_token"))

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = httpx.request(method, url, timeout=self.timeout_s, **kwargs)
        except httpx.HTTPError as e:
            raise ProviderDown(f"the identity provider could not be reached: {type(e).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderDown(f"the identity provider answered {response.status_code} without JSON")
        if response.status_code >= 400:
            if "error" in body and response.status_code < 500:
                raise GrantRefused(str(body["error"]), str(body.get("error_description", "")))
            raise ProviderDown(f"the identity provider answered {response.status_code}")
        return body
