#!/usr/bin/env bash
# make test-deb: the Debian package installed, upgraded, removed and purged with
# apt in a Debian forky root that has Asterisk (the root test-units caches), as
# an organization would on a server of its own:
#
#   - install: the user, the folders, /etc/shofar/shofar.toml with a random ARI
#     password (root:shofar 0640) and the same password in Asterisk's ari.conf
#     (asterisk:asterisk 0640); the units enabled; `shofar` runs as user shofar;
#     `shofar-sync run` on the unconfigured box says it works offline and exits 0,
#     and the template's [sync] example, uncommented, is one the agent accepts;
#   - upgrade to a newer version: the database kept and its data there, a backup
#     made first, the configuration untouched;
#   - remove: binaries and units gone, data and configuration kept;
#   - purge: data and configuration gone.
#
# No service starts (no systemd runs in a chroot): make image-test boots them.
# Usage: tests/image/deb.sh SHOFAR_BINARY (a release build); needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${1:?usage: deb.sh SHOFAR_BINARY}
root=$repo/target/deb-test/root

say() { printf 'deb-test: %s\n' "$*"; }
die() { printf 'deb-test: error: %s\n' "$*" >&2; exit 1; }
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (apt and dpkg in a chroot); run it as root or with sudo"
started=$(date +%s)
base=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml")
old=$base+test1 new=$base+test2
"$repo/appliance/debian/build.sh" "$binary" "$old" >/dev/null
"$repo/appliance/debian/build.sh" "$binary" "$new" >/dev/null
arch=$(dpkg --print-architecture)
cached_root units systemd,asterisk "$root"
cp "$repo/target/deb/shofar_${old}_${arch}.deb" "$repo/target/deb/shofar_${new}_${arch}.deb" "$root/tmp/"

failed=()
fail() { printf 'deb-test: FAIL: %s\n' "$*" >&2; failed+=("$*"); }
run() { in_root "$root" "$@"; }
as_shofar() { run runuser -u shofar -- "$@"; }
expect_mode() { # expect_mode PATH OWNER:GROUP MODE
    local got
    got=$(chroot "$root" stat -c '%U:%G %a' "$1" 2>/dev/null) || got="missing"
    [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}
apt_get() {
    run env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@" \
        > "$root/tmp/apt.log" 2>&1 || { cat "$root/tmp/apt.log" >&2; die "apt-get $* failed (above)"; }
}

# --- install ------------------------------------------------------------------
apt_get install "/tmp/shofar_${old}_${arch}.deb"
grep -q "made /etc/shofar/shofar.toml" "$root/tmp/apt.log" || fail "postinst did not say it made the configuration"
run shofar --version >/dev/null || fail "shofar does not run in the root"
run shofar-sync --version >/dev/null || fail "shofar-sync does not run in the root"
run id shofar >/dev/null 2>&1 || fail "no user shofar"
expect_mode /etc/shofar/shofar.toml root:shofar 640
expect_mode /var/lib/shofar shofar:shofar 750
expect_mode /etc/asterisk/ari.conf asterisk:asterisk 640
expect_mode /etc/asterisk/pjsip.conf asterisk:asterisk 640
password=$(sed -n 's/^ari_password = "\(.*\)"/\1/p' "$root/etc/shofar/shofar.toml")
[ ${#password} = 32 ] || fail "the ARI password in shofar.toml is '${password}', expected 32 characters"
grep -q "password = $password" "$root/etc/asterisk/ari.conf" || fail "ari.conf does not hold shofar.toml's ARI password"
grep -q "No trunk yet" "$root/etc/asterisk/pjsip.conf" || fail "pjsip.conf should say there is no trunk yet"
[ -s "$root/usr/lib/systemd/system/shofar-sync.service" ] || fail "shofar-sync.service is not installed"
for link in multi-user.target.wants/shofar.service multi-user.target.wants/shofar-sync.service \
    multi-user.target.wants/asterisk.service timers.target.wants/shofar-backup.timer; do
    [ -L "$root/etc/systemd/system/$link" ] || fail "$link is not enabled"
done
# Data, as the box's user: a listed number and a campaign.
as_shofar shofar blacklist add 052-5551234 --reason "asked on the phone" >/dev/null 2>&1 \
    || fail "user shofar cannot use the database"
# Root is refused (it would leave files shofar cannot write), and says how.
if output=$(run shofar blacklist check 052-5551234 2>&1); then
    fail "root may open shofar's database"
else
    printf '%s' "$output" | grep -q "sudo -u shofar" || fail "root's refusal does not say what to do: $output"
fi
# The sync agent as its unit runs it: without [sync] the box works offline, and
# the agent says so and exits 0 (systemd does not restart it).
if output=$(as_shofar shofar-sync --config /etc/shofar/shofar.toml run 2>&1); then
    printf '%s' "$output" | grep -q "works offline" \
        || fail "shofar-sync run on the unconfigured box does not say it works offline: $output"
else
    fail "shofar-sync run on the unconfigured box fails: $output"
fi
# The template's [sync] example, uncommented, is accepted: the agent finds no
# status of its own yet ("has not run", exit 2) instead of refusing the section.
sed '/^# \[sync\]$/,/^$/s/^# //' "$root/etc/shofar/shofar.toml" > "$root/tmp/sync.toml"
chmod 0644 "$root/tmp/sync.toml"
output=$(as_shofar shofar-sync --config /tmp/sync.toml status 2>&1) || true
printf '%s' "$output" | grep -q "has not run on this box" \
    || fail "shofar-sync does not accept the template's [sync] example: $output"
say "installed $old: configuration, Asterisk's, units, the database as user shofar; the sync agent works offline"

# --- upgrade ------------------------------------------------------------------
sum=$(sha256sum < "$root/etc/shofar/shofar.toml")
apt_get install "/tmp/shofar_${new}_${arch}.deb"
[ "$(run dpkg-query -W -f='${Version}' shofar)" = "$new" ] || fail "the upgrade did not install $new"
[ "$(sha256sum < "$root/etc/shofar/shofar.toml")" = "$sum" ] || fail "the upgrade changed shofar.toml"
as_shofar shofar blacklist check 052-5551234 >/dev/null || fail "the listed number is gone after the upgrade"
ls "$root/var/lib/shofar/backups/"shofar-*.db >/dev/null 2>&1 || fail "no backup was made before the upgrade"
as_shofar shofar db info >/dev/null || fail "db info fails after the upgrade"
say "upgraded to $new: database, its data and the configuration kept; a backup made first"

# --- remove, then purge --------------------------------------------------------
apt_get remove shofar
for path in /usr/bin/shofar /usr/bin/shofar-sync /usr/lib/systemd/system/shofar.service \
    /usr/lib/systemd/system/shofar-sync.service; do
    [ ! -e "$root$path" ] || fail "remove left $path"
done
[ -s "$root/var/lib/shofar/shofar.db" ] || fail "remove deleted the database"
[ -s "$root/etc/shofar/shofar.toml" ] || fail "remove deleted the configuration"
say "removed: binaries and units gone, database and configuration kept"
apt_get install "/tmp/shofar_${new}_${arch}.deb"
as_shofar shofar blacklist check 052-5551234 >/dev/null || fail "reinstalling lost the listed number"
apt_get purge shofar
for path in /var/lib/shofar /etc/shofar /etc/systemd/system/asterisk.service; do
    [ ! -e "$root$path" ] || fail "purge left $path"
done
[ -e "$root/usr/sbin/asterisk" ] || fail "purge removed Asterisk"
say "reinstalled (the data back), then purged: data and configuration gone, Asterisk kept"

elapsed=$(( $(date +%s) - started ))
if [ ${#failed[@]} -gt 0 ]; then
    die "${#failed[@]} failed (${elapsed} s)"
fi
say "the package installs, upgrades, removes and purges as it should (${elapsed} s)"
