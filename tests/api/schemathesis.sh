#!/usr/bin/env bash
# tests/api/schemathesis.sh SHOFAR_BINARY — `make test-api-schema`.
#
# schemathesis against a live box: `shofar serve --simulate` on a fresh data
# directory (a demo campaign of a few hundred generated contacts dialing the
# simulated network, a draft campaign, a do-not-call list, a prompt, an IVR flow,
# an admin with an API token), then every operation of /api/v1/openapi.json with
# generated valid and invalid requests. A response fails the run if it is a 5xx,
# or if its status, content type or body contradicts the document.
#
# Left out: GET /api/v1/live only (a WebSocket: schemathesis speaks plain HTTP;
# appliance/shofar/tests/api_live.rs covers it). Every other route stays in, the
# destructive ones too; schemathesis_hooks.py keeps the run's own token and its
# user alive (see there).
#
# schemathesis is installed from PyPI into a venv outside the clone
# ($SHOFAR_CACHE/venv-schemathesis), rebuilt when missing or of another version.
# SCHEMATHESIS_EXAMPLES (default 100) sets the examples per operation and phase.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

shofar="$(realpath "${1:?usage: tests/api/schemathesis.sh SHOFAR_BINARY}")"
gen="$(dirname "$shofar")/shofar-gen"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SHOFAR_CACHE:-$HOME/.cache/shofar}"
venv="$cache/venv-schemathesis"
examples="${SCHEMATHESIS_EXAMPLES:-100}"

say() { echo "schemathesis.sh: $*" >&2; }
die() { say "$*"; exit 2; }

[[ -x "$gen" ]] || die "$gen is missing: build it (cargo build -p shofar-testdata) next to $shofar"

# --- schemathesis, pinned, in a cached venv ---------------------------------
if ! "$venv/bin/st" --version 2>/dev/null | grep -qx "st, version $SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 needs python3-venv for `python3 -m venv`.
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      rm -rf "$venv"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      die "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
    fi
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- a fresh box --------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/shofar-schemathesis.XXXXXX")"
data="$work/data"
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status != 0 && -s "$work/serve.log" ]]; then
    say "the server's log (last 40 lines):"
    tail -n 40 "$work/serve.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/shofar.toml" <<EOF
[dialer]
backend = "simulator"
grace_seconds = 1

[asterisk]
sounds_dir = "$work/sounds"

[simulator]
# Calls of a few seconds: call records exist within seconds of the start.
time_scale = 10.0

[log]
level = "warn"
EOF
export SHOFAR_CONFIG="$work/shofar.toml"
unset SHOFAR_DATA_DIR
s=("$shofar" --data-dir "$data")

"$gen" contacts --rows 400 --seed 7 --out "$work/contacts.csv" >/dev/null 2>&1
"${s[@]}" blacklist add 052-5551234 03-6123456 --reason "schemathesis" --source user_optout >/dev/null
"${s[@]}" campaign create --file "$root/tests/demo/campaign.toml" >/dev/null
"${s[@]}" import "$work/contacts.csv" --campaign demo >/dev/null
"${s[@]}" campaign start demo --reason "schemathesis" >/dev/null
# A second campaign left as a draft: the routes that change a draft have one.
sed 's/^name = "demo"/name = "draft"/' "$root/tests/demo/campaign.toml" >"$work/draft.toml"
"${s[@]}" campaign create --file "$work/draft.toml" >/dev/null
"${s[@]}" import "$work/contacts.csv" --campaign draft >/dev/null
python3 - "$work/tone.wav" <<'EOF'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as out:
    out.setnchannels(1); out.setsampwidth(2); out.setframerate(8000)
    out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(8000)))
EOF
"${s[@]}" audio add menu "$work/tone.wav" >/dev/null
echo 'correct horse battery' | "${s[@]}" user add schemathesis --role admin --password-stdin >/dev/null 2>&1
token="$("${s[@]}" user token schemathesis --label schemathesis 2>/dev/null)"
# A spare token and a spare user: what revoking, changing and removing may hit.
"${s[@]}" user token schemathesis --label spare >/dev/null 2>&1
echo 'correct horse battery' | "${s[@]}" user add spare --role manager --password-stdin >/dev/null 2>&1

# --- the server -----------------------------------------------------------------
"${s[@]}" serve --simulate --listen 127.0.0.1:0 --quiet >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
base=""
for _ in $(seq 300); do
  kill -0 "$server_pid" 2>/dev/null || die "shofar serve exited at start"
  base="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n 1 || true)"
  [[ -n "$base" ]] && break
  sleep 0.1
done
[[ -n "$base" ]] || die "shofar serve printed no address within 30 s"

# Small HTTP client (python3: no curl needed): api METHOD PATH [JSON] prints the body.
api() {
  python3 - "$base" "$token" "$@" <<'EOF'
import sys, urllib.request
base, token, method, path = sys.argv[1:5]
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
request = urllib.request.Request(base + path, data=body, method=method)
request.add_header("Authorization", "Bearer " + token)
if body is not None:
    request.add_header("Content-Type", "application/json")
with urllib.request.urlopen(request, timeout=10) as response:
    sys.stdout.write(response.read().decode())
EOF
}
json() { python3 -c "import json, sys; data = json.load(sys.stdin); print($1)"; }

for _ in $(seq 100); do
  api GET /healthz 2>/dev/null | grep -q '"status":"ok"' && break
  sleep 0.1
done
api GET /healthz | grep -q '"status":"ok"' || die "/healthz is not ok"
say "shofar serve (pid $server_pid) at $base"

flow="$(python3 -c 'import json, sys; print(json.dumps({"name": "schemathesis", "definition": json.load(open(sys.argv[1]))}))' \
  "$root/appliance/ivr/flows/default.json")"
flow_id="$(api POST /api/v1/flows "$flow" | json 'data["id"]')"
user_id="$(api GET /api/v1/session | json 'data["user"]["id"]')"
token_id="$(api GET /api/v1/tokens | json '[t["id"] for t in data if t["name"] == "schemathesis"][0]')"
token_ids="$(api GET /api/v1/tokens | json '",".join(str(t["id"]) for t in data)')"
user_ids="$(api GET /api/v1/users | json '",".join(str(u["id"]) for u in data)')"
# Wait for a few call records, so /calls/{call_id} has ids to find.
call_ids=""
for _ in $(seq 300); do
  call_ids="$(api GET '/api/v1/calls?per_page=5' | json '",".join(repr(c["call_id"]) for c in data["items"])')"
  [[ $(tr -cd ',' <<<"$call_ids" | wc -c) -ge 2 ]] && break
  sleep 0.1
done
[[ -n "$call_ids" ]] || die "no call was made within 30 s"
import_ids="$(api GET /api/v1/imports | json '",".join(str(i["id"]) for i in data)')"

# Real ids half of the time, generated ones the other half: routes with ids get
# past their 404 without losing the odd values. Periods: yesterday to tomorrow.
yesterday="$(date -u -d yesterday +%F)"
tomorrow="$(date -u -d tomorrow +%F)"
cat >"$work/schemathesis.toml" <<EOF
[dictionaries]
campaign = { values = [1, 2] }
campaigns = { values = ["1,2", "2,1"] }
from = { values = ["$yesterday"] }
to = { values = ["$tomorrow"] }
user = { values = [$user_ids] }
token = { values = [$token_ids] }
flow = { values = [$flow_id] }
import = { values = [$import_ids] }
call = { values = [$call_ids] }
number = { values = ["+972525551234", "03-6123456", "0525551234"] }
folder = { values = ["prompts"] }
prompt = { values = ["menu"] }

[parameters]
"query.from" = { dictionary = "from", probability = 0.5 }
"query.to" = { dictionary = "to", probability = 0.5 }

[[operations]]
include-path-regex = "^/api/v1/campaigns/"
parameters = { "path.id" = { dictionary = "campaign", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/reports/"
parameters = { "query.campaigns" = { dictionary = "campaigns", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/users/"
parameters = { "path.id" = { dictionary = "user", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/tokens/"
parameters = { "path.id" = { dictionary = "token", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/flows/"
parameters = { "path.id" = { dictionary = "flow", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/imports/"
parameters = { "path.id" = { dictionary = "import", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/calls/"
parameters = { "path.call_id" = { dictionary = "call", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/blacklist/"
parameters = { "path.number" = { dictionary = "number", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/audio/"
parameters = { "path.folder" = { dictionary = "folder", probability = 0.5 }, "path.name" = { dictionary = "prompt", probability = 0.5 } }
EOF

# --- the run ---------------------------------------------------------------------
# One worker: with two, hypothesis's ast.parse from several threads trips a
# CPython 3.11 bug ("AST constructor recursion depth mismatch") now and then.
say "running schemathesis $SCHEMATHESIS_VERSION ($examples examples per operation)"
status=0
SHOFAR_ST_USER_ID="$user_id" SHOFAR_ST_TOKEN_ID="$token_id" \
  SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py" \
  "$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /api/v1/live \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$examples" \
  --workers 1 \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  --output-truncate false ${SCHEMATHESIS_ARGS:-} || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  say "shofar serve died during the run"
  status=1
elif grep -q '"request failed"\|request failed' "$work/serve.log"; then
  say "the server logged failed requests (5xx):"
  grep 'request failed' "$work/serve.log" | tail -n 20 >&2
fi
[[ $status == 0 ]] && say "passed" || say "FAILED (schemathesis exit status $status)"
exit "$status"
