#!/usr/bin/env bash
# make image-test / image-run: the appliance image booted in qemu.
#
#   tests/image/boot.sh test   boots a copy of target/image/shofar.img twice and
#                              checks it from the host (below); exits non-zero
#                              naming every check that failed
#   tests/image/boot.sh run    boots a copy for a person to try: the web UI on
#                              https://127.0.0.1:8443, the console on this terminal
#
# qemu runs under TCG (software emulation: KVM guests hang on these machines, see
# TESTBED.md), UEFI (OVMF), with the disk on virtio and user networking that
# reaches nothing: `restrict=on`, only the guest's 443 and 80 forwarded from
# loopback ports. The copy is 1 GiB larger than the image, as a real disk is.
#
# First boot (a box as it leaves the factory):
#   - the data partition grows to the end of the disk; /healthz answers within
#     300 s; Asterisk's ARI is reachable from the supervisor (telephony_up);
#   - the web UI's first page is served over HTTPS, plain HTTP redirects to it;
#   - the console (serial) shows the box's address and the one-time setup link,
#     and that link makes the first admin;
#   - QMP system_powerdown ends in a clean power-off.
# Between the boots the host switches the box to the simulated network (in
# shofar.toml on the data partition, with debugfs: no mount).
# Second boot: the admin made before logs in (the data survived); a campaign runs
# on the simulator; a number added to the do-not-call list is never dialed; a
# clean power-off again.
# Then updates through the web API, as an admin does, each bundle made before the
# first boot (a second image, a newer version, from the same package):
#   - a bundle signed by a key the box does not trust is refused, saying so;
#   - a newer bundle installs into slot B; after the reboot B runs, with the same
#     data (the admin, the calls);
#   - a newer bundle whose supervisor cannot start installs into slot A; after the
#     reboot the health check marks A bad and the box comes back on B by itself.
# Boot-to-ready (host wall time to /healthz, and systemd's "Startup finished" from
# the guest's journal) is reported for docs/benchmarks.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mode=${1:-test}
image=$repo/target/image/shofar.img
work=$repo/target/image-test
https_port=${SHOFAR_IMAGE_HTTPS_PORT:-8443}
http_port=${SHOFAR_IMAGE_HTTP_PORT:-8480}
boot_timeout=${SHOFAR_IMAGE_BOOT_TIMEOUT:-300}

say() { printf 'image-test: %s\n' "$*"; }
die() { printf 'image-test: error: %s\n' "$*" >&2; exit 1; }
. "$here/lib.sh"

[ -s "$image" ] || die "$image: no image (make image builds it)"
[ "$(id -u)" = 0 ] || die "needs root (debugfs on the image's files, owned by its users)"
need_host_tools debugfs:e2fsprogs curl:curl
if ! command -v qemu-system-x86_64 >/dev/null || [ ! -e /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
    # bookworm's own qemu-system-x86 would replace this machine's newer qemu-utils:
    # backports has the same version as it (TESTBED.md).
    if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$(debian_mirror)" > /etc/apt/sources.list.d/shofar-backports.sources
    fi
    say "installing qemu-system-x86 (bookworm-backports) and ovmf"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o Acquire::Check-Valid-Until=false update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq ovmf >/dev/null || die "cannot install ovmf"
    apt-get install -y -qq -t bookworm-backports qemu-system-x86 >/dev/null || die "cannot install qemu-system-x86"
fi

for port in "$https_port" "$http_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is in use (another qemu? SHOFAR_IMAGE_HTTPS_PORT/HTTP_PORT choose others)"
    fi
done
rm -rf "$work"
mkdir -p "$work"
disk=$work/disk.img
cp --sparse=always "$image" "$disk"
truncate -s +1G "$disk"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
qemu_args=(-machine q35 -accel tcg -cpu max -m 2048 -smp 2 -nodefaults -no-user-config
    -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
    -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd"
    -drive "file=$disk,format=raw,if=virtio"
    -netdev "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$https_port-:443,hostfwd=tcp:127.0.0.1:$http_port-:80"
    -device virtio-net-pci,netdev=net0 -device virtio-rng-pci)

if [ "$mode" = run ]; then
    say "booting $image (a copy in $work); the web UI: https://127.0.0.1:$https_port (after a minute or two); Ctrl-A X quits"
    exec qemu-system-x86_64 "${qemu_args[@]}" -nographic -serial mon:stdio
fi
[ "$mode" = test ] || die "unknown mode $mode: test or run"

failed=()
fail() { printf 'image-test: FAIL: %s\n' "$*" >&2; failed+=("$*"); }
base=https://127.0.0.1:$https_port
qemu_pid=""
cleanup() { if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

boot() { # boot N: starts qemu in the background, console in $work/console-N.log
    console=$work/console-$1.log
    qemu-system-x86_64 "${qemu_args[@]}" -display none -serial "file:$console" \
        -qmp "unix:$work/qmp.sock,server=on,wait=off" &
    qemu_pid=$!
    boot_started=$(date +%s)
}
wait_ready() { # waits for /healthz; prints the seconds it took
    local waited
    while :; do
        waited=$(( $(date +%s) - boot_started ))
        if curl -fsk --max-time 5 "$base/healthz" >/dev/null 2>&1; then
            echo "$waited"; return 0
        fi
        kill -0 "$qemu_pid" 2>/dev/null || { tail -n 40 "$console" >&2; die "qemu exited during boot (console above)"; }
        [ "$waited" -lt "$boot_timeout" ] || { tail -n 60 "$console" >&2; die "no /healthz within $boot_timeout s (console above)"; }
        sleep 3
    done
}
field() { python3 -c 'import json,sys; v=json.load(sys.stdin); [v:=v[k] if not k.isdigit() else v[int(k)] for k in sys.argv[1].split(".") if k]; print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1"; }
power_off() { # power_off: QMP system_powerdown; waits for qemu to end by itself
    python3 - "$work/qmp.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ({"execute": "qmp_capabilities"}, {"execute": "system_powerdown"}):
    f.write(json.dumps(cmd) + "\n"); f.flush(); f.readline()
PY
    local started=$(date +%s)
    while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ $(( $(date +%s) - started )) -gt 180 ]; then
            fail "boot $1: no power-off within 180 s of system_powerdown"; kill "$qemu_pid"; break
        fi
        sleep 2
    done
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    grep -q "reboot: Power down" "$console" || fail "boot $1: the console does not end with a clean power-off"
    say "boot $1: powered off cleanly ($(( $(date +%s) - started )) s after system_powerdown)"
}
api() { # api METHOD PATH [JSON]: as the logged-in admin; prints the body
    local args=(-sk --max-time 30 -b "$work/jar" -c "$work/jar" -X "$1" -H "X-CSRF-Token: ${csrf:-}")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "$base$2"
}

# --- the update bundles (before qemu runs: they need the CPU) ---------------------
version=$(sed -n 's/^SHOFAR_VERSION=//p' "$repo/target/image/root/usr/lib/shofar/release")
deb=$repo/target/deb/shofar_${version}_$(dpkg --print-architecture).deb
[ -s "$deb" ] || die "$deb: the image's package is gone (make image makes both)"
v2=$version.1 v3=$version.2
# The same package under a newer version, installed into a second image.
dpkg-deb -R "$deb" "$work/deb"
sed -i "s/^Version: .*/Version: $v2/" "$work/deb/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/deb" "$work/shofar_$v2.deb" >/dev/null
rm -rf "$work/deb"
SHOFAR_IMAGE_OUT=$work/v2 "$repo/appliance/image/build.sh" "$work/shofar_$v2.deb" | tail -n1
"$repo/appliance/image/bundle.sh" "$work/v2"
# The newer one again, whose supervisor cannot start (version $v3).
mkdir -p "$work/v3/root/usr/lib/shofar" "$work/v3/root/etc/rauc"
cp --sparse=always "$work/v2/rootfs.ext4" "$work/v3/rootfs.ext4"
cp "$work/v2/root/etc/rauc/system.conf" "$work/v3/root/etc/rauc/"
printf 'SHOFAR_VERSION=%s\n' "$v3" > "$work/v3/root/usr/lib/shofar/release"
printf '#!/bin/sh\necho "shofar: broken on purpose by make image-test" >&2\nexit 1\n' > "$work/broken"
debugfs -w -f - "$work/v3/rootfs.ext4" >/dev/null 2>&1 <<DEBUGFS
rm /usr/bin/shofar
write $work/broken /usr/bin/shofar
sif /usr/bin/shofar mode 0100755
rm /usr/lib/shofar/release
write $work/v3/root/usr/lib/shofar/release /usr/lib/shofar/release
DEBUGFS
"$repo/appliance/image/bundle.sh" "$work/v3"
rm -rf "$work/v2/root"
# The newer one signed by a key of nobody the box trusts.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/other.key" -out "$work/other.pem" \
    -days 3650 -subj "/CN=someone else" -addext keyUsage=digitalSignature >/dev/null 2>&1
RAUC_CERT=$work/other.pem RAUC_KEY=$work/other.key RAUC_KEYRING=$work/other.pem \
    "$repo/appliance/image/bundle.sh" "$work/v3" "$work/untrusted.raucb"

# --- first boot --------------------------------------------------------------------
boot 1
ready=$(wait_ready)
health=$(curl -fsk --max-time 5 "$base/healthz" || true)
say "boot 1: /healthz answers $ready s after qemu started: $health"
telephony=false
for _ in $(seq 1 40); do
    health=$(curl -fsk --max-time 5 "$base/healthz" || true)
    telephony=$(printf '%s' "$health" | field telephony_up 2>/dev/null || echo false)
    [ "$telephony" = true ] && break
    sleep 3
done
[ "$telephony" = true ] || fail "boot 1: telephony is not up (ARI unreachable from the supervisor): $health"
telephony_at=$(( $(date +%s) - boot_started ))
[ "$(printf '%s' "$health" | field backend)" = asterisk ] || fail "boot 1: the backend is not asterisk: $health"
page=$(curl -fsk --max-time 10 "$base/" || true)
printf '%s' "$page" | grep -q '<div id="root">' || fail "boot 1: / is not the web UI's page"
redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/campaigns" || true)
case $redirect in
    30[18]\ https://*/campaigns) ;;
    *) fail "boot 1: plain HTTP does not redirect to HTTPS: $redirect" ;;
esac
# The console: the box's address and the setup link (printed when it changes).
link=""
for _ in $(seq 1 30); do
    link=$(grep -ao 'https://[0-9.]*/setup?token=[0-9a-f]*' "$console" | tail -n1 || true)
    [ -n "$link" ] && break
    sleep 2
done
grep -aq "Shofar box: https://10.0.2.15/" "$console" || fail "boot 1: the console does not show the box's address"
[ -n "$link" ] || fail "boot 1: the console shows no setup link"
grep -aq "shofar-data: growing" "$console" || fail "boot 1: the data partition did not grow to the larger disk"
grep -aq "made /data/etc/shofar/shofar.toml" "$console" || fail "boot 1: no configuration was made at first boot"
token=${link##*token=}
status=$(curl -sk -o "$work/setup.json" -w '%{http_code}' -X POST "$base/api/v1/setup" \
    -H 'Content-Type: application/json' \
    -d "{\"token\": \"$token\", \"name\": \"dana\", \"password\": \"correct horse battery\"}")
[ "$status" = 200 ] || [ "$status" = 201 ] || fail "boot 1: the console's setup link did not make an admin ($status: $(cat "$work/setup.json"))"
say "boot 1: ARI up at $telephony_at s; web UI, redirect, console address and setup link checked; admin made"
power_off 1

# --- switch the box to the simulated network (host side, no mount) ---------------
start=$(sfdisk --json "$disk" | python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name")=="data"][0]; print(p["start"], p["size"])')
read -r data_start data_size <<<"$start"
data=$work/data.ext4
dd if="$disk" of="$data" bs=512 skip="$data_start" count="$data_size" conv=sparse status=none
debugfs -R "dump /etc/shofar/shofar.toml $work/shofar.toml" "$data" 2>/dev/null
[ -s "$work/shofar.toml" ] || die "no /etc/shofar/shofar.toml on the data partition after the first boot"
gid=$(debugfs -R "stat /etc/shofar/shofar.toml" "$data" 2>/dev/null | sed -n 's/.*Group: *\([0-9]*\).*/\1/p')
printf '\n[dialer]\nbackend = "simulator"\n\n[simulator]\ntime_scale = 10.0\n' >> "$work/shofar.toml"
debugfs -w -f - "$data" >/dev/null 2>&1 <<DEBUGFS
rm /etc/shofar/shofar.toml
write $work/shofar.toml /etc/shofar/shofar.toml
sif /etc/shofar/shofar.toml mode 0100640
sif /etc/shofar/shofar.toml uid 0
sif /etc/shofar/shofar.toml gid $gid
DEBUGFS
dd if="$data" of="$disk" bs=512 seek="$data_start" conv=notrunc,sparse status=none
rm -f "$data"

# --- second boot: the simulator, a campaign ---------------------------------------
boot 2
ready2=$(wait_ready)
health=$(curl -fsk --max-time 5 "$base/healthz" || true)
[ "$(printf '%s' "$health" | field backend)" = simulator ] || fail "boot 2: the backend is not the simulator: $health"
login=$(curl -sk -c "$work/jar" -X POST "$base/api/v1/session" -H 'Content-Type: application/json' \
    -d '{"name": "dana", "password": "correct horse battery"}')
csrf=$(printf '%s' "$login" | field csrf_token 2>/dev/null || true)
[ -n "$csrf" ] || die "boot 2: the admin made in boot 1 cannot log in: $login"
listed=052-5557003
api POST /api/v1/blacklist "{\"numbers\": [\"$listed\"], \"reason\": \"asked not to be called\"}" > "$work/blacklist.json"
campaign='{"name": "image test", "purpose": "informational", "caller_id": "03-6123456", "max_attempts": 1,
  "windows": {"sunday": "00:00-24:00", "monday": "00:00-24:00", "tuesday": "00:00-24:00",
    "wednesday": "00:00-24:00", "thursday": "00:00-24:00", "friday": "00:00-24:00", "saturday": "00:00-24:00"},
  "quiet": {"shabbat": false, "holidays": false}, "pacing": {"cps": 2, "max_channels": 10}}'
id=$(api POST /api/v1/campaigns "$campaign" | field id)
printf 'phone,first_name\n' > "$work/contacts.csv"
for n in 1 2 3 4 5 6 7 8; do printf '052-555700%s,Contact %s\n' "$n" "$n" >> "$work/contacts.csv"; done
curl -sk -b "$work/jar" -H "X-CSRF-Token: $csrf" -F "file=@$work/contacts.csv;type=text/csv" \
    "$base/api/v1/campaigns/$id/imports" > "$work/import.json"
sleep 5
api POST "/api/v1/campaigns/$id/start" '{"reason": "image test"}' > "$work/start.json"
ended=0
for _ in $(seq 1 60); do
    api GET "/api/v1/calls?campaign=$id&per_page=100" > "$work/calls.json"
    ended=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for c in d["items"] if c.get("status")=="ended"))' "$work/calls.json" 2>/dev/null || echo 0)
    [ "$ended" -ge 7 ] && break
    sleep 5
done
[ "$ended" -ge 7 ] || fail "boot 2: the campaign ended $ended calls of 7 on the simulator (calls: $(head -c 600 "$work/calls.json"); import: $(head -c 300 "$work/import.json"); start: $(cat "$work/start.json"))"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(c.get("number","").replace("-","").endswith("5557003") and c.get("outcome")!="blacklisted" for c in d["items"]) else 1)' "$work/calls.json"; then
    fail "boot 2: the listed number $listed was dialed"
fi
say "boot 2: ready in $ready2 s; the admin logged in; $ended calls ended on the simulator; $listed never dialed"

# --- updates ------------------------------------------------------------------------
update() { # update BUNDLE: uploads it, waits for the installer's last word; prints the status
    curl -sk --max-time 600 -b "$work/jar" -H "X-CSRF-Token: $csrf" -F "file=@$1" \
        "$base/api/v1/system/update" > "$work/update.json"
    local state=""
    for _ in $(seq 1 200); do
        api GET /api/v1/system/update > "$work/update.json"
        state=$(field last.state < "$work/update.json" 2>/dev/null || true)
        case $state in installed|refused|failed) break ;; esac
        sleep 3
    done
    cat "$work/update.json"
}
rebooted() { # rebooted WHAT: waits for /healthz to go, then to come back
    local started=$(date +%s)
    while curl -fsk --max-time 5 "$base/healthz" >/dev/null 2>&1; do
        [ $(( $(date +%s) - started )) -lt 180 ] || { fail "$1: the box did not reboot"; return 1; }
        sleep 2
    done
    boot_started=$(date +%s)
    wait_ready > /dev/null
    say "$1: back after $(( $(date +%s) - started )) s"
}
calls_now() { api GET "/api/v1/calls?campaign=$id&per_page=100" | field total; }
calls_before=$(calls_now)

status=$(update "$work/untrusted.raucb")
[ "$(printf '%s' "$status" | field last.state)" = refused ] \
    || fail "updates: a bundle signed by an unknown key was not refused: $status"
printf '%s' "$status" | field last.message | grep -q "signed by a key this box trusts" \
    || fail "updates: the refusal does not say why: $status"
say "updates: the untrusted bundle was refused: $(printf '%s' "$status" | field last.message | cut -c1-160)"

head -c 50000000 "$work/v2/shofar-$v2.raucb" > "$work/truncated.raucb"
status=$(update "$work/truncated.raucb")
[ "$(printf '%s' "$status" | field last.state)" = refused ] \
    || fail "updates: a truncated bundle was not refused: $status"
say "updates: the truncated bundle was refused: $(printf '%s' "$status" | field last.message | cut -c1-160)"

status=$(update "$work/v2/shofar-$v2.raucb")
[ "$(printf '%s' "$status" | field last.state)" = installed ] || fail "updates: $v2 was not installed: $status"
api POST /api/v1/system/reboot '{}' > /dev/null
rebooted "updates: $v2"
status=$(api GET /api/v1/system/update)
[ "$(printf '%s' "$status" | field slot)" = B ] && [ "$(printf '%s' "$status" | field version)" = "$v2" ] \
    || fail "updates: after installing $v2 the box does not run it from slot B: $status"
[ "$(calls_now)" = "$calls_before" ] || fail "updates: the calls changed across the update ($calls_before, now $(calls_now))"
say "updates: $v2 runs from slot B with the same data"

status=$(update "$work/v3/shofar-$v3.raucb")
[ "$(printf '%s' "$status" | field last.state)" = installed ] || fail "updates: $v3 was not installed: $status"
api POST /api/v1/system/reboot '{}' > /dev/null
# Slot A comes up without a supervisor, is marked bad and reboots into B: /healthz
# stays away for two boots.
rebooted "updates: the broken $v3"
status=$(api GET /api/v1/system/update)
[ "$(printf '%s' "$status" | field slot)" = B ] && [ "$(printf '%s' "$status" | field version)" = "$v2" ] \
    || fail "updates: after the broken $v3 the box is not back on $v2 in slot B: $status"
grep -aq "shofar-health: slot A is not healthy" "$console" || fail "updates: the console does not say why slot A was left"
[ "$(printf '%s' "$status" | field last.state)" = failed ] && printf '%s' "$status" | field last.message | grep -q "went back" \
    || fail "updates: the status does not say $v3 failed and the box went back: $status"
[ "$(calls_now)" = "$calls_before" ] || fail "updates: the calls changed across the fallback"
say "updates: the broken $v3 was left by itself; $v2 runs again from slot B"
power_off 2

# The guest's own view of each boot (systemd's "Startup finished"), from its
# journal on the data partition.
read -r data_start data_size < <(sfdisk --json "$disk" | python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name")=="data"][0]; print(p["start"], p["size"])')
dd if="$disk" of="$data" bs=512 skip="$data_start" count="$data_size" conv=sparse status=none
rm -rf "$work/journal"
debugfs -R "rdump /log/journal $work" "$data" >/dev/null 2>&1 || true
rm -f "$data"
# (A folder per boot: the read-only root makes a new machine id each time.)
if [ -d "$work/journal" ]; then
    { journalctl -D "$work/journal" -o cat --no-pager 2>/dev/null || true; } \
        | { grep "^Startup finished" || true; } | while read -r line; do say "guest: $line"; done
fi
say "boot to ready: /healthz $ready s after qemu started (first boot), $ready2 s (second); ARI up at $telephony_at s"
say "image: $(du -m --apparent-size "$image" | cut -f1) MiB disk, $(du -m "$image" | cut -f1) MiB used"
if [ ${#failed[@]} -gt 0 ]; then
    die "${#failed[@]} failed"
fi
say "every check passed"
