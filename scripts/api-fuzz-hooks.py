"""Schemathesis hooks for scripts/api-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

1. A session for the `/api/v1/session…` calls, so that their answers (Session, MfaEnrollment,
   RecoveryCodes) are fuzzed and checked too, not only their 401. The demo member `sam` logs in
   once with a password, and the session serves the whole run: DELETE /session is fuzzed without
   it (a logout answers the same either way), so no fuzzed call ends it. Logging in again would
   not be safe: the fuzzer learns `sam` from the session's answers and tries passwords for it
   until a lock after failed logins stops every login; the member's own session goes on. Should
   the session still end, the next call logs in again, with the password a fuzzed
   `POST /session/password` set.
2. The failures that are not the document's fault, because they hang on something no JSON
   Schema can say:
   - a schema-valid request refused with a 400 whose problem code says the refusal depends on
     what the data is, not its form (a common or guessable password, a code that expired, a
     login method the Organization does not enable);
   - a username whose Unicode NFKC form, which the server checks, differs from it in what the
     rule says (`ﬃ` is `ffi`: a name can pass the pattern and be too long after NFKC, or fail it
     and pass after), when nothing else in the request is off.
   Each one dropped is written to API_FUZZ_NOTES, and the script prints them. Every other
   failure stays a failure.
"""

import json
import os
import re
import unicodedata

import requests
import schemathesis

BASE = os.environ["API_FUZZ_BASE"]  # http://127.0.0.1:PORT
ORIGIN = os.environ["API_FUZZ_ORIGIN"]
NOTES = os.environ.get("API_FUZZ_NOTES")
COOKIE = "__Host-member-login-session"
USERNAME = "sam"
HEADERS = {"x-member-login": "1", "Origin": ORIGIN}

# The session's state, shared by the auth provider and the after_call hook.
state = {"password": os.environ.get("API_FUZZ_PASSWORD", "quiet-meadow-compass"), "token": None}


def log_in() -> str:
    flow = requests.post(
        f"{BASE}/api/v1/flows",
        json={"organization": "demo", "username": USERNAME},
        headers=HEADERS,
        timeout=30,
    )
    flow.raise_for_status()
    answer = requests.post(
        f"{BASE}/api/v1/flows/{flow.json()['id']}/password",
        json={"password": state["password"]},
        headers=HEADERS,
        timeout=30,
    )
    answer.raise_for_status()
    # The cookie is Secure, so requests' cookie jar keeps it from plain http: read the header.
    for part in answer.headers.get("set-cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    raise RuntimeError(f"no session cookie after logging in as {USERNAME}")


# Logged in before any fuzzing, while no lock can be in the way.
state["token"] = log_in()


@schemathesis.auth(refresh_interval=None).apply_to(path_regex=r"^/api/v1/session").skip_for(method="DELETE")
class Session:
    def get(self, case, ctx):
        if state["token"] is None:
            state["token"] = log_in()
        return state["token"]

    def set(self, case, token, ctx):
        case.cookies = {**(case.cookies or {}), COOKIE: token}


def _problem(response):
    try:
        body = response.json()
    except Exception:
        return None
    return body if isinstance(body, dict) else None


@schemathesis.hook
def after_call(context, case, response):
    if not case.path.startswith("/api/v1/session"):
        return
    sent = (case.cookies or {}).get(COOKIE)
    if sent is None or sent != state["token"]:
        return
    if response.status_code == 401 and (_problem(response) or {}).get("code") == "unauthenticated":
        state["token"] = None
    elif (
        case.path == "/api/v1/session/password"
        and response.status_code == 200
        and isinstance(case.body, dict)
        and isinstance(case.body.get("new_password"), str)
    ):
        state["password"] = case.body["new_password"]


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "openapi.json")) as doc:
    ORGANIZATION_KEY = json.load(doc)["components"]["schemas"]["OrganizationKey"]["pattern"]

# The username rule of member_login_api::flow::normalize_username, for the NFKC form.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\x00-\x1f\x7f-\x9f]"
)


def username_ok(raw):
    name = raw.strip(WHITE_SPACE)
    return 0 < len(name) <= 64 and not INVISIBLE.search(name)


def nfkc_decides(case):
    """Whether the username's NFKC form and the form as sent disagree on the rule, and nothing
    else in the body is off (an Organization key, as the schema says it, and no other field)."""
    body = case.body
    if case.path == "/api/v1/flows/{id}/username":
        fields = {"username"}
    elif case.path == "/api/v1/flows":
        fields = {"organization", "username"}
        org = body.get("organization") if isinstance(body, dict) else None
        if not isinstance(org, str) or not re.search(ORGANIZATION_KEY, org):
            return False
    else:
        return False
    if not isinstance(body, dict) or not set(body) <= fields or not isinstance(body.get("username"), str):
        return False
    raw = body["username"]
    return username_ok(raw) != username_ok(unicodedata.normalize("NFKC", raw))


def note(line):
    if NOTES:
        with open(NOTES, "a") as notes:
            notes.write(line + "\n")


# 400 problem codes that depend on the data's meaning or the server's state, never on its form.
DATA_DEPENDENT = {"code_expired", "method_not_enabled"}
# Password rules a schema can state (minLength, maxLength); the others it cannot.
LENGTH_RULES = {"too_short", "too_long"}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    kind = type(failure).__name__
    problem = _problem(response) or {}
    code = problem.get("code")
    if kind == "RejectedPositiveData" and response.status_code == 400:
        rules = problem.get("rules") or []
        if code in DATA_DEPENDENT or (
            code == "password_rejected" and rules and not set(rules) & LENGTH_RULES
        ):
            detail = f" {sorted(rules)}" if rules else ""
            note(f"{case.method} {case.path}: schema-valid, 400 {code}{detail}")
            return False
        if code == "invalid_username" and nfkc_decides(case):
            note(f"{case.method} {case.path}: schema-valid, 400 invalid_username after NFKC")
            return False
    if kind == "AcceptedNegativeData" and response.status_code < 300 and nfkc_decides(case):
        note(f"{case.method} {case.path}: schema-invalid username, accepted after NFKC")
        return False
    return True
