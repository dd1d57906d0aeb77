#!/usr/bin/env bash
# A phone on the testbed trunk's far end (127.0.0.1:5070) for one call, for trying
# `shofar call` by hand:
#   tests/testbed/phone.sh answer    answer and listen until the box hangs up
#   tests/testbed/phone.sh press-9   answer, press 9 (SIP INFO): opt out
#   tests/testbed/phone.sh press-1   answer, press 1: donate
#   tests/testbed/phone.sh busy      reject with 486 Busy Here
#   tests/testbed/phone.sh machine   an answering machine: plays a greeting
# It waits for the call (up to 2 minutes) and exits when the call is over. The
# end-to-end tests build their own scenarios (appliance/shofar/tests/phone).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scenario="$here/../sipp/${1:-answer}.xml"
[ -f "$scenario" ] || { echo "phone.sh: no scenario ${1:-}; use answer, press-9, press-1, busy or machine" >&2; exit 2; }
log=$(cd "$here/../.." && pwd)/target/testbed/phone
mkdir -p "$log"
echo "phone: waiting for a call on 127.0.0.1:5070 ($(basename "$scenario" .xml))" >&2
exec sipp -sf "$scenario" -i 127.0.0.1 -p 5070 -mi 127.0.0.1 -mp 6000 -m 1 -nostdin \
    -timeout 120s -timeout_error -trace_msg -message_file "$log/messages.log" > "$log/screen.log" 2>&1
