"""Drives Porteiro with an independent OAuth 2 client (authlib) and verifies the tokens it issues
offline with the published JWKS. Exits non-zero, with the reason, on the first disagreement.

Environment: PORTEIRO_URL, CLIENT_ID, CLIENT_SECRET, EXPECTED_ALG.
"""

import os
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


base = os.environ["PORTEIRO_URL"]
client_id = os.environ["CLIENT_ID"]
client_secret = os.environ["CLIENT_SECRET"]
alg = os.environ["EXPECTED_ALG"]

metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
check(metadata["issuer"] == base, f"issuer {metadata['issuer']!r}")
token_endpoint = metadata["token_endpoint"]

tokens = []
for method in ("client_secret_basic", "client_secret_post"):
    session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method=method, scope="read")
    token = session.fetch_token(token_endpoint, grant_type="client_credentials")
    check(token["token_type"] == "Bearer", f"{method}: token_type {token['token_type']!r}")
    check("refresh_token" not in token, f"{method}: a refresh token was issued")
    check(token["scope"] == "read", f"{method}: scope {token.get('scope')!r}")
    tokens.append(token["access_token"])

jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
jwt = JsonWebToken([alg])
for access in tokens:
    claims = jwt.decode(access, jwks, claims_options={"iss": {"essential": True, "value": base}})
    claims.validate(now=int(time.time()))
    check(claims["client_id"] == client_id, "client_id claim")
    check(claims["token_type"] == "access", "token_type claim")
    check(claims["scope"] == "read", "scope claim")

# Tampering is caught by the independent verifier too.
header, payload, signature = tokens[0].split(".")
forged = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
try:
    jwt.decode(forged, jwks)
    check(False, "a tampered token verified")
except Exception:  # noqa: BLE001 - any refusal is right
    pass

session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
introspection = session.introspect_token(metadata["introspection_endpoint"], token=tokens[0]).json()
check(introspection["active"] is True, f"introspection {introspection}")
check(introspection["client_id"] == client_id, "introspected client_id")
revoked = session.revoke_token(metadata["revocation_endpoint"], token=tokens[0])
check(revoked.status_code == 200, f"revocation status {revoked.status_code}")
introspection = session.introspect_token(metadata["introspection_endpoint"], token=tokens[0]).json()
check(introspection == {"active": False}, f"after revocation {introspection}")

print("ok")
