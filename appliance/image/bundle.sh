#!/usr/bin/env bash
# make bundle: a signed RAUC update bundle of the image's root file system,
# target/image/shofar-VERSION.raucb (docs/appliance.md, "Updates").
#
#   appliance/image/bundle.sh [IMAGE_DIR [OUT]]
#
# IMAGE_DIR is where build.sh left rootfs.ext4 and root/ (target/image by
# default); the version is the one the root carries (/usr/lib/shofar/release).
# Signed with RAUC_CERT and RAUC_KEY: by default the development pair in
# appliance/image/rauc, which only images built with the development CA trust.
# The bundle is checked against RAUC_KEYRING (the CA the image trusts) before
# it is kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${1:-$repo/target/image}
cert=${RAUC_CERT:-$here/rauc/dev-signer.pem}
key=${RAUC_KEY:-$here/rauc/dev-signer.key.pem}
keyring=${RAUC_KEYRING:-$here/rauc/dev-ca.pem}

say() { printf 'bundle: %s\n' "$*"; }
die() { printf 'bundle: error: %s\n' "$*" >&2; exit 1; }
. "$repo/tests/image/lib.sh"

[ -s "$dir/rootfs.ext4" ] || die "$dir/rootfs.ext4: no root file system (make image builds it)"
need_host_tools rauc:rauc mksquashfs:squashfs-tools
version=$(sed -n 's/^SHOFAR_VERSION=//p' "$dir/root/usr/lib/shofar/release" 2>/dev/null || true)
[ -n "$version" ] || die "$dir/root/usr/lib/shofar/release names no version"
compatible=$(sed -n 's/^compatible=//p' "$dir/root/etc/rauc/system.conf")
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/shofar-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
cat > "$work/content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
description=Shofar $version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
# A hard link, not a copy: the root file system is 1.5 GB.
ln "$dir/rootfs.ext4" "$work/content/rootfs.ext4" 2>/dev/null || cp --sparse=always "$dir/rootfs.ext4" "$work/content/"
out=${2:-$dir/shofar-$version.raucb}
rm -f "$out"
if ! output=$(rauc bundle --cert="$cert" --key="$key" --keyring="$keyring" "$work/content" "$out" 2>&1); then
    printf '%s\n' "$output" >&2
    die "rauc could not make the bundle (above)"
fi
say "$out: $(du -m "$out" | cut -f1) MB, $compatible $version, signed by $(openssl x509 -noout -subject -in "$cert" | sed 's/^subject=//') ($(( $(date +%s) - started )) s)"
