#!/usr/bin/env bash
# make test-units: the systemd units in systemd/ checked inside a Debian forky root,
# the image's own systemd (the host's older one scores differently):
#
#   - sysusers.d and tmpfiles.d apply cleanly, and the prompts folder works as the
#     units expect: the supervisor writes, Asterisk reads, nobody else does;
#   - `systemd-analyze verify` says nothing about any unit;
#   - `systemd-analyze security --offline=true` scores every service at most 2.0,
#     and every hardening key it still flags is named in a comment in the unit
#     (the unit says why it cannot be set).
#
# The root (mmdebstrap minbase with systemd and asterisk, about 90 s) is built once
# and cached in $SHOFAR_CACHE/forky-units-root.tar.zst; every run unpacks it afresh
# into target/units/root, so nothing a previous run left survives. Idempotent. Needs
# root (chroot, and files owned by the root's users); starts nothing, and leaves no
# mount behind.
# Usage: tests/image/units.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
units_dir=$repo/systemd
work=$repo/target/units
root=$work/root
# systemd-analyze's --threshold is in tenths of the level it prints: 20 is 2.0.
max_exposure=20

say() { printf 'units: %s\n' "$*"; }
die() { printf 'units: error: %s\n' "$*" >&2; exit 1; }
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (it runs systemd's tools in a chroot); run it as root or with sudo"
started=$(date +%s)
cached_root units systemd,asterisk "$root"
systemd_version=$(chroot "$root" systemctl --version | head -n1)
say "unpacked the $suite root into $root ($systemd_version)"

# Installed where the package and the image put them. Our asterisk.service goes
# into /etc, where it takes precedence over Debian's in /usr/lib.
shopt -s nullglob
services=() others=()
for unit in "$units_dir"/*.service "$units_dir"/*.timer; do
    name=$(basename "$unit")
    if [ "$name" = asterisk.service ]; then
        install -m 0644 "$unit" "$root/etc/systemd/system/$name"
    else
        install -m 0644 "$unit" "$root/usr/lib/systemd/system/$name"
    fi
    case $name in
        *.service) services+=("$name") ;;
        *) others+=("$name") ;;
    esac
done
[ ${#services[@]} -gt 0 ] || die "no units in $units_dir"
install -D -m 0644 "$units_dir/sysusers.d/shofar.conf" "$root/usr/lib/sysusers.d/shofar.conf"
install -D -m 0644 "$units_dir/tmpfiles.d/shofar.conf" "$root/usr/lib/tmpfiles.d/shofar.conf"
# verify checks that ExecStart= is executable; the binaries themselves are not needed.
for binary in shofar shofar-sync; do
    printf '#!/bin/sh\necho "%s: a stand-in for tests/image/units.sh" >&2\nexit 2\n' "$binary" \
        > "$root/usr/bin/$binary"
    chmod 0755 "$root/usr/bin/$binary"
done
say "installed ${services[*]} ${others[*]}, sysusers.d and tmpfiles.d/shofar.conf"

# --- sysusers and tmpfiles, and the prompts folder they set up ------------------
failed=()
fail() { printf 'units: FAIL: %s\n' "$*" >&2; failed+=("$1"); }

if ! output=$(chroot "$root" systemd-sysusers /usr/lib/sysusers.d/shofar.conf 2>&1); then
    printf '%s\n' "$output" >&2
    fail "sysusers.d/shofar.conf" "systemd-sysusers refused it (above)"
fi
# systemd-tmpfiles needs /proc: mounted in a mount namespace of its own, which
# goes away with the command (nothing is left mounted on the host).
in_root "$root" systemd-tmpfiles --create /usr/lib/tmpfiles.d/shofar.conf \
    || fail "tmpfiles.d/shofar.conf" "systemd-tmpfiles --create refused it"
uid() { chroot "$root" id -u "$1"; }
gid() { chroot "$root" id -g "$1"; }
as() { # as USER COMMAND...: run in the root as USER, with only USER's own group
    local user=$1; shift
    chroot --userspec="$(uid "$user"):$(gid "$user")" --groups="$(gid "$user")" "$root" "$@"
}
expect_mode() { # expect_mode PATH OWNER:GROUP MODE
    local got
    got=$(chroot "$root" stat -c '%U:%G %a' "$1" 2>/dev/null) || got="missing"
    [ "$got" = "$2 $3" ] || fail "tmpfiles.d/shofar.conf" "$1 is $got, expected $2 $3"
}
before=${#failed[@]}
if chroot "$root" id shofar >/dev/null 2>&1; then
    expect_mode /var/lib/shofar shofar:shofar 750
    expect_mode /var/lib/asterisk/sounds/shofar shofar:asterisk 2750
    expect_mode /etc/shofar root:shofar 750
    sounds=/var/lib/asterisk/sounds/shofar
    # What shofar.service does (UMask=0027): a folder and a prompt in it.
    as shofar sh -c "umask 0027 && mkdir -p $sounds/prompts && printf x > $sounds/prompts/check.ulaw" \
        || fail "tmpfiles.d/shofar.conf" "user shofar cannot write into $sounds"
    expect_mode "$sounds/prompts" shofar:asterisk 2750
    expect_mode "$sounds/prompts/check.ulaw" shofar:asterisk 640
    as asterisk cat "$sounds/prompts/check.ulaw" >/dev/null \
        || fail "tmpfiles.d/shofar.conf" "user asterisk cannot read the prompts shofar writes"
    if as asterisk sh -c "printf y > $sounds/prompts/other.ulaw" 2>/dev/null; then
        fail "tmpfiles.d/shofar.conf" "user asterisk can write into $sounds/prompts"
    fi
    if as nobody cat "$sounds/prompts/check.ulaw" >/dev/null 2>&1; then
        fail "tmpfiles.d/shofar.conf" "user nobody can read the prompts"
    fi
    if [ ${#failed[@]} = "$before" ]; then
        say "sysusers and tmpfiles apply; shofar writes prompts, asterisk reads them, nobody else does"
    fi
else
    fail "sysusers.d/shofar.conf" "no user shofar after systemd-sysusers"
fi

# --- verify ----------------------------------------------------------------------
# --man=no: the root (like the image) carries no manual pages to look up.
for unit in "${services[@]}" "${others[@]}"; do
    if output=$(chroot "$root" systemd-analyze verify --man=no "$unit" 2>&1) && [ -z "$output" ]; then
        say "$unit: verify clean"
    else
        printf '%s\n' "$output" >&2
        fail "$unit" "systemd-analyze verify complained (above)"
    fi
done

# --- security ----------------------------------------------------------------------
# A timer runs nothing itself: its service is what is scored.
scores=()
for unit in "${services[@]}"; do
    status=0
    report=$(chroot "$root" systemd-analyze security --offline=true --threshold=$max_exposure "$unit" 2>&1) \
        || status=$?
    score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \(.*\)/\1 \2/p')
    if [ -z "$score" ]; then
        printf '%s\n' "$report" >&2
        fail "$unit" "systemd-analyze security gave no score (above)"
        continue
    fi
    scores+=("$unit $score")
    if [ "$status" != 0 ]; then
        printf '%s\n' "$report" | grep '✗' >&2 || true
        fail "$unit" "scores $score, above $((max_exposure / 10)).$((max_exposure % 10))"
    fi
    # Each key still flagged must be explained in the unit: a comment naming KEY=.
    unit_file=$units_dir/$unit
    while read -r key; do
        grep -q "^# ${key}=" "$unit_file" \
            || fail "$unit" "$key= is flagged (exposed) but no comment in the unit says why it cannot be set"
    done < <(printf '%s\n' "$report" | awk '$1 == "✗" { split($2, parts, "="); print parts[1] }' | sort -u)
done

elapsed=$(( $(date +%s) - started ))
say "scores ($systemd_version, at most $((max_exposure / 10)).$((max_exposure % 10)) allowed):"
for line in "${scores[@]}"; do say "  $line"; done
if [ ${#failed[@]} -gt 0 ]; then
    die "failed: $(printf '%s\n' "${failed[@]}" | sort -u | tr '\n' ' ')(${elapsed} s)"
fi
say "every unit verifies and scores at most $((max_exposure / 10)).$((max_exposure % 10)) (${elapsed} s)"
