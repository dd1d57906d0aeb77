#!/usr/bin/env bash
# make testbed-up: real Asterisk (Debian's 22.x, from sid, in a chroot) on loopback,
# configured by the project's own asterisk/ files through `shofar asterisk-config`.
#
#   ARI    http://127.0.0.1:8088  (user shofar, password in target/testbed/shofar.toml)
#   SIP    127.0.0.1:5060         trunk "carrier" whose far end is 127.0.0.1:5070 (sipp)
#
# Leaves target/testbed/shofar.toml, so `shofar --config target/testbed/shofar.toml
# call 052-5557010` works right after. Idempotent: run again, Asterisk restarts with
# the current config. Needs root (chroot) and only ever binds loopback.
# Usage: tests/testbed/up.sh SHOFAR_BINARY
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shofar=${1:?usage: up.sh PATH_TO_SHOFAR_BINARY}
cache=${SHOFAR_CACHE:-$HOME/.cache/shofar}
testbed=$repo/target/testbed
root=$testbed/root
suite=${SHOFAR_ASTERISK_SUITE:-sid}
tarball=$cache/asterisk-root-$suite.tar.zst

say() { printf 'testbed: %s\n' "$*"; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it runs Asterisk in a chroot); run it as root or with sudo"
[ -x "$shofar" ] || die "no shofar binary at $shofar (build it first: cargo build -p shofar)"

# Host tools: mmdebstrap builds the root, sipp plays the phones, sox makes prompts;
# pdftotext (poppler-utils) reads reports back in the tests.
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v sipp >/dev/null || missing+=(sip-tester)
command -v zstd >/dev/null || missing+=(zstd)
command -v curl >/dev/null || missing+=(curl)
command -v sox >/dev/null || missing+=(sox)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq "${missing[@]}" >/dev/null || die "cannot install ${missing[*]}"
fi

# Stop a previous run first: the config is re-rendered every time.
"$here/down.sh" --quiet || true

if [ ! -s "$tarball" ]; then
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    mirror=${mirror:-http://deb.debian.org/debian}
    say "building a Debian $suite root with Asterisk from $mirror (about 90 s, once; cached in $cache)"
    build=$(mktemp -d "${TMPDIR:-/tmp}/shofar-asterisk-root.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    # The mirror is a frozen snapshot: without Check-Valid-Until apt calls its
    # Release files expired.
    mmdebstrap --quiet --variant=minbase --mode=root --include=asterisk \
        --aptopt='Acquire::Check-Valid-Until "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$suite" "$build/root" "$mirror" || die "mmdebstrap failed (see above)"
    mkdir -p "$cache"
    tar -C "$build/root" -cf - . | zstd -3 -q -T0 -o "$tarball.part"
    mv "$tarball.part" "$tarball"
    rm -rf "$build"
    trap - EXIT
fi

# A fresh root from the cache every time: nothing a previous test run left in it
# (sounds, logs, a half-written config) survives.
if [ -d "$root" ]; then rm -rf "$root"; fi
mkdir -p "$root"
: > "$testbed/asterisk.log"
zstd -dc -q "$tarball" | tar -C "$root" -xf -
say "unpacked the Asterisk root into $root"

# The box's config for the supervisor: ARI, the trunk, a data dir of its own.
password_file=$testbed/ari-password
[ -s "$password_file" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file"
password=$(cat "$password_file")
mkdir -p "$testbed/data"
cat > "$testbed/shofar.toml" <<TOML
# Written by tests/testbed/up.sh: the supervisor's config for the loopback testbed.
data_dir = "$testbed/data"

[log]
level = "warn"

[asterisk]
ari_url = "http://127.0.0.1:8088"
ari_user = "shofar"
ari_password = "$password"
app = "shofar"
# Asterisk runs in a chroot: the supervisor writes audio here, Asterisk reads it
# as /var/lib/asterisk/sounds/shofar.
sounds_dir = "$root/var/lib/asterisk/sounds/shofar"
asterisk_sounds_dir = "/var/lib/asterisk/sounds/shofar"
config_dir = "$root/etc/asterisk"
ring_timeout_seconds = 30

[trunk]
name = "carrier"
host = "127.0.0.1:5070"
sip_bind = "127.0.0.1:5060"
caller_id = "03-6123456"
codecs = ["ulaw", "alaw"]
dtmf_mode = "rfc4733"
rtp_timeout = 30
qualify_seconds = 0
TOML

# The project's configuration replaces the package's ~100 samples (indications.conf
# stays: the tone tables).
find "$root/etc/asterisk" -maxdepth 1 -type f ! -name indications.conf -delete
"$shofar" --config "$testbed/shofar.toml" asterisk-config --write >/dev/null \
    || die "shofar asterisk-config failed"
mkdir -p "$root/var/lib/asterisk/sounds/shofar"
chroot "$root" chown -R asterisk:asterisk /run/asterisk /var/lib/asterisk /var/log/asterisk \
    /var/spool/asterisk /var/cache/asterisk 2>/dev/null \
    || { mkdir -p "$root/run/asterisk"; chroot "$root" chown -R asterisk:asterisk /run/asterisk /var/lib/asterisk /var/log/asterisk /var/spool/asterisk /var/cache/asterisk; }
chmod 0777 "$root/var/lib/asterisk/sounds/shofar"
say "installed the project's asterisk/ configuration (rendered by shofar asterisk-config)"

for port in 8088 5060; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use by another program; stop it first"
    fi
done

"$here/start-asterisk.sh" || die "Asterisk did not start"

# Stand-in prompts for the default flow: short tones (an organization records its
# own with `shofar audio add`). They go through the real conversion.
tones=$(mktemp -d "${TMPDIR:-/tmp}/shofar-tones.XXXXXX")
for prompt in campaign:1.5:440 menu:1.0:660 invalid:0.5:880 no-input:0.5:330 thanks:0.6:550 \
              optout-confirm:0.8:770 goodbye:0.5:990 info:0.6:1100 voicemail:1.0:500; do
    IFS=: read -r name seconds hertz <<< "$prompt"
    sox -n -r 16000 -c 1 -b 16 "$tones/$name.wav" synth "$seconds" sine "$hertz" vol 0.5
    "$shofar" --config "$testbed/shofar.toml" audio add "$name" "$tones/$name.wav" >/dev/null \
        || die "shofar audio add $name failed"
done
rm -rf "$tones"
say "added stand-in prompts (tones) for the default flow: shofar audio list"
say "config for the supervisor: $testbed/shofar.toml"
say "try: tests/testbed/phone.sh answer & $shofar --config $testbed/shofar.toml call 052-5557010 --audio docs/examples/message.wav"
