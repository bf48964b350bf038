"""scripts/schemathesis's hooks: credentials, and real identifiers and tokens in some cases.

Credentials come from the environment the script sets after seeding the database. The owner's
bearer token is fetched by logging in, and fetched again after a 401: a generated request may end
the owner's own sessions (DELETE /api/v1/admin/users/{id}/sessions), which must not leave every
later admin request at 401. Some generated identifiers and tokens are swapped for real ones, so
that the run reaches past the 404s and 401s; the swap depends only on the generated value, so
hypothesis can replay and shrink a case.
"""

import base64
import json
import os
import urllib.request

import schemathesis

URL = os.environ["PORTEIRO_URL"]
ORG = os.environ["PORTEIRO_ORG"]
CLIENT = (os.environ["PORTEIRO_CLIENT_ID"], os.environ["PORTEIRO_CLIENT_SECRET"])
MEMBER_ID = int(os.environ["PORTEIRO_MEMBER_ID"])


def post_json(path, body):
    request = urllib.request.Request(
        URL + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def login(username, password):
    return post_json(f"/api/v1/auth/token/{ORG}/", {"username": username, "password": password})


@schemathesis.auth(refresh_interval=60).apply_to(path_regex="^/api/v1/(me|admin)")
class OwnerBearer:
    """An access token of the organization's owner."""

    def get(self, case, context):
        return login(os.environ["PORTEIRO_OWNER"], os.environ["PORTEIRO_OWNER_PASSWORD"])["access"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/oauth/")
class ClientBasic:
    """The integration's client credentials, as HTTP Basic (client_secret_basic)."""

    def get(self, case, context):
        return base64.b64encode(f"{CLIENT[0]}:{CLIENT[1]}".encode()).decode()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Basic {data}"


def real_token(path):
    """A token the operation at `path` may accept, fetched now (some are consumed by use)."""
    if path.startswith("/api/v1/auth/token-verify"):
        return login("member@example.com", "Member-Passw0rd!")["access"]
    if path.startswith("/api/v1/auth/"):
        return login("member@example.com", "Member-Passw0rd!")["refresh"]
    tokens = post_json("/auth", {"consumer_key": CLIENT[0], "secret_key": CLIENT[1]})
    if path.startswith("/oauth/introspect"):
        return tokens["access_token"]
    return tokens["refresh_token"]


TOKEN_FIELDS = {"token", "refresh", "refresh_token"}


@schemathesis.hook
def map_case(context, case):
    path = case.operation.path
    parameters = case.path_parameters or {}
    generated_id = parameters.get("id")
    if isinstance(generated_id, int) and generated_id % 2 == 0:
        parameters["id"] = MEMBER_ID
    if isinstance(case.body, dict):
        for field in TOKEN_FIELDS & case.body.keys():
            value = case.body[field]
            if isinstance(value, str) and len(value) % 2 == 0:
                case.body[field] = real_token(path)
    # A NUL byte, which PostgreSQL refuses in text, in some identifiers and filters: such a value
    # must match nothing, never fail (it once answered 500 on PostgreSQL).
    for name in ("sid", "key"):
        value = parameters.get(name)
        if isinstance(value, str) and len(value) % 3 == 0:
            parameters[name] = value + "\x00"
    query = case.query or {}
    for name in ("who", "kind"):
        value = query.get(name)
        if isinstance(value, str) and len(value) % 3 == 0:
            query[name] = value + "\x00"
    value = query.get("refresh_token")
    if path == "/auth" and isinstance(value, str) and len(value) % 2 == 0:
        query["refresh_token"] = real_token(path)
    return case
