#!/usr/bin/env bash
# make testbed-down: stops the testbed's Asterisk (by its PID) and any sipp phones
# the tests left behind. Keeps target/testbed (logs, root) for a look afterwards.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
testbed=$(cd "$here/../.." && pwd)/target/testbed
quiet=${1:-}
say() { [ "$quiet" = --quiet ] || printf 'testbed: %s\n' "$*"; }

stop() { # PIDFILE NAME
    local pidfile=$1 name=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        say "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}

stop "$testbed/asterisk.pid" Asterisk
for pidfile in "$testbed"/sipp-*.pid; do
    [ -e "$pidfile" ] && stop "$pidfile" "sipp ($(basename "$pidfile" .pid))"
done
say "testbed is down"
exit 0
