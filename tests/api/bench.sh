#!/usr/bin/env bash
# tests/api/bench.sh SHOFAR_BINARY LIVE_FRESHNESS_BINARY — `make bench-api`.
#
# The HTTP API and the live figures under load, on a release build serving the
# demo campaign (3,000 generated contacts) dialing the simulated network:
#
# 1. live freshness with the API otherwise idle: the live_freshness example on
#    /api/v1/live for BENCH_LIVE_SECONDS (60);
# 2. wrk, BENCH_API_CONNECTIONS (50) connections for BENCH_API_SECONDS (30) on
#    each of a few authenticated GETs, one after another, while another
#    live_freshness watches the socket (freshness under that route's load).
#
# Prints wrk's output as it goes and, last, one JSON line with every figure and
# the machine. docs/benchmarks.md ("HTTP API and live figures") records a run.
# wrk comes from Debian's package (installed here when missing, as root).
set -euo pipefail

shofar="$(realpath "${1:?usage: tests/api/bench.sh SHOFAR_BINARY LIVE_FRESHNESS_BINARY}")"
freshness="$(realpath "${2:?usage: tests/api/bench.sh SHOFAR_BINARY LIVE_FRESHNESS_BINARY}")"
gen="$(dirname "$shofar")/shofar-gen"
root="$(cd "$(dirname "$0")/../.." && pwd)"
wrk_seconds="${BENCH_API_SECONDS:-30}"
live_seconds="${BENCH_LIVE_SECONDS:-60}"
connections="${BENCH_API_CONNECTIONS:-50}"
paths=(/api/v1/campaigns /api/v1/campaigns/1 "/api/v1/calls?per_page=50" /api/v1/status /healthz)

say() { echo "bench-api: $*" >&2; }
die() { say "$*"; exit 2; }

[[ -x "$gen" ]] || die "$gen is missing: build it (cargo build --release -p shofar-testdata)"
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing wrk (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing: apt-get install wrk"
  fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/shofar-bench-api.XXXXXX")"
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
    say "the server's log (last 20 lines):"
    tail -n 20 "$work/serve.log" >&2
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

[simulator]
# Calls five times shorter than life: more call events a second for the socket.
time_scale = 5.0

[log]
level = "warn"
EOF
export SHOFAR_CONFIG="$work/shofar.toml"
unset SHOFAR_DATA_DIR
s=("$shofar" --data-dir "$data")

say "demo data: 3,000 contacts, one campaign"
"$gen" contacts --rows 3000 --seed 7 --out "$work/contacts.csv" >/dev/null 2>&1
"${s[@]}" blacklist add 052-5551234 03-6123456 --reason "demo" --source user_optout >/dev/null
"${s[@]}" campaign create --file "$root/tests/demo/campaign.toml" >/dev/null
"${s[@]}" import "$work/contacts.csv" --campaign demo >/dev/null
"${s[@]}" campaign start demo --reason "bench-api" >/dev/null
echo 'correct horse battery' | "${s[@]}" user add bench --role admin --password-stdin >/dev/null 2>&1
token="$("${s[@]}" user token bench --label bench 2>/dev/null)"

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
python3 - "$base" <<'EOF' || die "/healthz did not answer ok"
import sys, time, urllib.request
for _ in range(100):
    try:
        with urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2) as response:
            if b'"status":"ok"' in response.read():
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
say "shofar serve (pid $server_pid) at $base; letting the campaign ramp up"
sleep 5

say "live freshness, API idle, ${live_seconds}s"
"$freshness" --url "$base" --token "$token" --seconds "$live_seconds" >"$work/live-idle.json"
cat "$work/live-idle.json"

for path in "${paths[@]}"; do
  name="${path//[^a-z0-9]/_}"
  say "wrk -c$connections -d${wrk_seconds}s $path"
  "$freshness" --url "$base" --token "$token" --seconds "$wrk_seconds" >"$work/live$name.json" &
  live_pid=$!
  wrk -t2 -c"$connections" -d"${wrk_seconds}s" --latency \
    -H "Authorization: Bearer $token" "$base$path" | tee "$work/wrk$name.txt"
  wait "$live_pid"
  cat "$work/live$name.json"
  sleep 2
done

python3 - "$work" "$connections" "$wrk_seconds" "${paths[@]}" <<'EOF'
import json, os, platform, re, subprocess, sys, datetime

work, connections, seconds, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]

def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 3)

wrk = []
for path in paths:
    name = re.sub(r"[^a-z0-9]", "_", path)
    out = open(os.path.join(work, f"wrk{name}.txt")).read()
    row = {"path": path}
    for quantile in ("50", "99"):
        row[f"p{quantile}_ms"] = ms(re.search(rf"^\s+{quantile}%\s+(\S+)", out, re.M).group(1))
    row["requests_per_second"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    row["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    row["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", out)
    row["socket_errors"] = errors.group(1).strip() if errors else None
    row["live_meanwhile"] = json.load(open(os.path.join(work, f"live{name}.json")))
    wrk.append(row)

def cpu_model():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"

memory_kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
line = {
    "bench": "api",
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
    "machine": {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "load_1min_after": os.getloadavg()[0],
    },
    "wrk": {"connections": connections, "threads": 2, "seconds": seconds, "routes": wrk},
    "live_idle": json.load(open(os.path.join(work, "live-idle.json"))),
}
print(json.dumps(line, ensure_ascii=False))
EOF
