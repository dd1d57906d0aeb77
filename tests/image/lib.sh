# Shared by the scripts in tests/image: a Debian root built once with mmdebstrap,
# cached as a tarball in $SHOFAR_CACHE, and unpacked afresh for every run.
# Source it after defining say() and die().

cache=${SHOFAR_CACHE:-$HOME/.cache/shofar}
suite=${SHOFAR_IMAGE_SUITE:-forky}

# need_host_tools TOOL...: installs the Debian packages of the same names when missing.
need_host_tools() {
    local missing=() tool
    for tool in "$@"; do
        command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || die "apt-get update failed"
        apt-get install -y -qq "${missing[@]}" >/dev/null || die "cannot install ${missing[*]}"
    fi
}

# The machine's Debian mirror (a frozen snapshot here), else Debian's own.
debian_mirror() {
    local mirror
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

# cached_root NAME PACKAGES DEST: unpacks into DEST (emptied first) a minbase root
# of $suite with PACKAGES (comma-separated), built once and cached as
# $cache/$suite-NAME-root.tar.zst.
cached_root() {
    local name=$1 packages=$2 dest=$3
    local tarball=$cache/$suite-$name-root.tar.zst
    need_host_tools mmdebstrap zstd
    if [ ! -s "$tarball" ]; then
        local mirror build
        mirror=$(debian_mirror)
        say "building a Debian $suite root with $packages from $mirror (about 90 s, once; cached in $cache)"
        build=$(mktemp -d "${TMPDIR:-/tmp}/shofar-root.XXXXXX")
        # The mirror is a frozen snapshot: without Check-Valid-Until apt calls its
        # Release files expired. Only what is used: no recommends, no docs.
        if ! mmdebstrap --quiet --variant=minbase --mode=root --include="$packages" \
            --aptopt='Acquire::Check-Valid-Until "false"' \
            --aptopt='APT::Install-Recommends "false"' \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            "$suite" "$build/root" "$mirror"; then
            rm -rf "$build"
            die "mmdebstrap failed (see above)"
        fi
        mkdir -p "$cache"
        tar -C "$build/root" -cf - . | zstd -3 -q -T0 -o "$tarball.part"
        mv "$tarball.part" "$tarball"
        rm -rf "$build"
    fi
    if [ -d "$dest" ]; then rm -rf "$dest"; fi
    mkdir -p "$dest"
    zstd -dc -q "$tarball" | tar -C "$dest" -xf -
}

# in_root ROOT COMMAND...: runs COMMAND in ROOT with /proc mounted in a mount
# namespace of its own (gone with the command: nothing is left mounted).
in_root() {
    local root=$1; shift
    unshare --mount --fork chroot "$root" sh -c 'mount -t proc proc /proc && exec "$@"' sh "$@"
}
