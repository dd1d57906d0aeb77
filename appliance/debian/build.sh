#!/usr/bin/env bash
# Builds the Debian package of Shofar: target/deb/shofar_VERSION_amd64.deb.
#
#   appliance/debian/build.sh SHOFAR_BINARY [VERSION]
#   appliance/debian/build.sh --version     prints the default VERSION
#
# The package holds the supervisor (`/usr/bin/shofar`, stripped; its web UI and
# Asterisk templates are compiled in), the sync agent (`/usr/bin/shofar-sync`,
# from the same build: beside SHOFAR_BINARY), the systemd units, sysusers.d and
# tmpfiles.d from systemd/, and the maintainer scripts beside this file. It
# depends on Debian's asterisk (forky, sid; bookworm has none: docs/appliance.md).
# Made with dpkg-deb alone (no debhelper tree to keep): files are owned by root
# whoever builds, and the package is the same bytes for the same inputs apart
# from the binary's.
# VERSION defaults to the workspace's version with the commit count since the
# repository began (0.1.0+412): later commits make higher versions, so
# `apt install` of a newer build is an upgrade.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${1:?usage: build.sh SHOFAR_BINARY [VERSION]}
say() { printf 'deb: %s\n' "$*"; }
die() { printf 'deb: error: %s\n' "$*" >&2; exit 1; }

base=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml")
count=$(git -C "$repo" rev-list --count HEAD 2>/dev/null || echo 0)
version=${2:-$base+$count}
if [ "$binary" = --version ]; then
    printf '%s\n' "$version"
    exit 0
fi
[ -x "$binary" ] || die "$binary is not an executable (build it first: make build)"
sync_binary=$(dirname "$binary")/shofar-sync
[ -x "$sync_binary" ] || die "$sync_binary is not an executable (make build builds it beside shofar)"
case $version in
    [0-9]*) ;;
    *) die "version $version must start with a digit (Debian policy)" ;;
esac
arch=$(dpkg --print-architecture)
out=$repo/target/deb
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$out"

# The newest glibc symbol either binary uses decides the libc6 the package needs.
glibc=$(objdump -T "$binary" "$sync_binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -n1)
[ -n "$glibc" ] || die "cannot read the glibc version $binary needs (objdump -T)"

install -D -m 0755 "$binary" "$stage/usr/bin/shofar"
install -D -m 0755 "$sync_binary" "$stage/usr/bin/shofar-sync"
strip --strip-unneeded "$stage/usr/bin/shofar" "$stage/usr/bin/shofar-sync"
for unit in shofar.service shofar-sync.service shofar-backup.service shofar-backup.timer; do
    install -D -m 0644 "$repo/systemd/$unit" "$stage/usr/lib/systemd/system/$unit"
done
# A whole unit in /etc takes precedence over Debian's in /usr/lib (systemd/README.md).
install -D -m 0644 "$repo/systemd/asterisk.service" "$stage/etc/systemd/system/asterisk.service"
install -D -m 0644 "$repo/systemd/sysusers.d/shofar.conf" "$stage/usr/lib/sysusers.d/shofar.conf"
install -D -m 0644 "$repo/systemd/tmpfiles.d/shofar.conf" "$stage/usr/lib/tmpfiles.d/shofar.conf"
install -D -m 0644 "$here/shofar.toml.in" "$stage/usr/share/shofar/shofar.toml.in"
install -D -m 0644 "$repo/docs/shofar.example.toml" "$stage/usr/share/doc/shofar/shofar.example.toml"
install -D -m 0644 "$repo/docs/sync.md" "$stage/usr/share/doc/shofar/sync.md"
install -D -m 0644 "$here/copyright" "$stage/usr/share/doc/shofar/copyright"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$stage/DEBIAN/$script"
done
printf '/etc/systemd/system/asterisk.service\n' > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
# ca-certificates: the sync agent checks S3's certificate against the system's CAs
# (the broker's is [sync] ca), and with [sync] it does not start without them
# ("s3_endpoint is not a usable URL: builder error"); a box that never syncs does
# without. A Recommends, which apt installs by default (and the image has).
cat > "$stage/DEBIAN/control" <<CONTROL
Package: shofar
Version: $version
Architecture: $arch
Maintainer: Shofar developers <shofar@localhost>
Installed-Size: $size
Depends: libc6 (>= $glibc), libgcc-s1, asterisk (>= 1:20), systemd (>= 252), init-system-helpers
Recommends: ca-certificates
Section: comm
Priority: optional
Homepage: https://localhost/shofar
Description: outbound calling box: campaigns, IVR, do-not-call list, web UI
 Shofar runs calling campaigns through Asterisk for Israeli organizations:
 contacts imported from spreadsheets, calling windows that keep Shabbat and
 holidays, IVR menus, a do-not-call list checked before every dial, pacing from
 the box's own health, and a web UI in Hebrew and English.
 .
 This package installs the supervisor (shofar serve), the sync agent
 (shofar-sync: idle until [sync] connects the box to the organization's AWS
 account), their hardened systemd units, the hardened Asterisk unit and the
 Asterisk configuration it renders.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/shofar_${version}_${arch}.deb" >/dev/null
rm -rf "$stage"
say "$out/shofar_${version}_${arch}.deb ($(du -h "$out/shofar_${version}_${arch}.deb" | cut -f1))"
