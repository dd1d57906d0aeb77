#!/usr/bin/env bash
# `make run`: sets up a demo box in var/ (the development data directory) — a
# campaign with a few thousand generated Israeli contacts and a do-not-call list —
# and runs the supervisor on it with the simulated network (nobody is called).
# Safe to run again: existing demo data is kept, and the campaign resumes.
set -euo pipefail
shofar="$1"
gen="$(dirname "$shofar")/shofar-gen"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${SHOFAR_DATA_DIR:-$root/var}"
listen="${SHOFAR_LISTEN:-127.0.0.1:8080}"
demo="$data/demo"
mkdir -p "$demo"
s=("$shofar" --data-dir "$data")

if ! "${s[@]}" campaign list --json | grep -q '"name": "demo"'; then
  echo "Creating demo data in $data ..."
  "$gen" contacts --rows 3000 --seed 7 --format xlsx --out "$demo/demo-contacts.xlsx"
  "${s[@]}" blacklist add 052-5551234 03-6123456 \
    --reason "demo: asked not to be called" --source user_optout
  # Windows open around the clock: the simulator calls nobody, so the demo shows
  # activity whatever the day and hour (a real campaign keeps Shabbat).
  "${s[@]}" campaign create --file "$root/tests/demo/campaign.toml"
  "${s[@]}" import "$demo/demo-contacts.xlsx" --campaign demo
  "${s[@]}" campaign start demo --reason "demo data"
fi

cat <<MSG

Shofar is running with demo data (data directory: $data), dialing the simulated
network: answers, busy lines, keys pressed and opt-outs are made up; nobody is called.

The web UI and its API are at http://$listen/ (docs/api.md). The first time, create
your admin with the one-time link printed below, or in another terminal:
  $shofar --data-dir $data user add YOUR-NAME --role admin
then log in, e.g. with curl (docs/api.md, "Logging in"), and watch the figures live:
  curl -s -c jar -X POST http://$listen/api/v1/session -H 'Content-Type: application/json' \\
       -d '{"name": "YOUR-NAME", "password": "…"}'
  curl -s -b jar http://$listen/api/v1/status

In another terminal, watch it work:
  $shofar --data-dir $data campaign show demo     # contacts reached, due, in a call
  $shofar --data-dir $data calls list --limit 20  # the latest calls and their outcomes
  $shofar --data-dir $data pacing log             # every change of pace, and why
  curl -s http://$listen/metrics | grep ^shofar   # Prometheus figures
  $shofar --data-dir $data campaign pause demo    # the supervisor stops dialing it
  $shofar --data-dir $data blacklist add 052-5551235 --reason "asked"   # never dialed from now on

Ctrl-C stops it gracefully (calls up finish first); \`make run\` again resumes.
  $shofar --data-dir $data report demo --format pdf -o demo.pdf   # the report, in Hebrew
Real calls: \`make testbed-up\` runs Asterisk on loopback with sipp phones (README,
"Real calls").

MSG
exec "${s[@]}" serve --simulate --listen "$listen"
