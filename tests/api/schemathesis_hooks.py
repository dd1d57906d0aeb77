"""Schemathesis hooks for tests/api/schemathesis.sh: keep the run's own login alive.

The run authenticates with one admin's API token. Every route stays in the run,
but a request that would revoke that token or demote or disable its user
(PATCH /api/v1/users/{id} on it, DELETE /api/v1/tokens/{id} on it) is sent to an
id that does not exist instead, so the rest of the run is not answered 401/403.
The ids come from the script (SHOFAR_ST_USER_ID, SHOFAR_ST_TOKEN_ID).
"""

import os

import schemathesis

USER_ID = os.environ.get("SHOFAR_ST_USER_ID", "")
TOKEN_ID = os.environ.get("SHOFAR_ST_TOKEN_ID", "")
# An id no row has: the request is still made and must answer 404.
ABSENT = 999_999_999

PROTECTED = {
    ("PATCH", "/api/v1/users/{id}"): USER_ID,
    ("DELETE", "/api/v1/tokens/{id}"): TOKEN_ID,
}


@schemathesis.hook
def before_call(context, case, kwargs):
    protected = PROTECTED.get((case.method.upper(), case.path))
    if protected and case.path_parameters and str(case.path_parameters.get("id")) == protected:
        case.path_parameters = {**case.path_parameters, "id": ABSENT}
