#!/usr/bin/env bash
# `make run`: sets up a demo box in var/ (the development data directory) — a
# campaign with a few thousand generated Israeli contacts and a do-not-call list —
# and says what to try next. Safe to run again: existing demo data is kept.
set -euo pipefail
shofar="$1"
gen="$(dirname "$shofar")/shofar-gen"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${SHOFAR_DATA_DIR:-$root/var}"
demo="$data/demo"
mkdir -p "$demo"

if ! "$shofar" --data-dir "$data" campaign list --json | grep -q '"name": "demo"'; then
  echo "Creating demo data in $data ..."
  "$gen" contacts --rows 3000 --seed 7 --format xlsx --out "$demo/demo-contacts.xlsx"
  "$shofar" --data-dir "$data" blacklist add 052-5551234 03-6123456 \
    --reason "demo: asked not to be called" --source user_optout
  "$shofar" --data-dir "$data" campaign create --name demo --purpose informational \
    --caller-id 03-6123456
  "$shofar" --data-dir "$data" import "$demo/demo-contacts.xlsx" --campaign demo
  "$shofar" --data-dir "$data" campaign start demo --reason "demo data"
fi

cat <<MSG

Shofar is set up with demo data (data directory: $data).

Try:
  $shofar --data-dir $data campaign list
  $shofar --data-dir $data campaign show demo        # who would be dialed first
  $shofar --data-dir $data calendar --explain        # this week's calling times, Shabbat blocked
  $shofar --data-dir $data campaign create --file $root/docs/campaign.example.toml
  $shofar --data-dir $data blacklist check 052-5551234
  $shofar --data-dir $data import $demo/demo-contacts.xlsx --campaign demo-2 --create --json
  $shofar --help

Real calls: \`make testbed-up\` runs Asterisk on loopback with a sipp phone to call
(README, "Real calls"); then \`$shofar --config target/testbed/shofar.toml call 0525551234\`.

The supervisor (shofar serve) and the web UI arrive with their issues; until then
the CLI is the way in.
MSG
