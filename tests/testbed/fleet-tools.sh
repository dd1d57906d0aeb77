#!/usr/bin/env bash
# make fleet-tools: the real servers the sync agent's tests and benchmark run on
# loopback, each test starting its own (sync-agent/tests/support/mod.rs):
#
#   mosquitto          Debian's MQTT broker, configured like AWS IoT Core (mutual TLS)
#   mosquitto-clients  mosquitto_pub/mosquitto_sub, for the harness's self-test
#   openssl            the throwaway CA and certificates (tests/testbed/fleet-pki.sh)
#   curl               unsigned requests to s3s-fs in the self-test
#   s3s-fs 0.14.1      an S3 server on plain files that checks signatures
#                      (cargo install, cached in $SHOFAR_CACHE/tools; about 4 min once)
#
# Idempotent, and quick when everything is there. Prints as its last lines where
# the servers are, for the tests:
#   SHOFAR_MOSQUITTO=/usr/sbin/mosquitto
#   SHOFAR_S3S_FS=$SHOFAR_CACHE/tools/s3s-fs/bin/s3s-fs
# Usage: tests/testbed/fleet-tools.sh [--env]   (--env: print only those two lines,
# quoted for the shell: eval "$(tests/testbed/fleet-tools.sh --env)")
set -euo pipefail

cache=${SHOFAR_CACHE:-$HOME/.cache/shofar}
# Pinned: 0.15 and later need a newer rustc than this machine's (docs: TESTBED.md).
s3s_version=0.14.1
s3s_root=$cache/tools/s3s-fs
s3s_bin=$s3s_root/bin/s3s-fs
mosquitto=/usr/sbin/mosquitto

quiet=false
case "${1:-}" in
    --env) quiet=true ;;
    "") ;;
    *) printf 'usage: %s [--env]\n' "$0" >&2; exit 2 ;;
esac

say() { if [ "$quiet" = false ]; then printf 'fleet-tools: %s\n' "$*"; fi; }
die() { printf 'fleet-tools: error: %s\n' "$*" >&2; exit 1; }

missing=()
[ -x "$mosquitto" ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them with apt-get as root"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # The package's own service is not started (no systemd here, and
    # policy-rc.d-less installs in a container may try): the tests start brokers.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "cannot install ${missing[*]}"
fi
[ -x "$mosquitto" ] || die "no mosquitto at $mosquitto after installing it"

# cargo install records what it installed in .crates.toml: another version there
# (an older pin) is replaced.
if [ ! -x "$s3s_bin" ] || ! grep -qF "\"s3s-fs $s3s_version " "$s3s_root/.crates.toml" 2>/dev/null; then
    command -v cargo >/dev/null || die "no cargo on PATH (s3s-fs is built with cargo install)"
    say "building s3s-fs $s3s_version into $s3s_root (about 4 min, once)"
    # A build directory of its own, deleted afterwards: the shared target stays
    # free for the workspace's builds, and nothing but the binary is kept.
    build=$(mktemp -d "${TMPDIR:-/tmp}/shofar-s3s-fs.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    cargo install "s3s-fs@$s3s_version" --features binary --locked --quiet \
        --root "$s3s_root" --target-dir "$build" \
        || die "cargo install s3s-fs@$s3s_version failed (see above)"
    rm -rf "$build"
    trap - EXIT
    [ -x "$s3s_bin" ] || die "cargo install left no binary at $s3s_bin"
fi

if [ "$quiet" = true ]; then
    printf 'SHOFAR_MOSQUITTO=%q\nSHOFAR_S3S_FS=%q\n' "$mosquitto" "$s3s_bin"
else
    say "mosquitto $("$mosquitto" -h 2>/dev/null | sed -n 's/^mosquitto version //p' | head -n1), s3s-fs $s3s_version"
    printf 'SHOFAR_MOSQUITTO=%s\nSHOFAR_S3S_FS=%s\n' "$mosquitto" "$s3s_bin"
fi
