#!/usr/bin/env bash
# yocto/scripts/source-tarball.sh [OUTPUT_DIR] — the source the shofar recipe builds:
# shofar-VERSION.tar.gz, the committed tree at HEAD (git archive) plus the web UI
# built from it (webui/dist, by `make webui`), under the folder shofar-VERSION/.
# With the UI prebuilt here, the Yocto build needs no Node.js (docs/yocto.md,
# "The web UI"). VERSION is Cargo.toml's.
#
# OUTPUT_DIR defaults to the recipe's files/ folder, where bitbake finds it
# (SRC_URI = "file://shofar-${PV}.tar.gz"; files/.gitignore keeps it out of git).
# Refuses a checkout with uncommitted changes to tracked files: the tarball would
# not be HEAD. The same commit gives the same tarball (times from the commit,
# owners 0, sorted names, gzip without a name or time), except for what the web
# UI's build itself varies.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/yocto/meta-shofar/recipes-shofar/shofar/files}"
say() { echo "source-tarball.sh: $*" >&2; }

cd "$root"
if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
  say "the checkout has uncommitted changes; the tarball is made from HEAD: commit or stash them first"
  exit 2
fi
version="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')"
commit="$(git rev-parse HEAD)"
commit_time="$(git log -1 --format=%ct HEAD)"
prefix="shofar-$version"

webui/scripts/build.sh
[[ -f webui/dist/index.html ]] || { say "webui/dist/index.html is missing after the web UI build"; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/shofar-tarball.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git archive --format=tar --prefix="$prefix/" HEAD > "$work/shofar.tar"
echo "$commit" > "$work/COMMIT"
tar_options=(--sort=name --mtime="@$commit_time" --owner=0 --group=0 --numeric-owner)
tar --append -f "$work/shofar.tar" "${tar_options[@]}" \
  --transform="s|^webui/dist|$prefix/webui/dist|" webui/dist
tar --append -f "$work/shofar.tar" "${tar_options[@]}" \
  -C "$work" --transform="s|^COMMIT\$|$prefix/COMMIT|" COMMIT

mkdir -p "$out"
gzip -n -9 < "$work/shofar.tar" > "$out/$prefix.tar.gz"
say "wrote $out/$prefix.tar.gz (commit $commit, web UI included)"
sha256sum "$out/$prefix.tar.gz"
