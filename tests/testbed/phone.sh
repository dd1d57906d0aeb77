#!/usr/bin/env bash
# A phone on the testbed trunk's far end (127.0.0.1:5070) for one call, for trying
# `shofar call` by hand:
#   tests/testbed/phone.sh answer    answer and listen until the box hangs up
#   tests/testbed/phone.sh press-9   answer, press 9 (SIP INFO): opt out
#   tests/testbed/phone.sh press-1   answer, press 1: donate
#   tests/testbed/phone.sh busy      reject with 486 Busy Here
#   tests/testbed/phone.sh machine   an answering machine: plays a greeting
# It waits for the call (up to WAIT seconds, default 60) and exits when the call is
# over; if no call came, it says so and why that usually is. The end-to-end tests
# build their own scenarios (appliance/shofar/tests/phone).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scenario="$here/../sipp/${1:-answer}.xml"
[ -f "$scenario" ] || { echo "phone.sh: no scenario ${1:-}; use answer, press-9, press-1, busy or machine" >&2; exit 2; }
log=$(cd "$here/../.." && pwd)/target/testbed/phone
mkdir -p "$log"
wait=${WAIT:-60}
echo "phone: waiting ${wait} s for a call on 127.0.0.1:5070 ($(basename "$scenario" .xml))" >&2
status=0
rm -f "$log/messages.log"
sipp -sf "$scenario" -i 127.0.0.1 -p 5070 -mi 127.0.0.1 -mp 6000 -m 1 -nostdin \
    -timeout "${wait}s" -timeout_error -trace_msg -message_file "$log/messages.log" \
    > "$log/screen.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    if ! grep -q INVITE "$log/messages.log" 2>/dev/null; then
        echo "phone: no call came in ${wait} s. Was the number refused? A number that pressed 9" >&2
        echo "phone: is on the do-not-call list: \`shofar blacklist check NUMBER\` says so." >&2
    else
        echo "phone: the call did not go as the scenario expects (exit $status); see $log/" >&2
    fi
fi
exit "$status"
