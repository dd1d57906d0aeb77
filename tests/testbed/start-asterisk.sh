#!/usr/bin/env bash
# Starts the testbed's Asterisk (already installed by up.sh) and waits for ARI.
# With --kill first, kills a running one with SIGKILL — the end-to-end tests use
# that to restart Asterisk in the middle of a call.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
testbed=$(cd "$here/../.." && pwd)/target/testbed
root=$testbed/root
password=$(cat "$testbed/ari-password")
say() { printf 'testbed: %s\n' "$*"; }

if [ "${1:-}" = --kill ] && [ -s "$testbed/asterisk.pid" ]; then
    pid=$(cat "$testbed/asterisk.pid")
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    say "killed Asterisk (pid $pid)"
fi

setsid chroot "$root" /usr/sbin/asterisk -f -U asterisk -G asterisk \
    >> "$testbed/asterisk.log" 2>&1 < /dev/null &
echo $! > "$testbed/asterisk.pid"

for _ in $(seq 1 300); do
    if curl -sf -u "shofar:$password" http://127.0.0.1:8088/ari/asterisk/info >/dev/null 2>&1; then
        version=$(chroot "$root" /usr/sbin/asterisk -V 2>/dev/null || echo Asterisk)
        say "$version is up (pid $(cat "$testbed/asterisk.pid")): ARI http://127.0.0.1:8088, SIP 127.0.0.1:5060, trunk far end 127.0.0.1:5070"
        exit 0
    fi
    if ! kill -0 "$(cat "$testbed/asterisk.pid")" 2>/dev/null; then
        tail -n 30 "$testbed/asterisk.log" >&2
        say "error: Asterisk exited during start-up (log: $testbed/asterisk.log)" >&2
        exit 1
    fi
    sleep 0.1
done
tail -n 30 "$testbed/asterisk.log" >&2
say "error: ARI did not answer within 30 s (log: $testbed/asterisk.log)" >&2
exit 1
