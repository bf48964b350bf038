"""Checks Porteiro's RFC 9068 access tokens as an independent resource server does: authlib's
JWTBearerTokenValidator (RFC 9068 §4) with the published JWKS. Exits non-zero, with the reason, on
the first disagreement.

Environment: PORTEIRO_URL, CLIENT_ID, CLIENT_SECRET, AUDIENCE (the default audience) and
OTHER_RESOURCE (another allowed resource). The client has the scopes `read` and `write`.
"""

import os
import sys

import requests
from authlib.oauth2.rfc6750.errors import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.jwk import KeySet


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


base = os.environ["PORTEIRO_URL"]
client = (os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
audience = os.environ["AUDIENCE"]
other = os.environ["OTHER_RESOURCE"]

metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())


class Validator(JWTBearerTokenValidator):
    def get_jwks(self):
        return jwks


def token(**form):
    answer = requests.post(metadata["token_endpoint"], auth=client, data=form, timeout=10)
    check(answer.status_code == 200, f"token endpoint: {answer.status_code} {answer.text}")
    return answer.json()["access_token"]


def accepted(validator, access, scopes=None):
    try:
        claims = validator.authenticate_token(access)
        validator.validate_token(claims, scopes, None)
        return claims
    except (InvalidTokenError, InsufficientScopeError):
        return None


here = Validator(issuer=base, resource_server=audience)
there = Validator(issuer=base, resource_server=other)

access = token(grant_type="client_credentials", scope="read")
claims = accepted(here, access, ["read"])
check(claims is not None, "a token for the default audience was refused where it belongs")
check(claims.header["typ"] == "at+jwt", f"typ {claims.header.get('typ')!r}")
check(claims["client_id"] == client[0], "client_id claim")
check(claims["sub"] == client[0], "sub claim")
check(accepted(here, access, ["write"]) is None, "a scope the token lacks was granted")
check(accepted(there, access) is None, "a token for another audience was accepted")

access = token(grant_type="client_credentials", resource=other)
check(accepted(there, access, ["read", "write"]) is not None, "a token for the resource asked for")
check(accepted(here, access) is None, "a token for a resource was accepted at the default audience")

# The integration dialect's token is a plain JWT with no audience: no RFC 9068 resource server
# takes it for an access token.
dialect = requests.post(
    f"{base}/auth", json={"consumer_key": client[0], "secret_key": client[1]}, timeout=10
).json()["access_token"]
check(accepted(here, dialect) is None, "a typ: JWT token without aud was accepted")

print("ok")
