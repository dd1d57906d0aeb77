#!/usr/bin/env bash
# yocto/check.sh — `make test-yocto`: what can be checked of the Yocto layer
# (yocto/meta-shofar) without bitbake, which no registry here offers
# (docs/yocto.md, "What was not tried"). Exits non-zero naming every failure:
#
# 1. shofar-crates.inc is in sync with Cargo.lock (crates-inc.py --check), and the
#    check itself works both ways: a copy of Cargo.lock with one crate's version
#    bumped must fail, naming that crate.
# 2. The layer repeats three facts of the source tree; each must still agree:
#    - the version: Cargo.toml's, the shofar recipe's file name, DISTRO_VERSION;
#    - Asterisk's modules: asterisk/modules.conf and the recipe's ASTERISK_MODULES;
#    - Asterisk's paths: asterisk/asterisk.conf (astmoddir, astdatadir) and the
#      recipe's ASTERISK_MODDIR, ASTERISK_DATADIR.
# 3. grub.cfg parses (grub-script-check, from Debian's grub-common; installed
#    with apt-get when missing, as root).
# 4. oelint-adv finds nothing in any .bb, .bbappend or .inc of the layer. It runs
#    from a venv in $SHOFAR_CACHE/venv-oelint, built from requirements-oelint.txt
#    (exact pins) when missing or different.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
layer="$here/meta-shofar"
cache="${SHOFAR_CACHE:-$HOME/.cache/shofar}"
venv="$cache/venv-oelint"
requirements="$here/requirements-oelint.txt"

failures=()
say() { echo "check.sh: $*" >&2; }
fail() { say "FAIL: $*"; failures+=("$1"); }
ok() { echo "check.sh: ok: $*"; }

# --- 1. the crate list --------------------------------------------------------
if python3 "$here/scripts/crates-inc.py" --check; then
  ok "shofar-crates.inc is in sync with Cargo.lock"
else
  fail "shofar-crates.inc is out of sync with Cargo.lock (python3 yocto/scripts/crates-inc.py)"
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/shofar-yocto-check.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
# The first crate of Cargo.lock with its version bumped: --check must fail and name it.
crate="$(sed -n '/^\[\[package\]\]$/,$ { /^name = "/ { s/^name = "\(.*\)"$/\1/p; q } }' "$root/Cargo.lock")"
sed "/^name = \"$crate\"\$/{n;s/^version = \"\\(.*\\)\"\$/version = \"\\1-bumped\"/}" \
  "$root/Cargo.lock" > "$scratch/Cargo.lock"
if python3 "$here/scripts/crates-inc.py" --check --lock "$scratch/Cargo.lock" 2> "$scratch/stderr" >/dev/null; then
  fail "crates-inc.py --check passed a Cargo.lock whose $crate was bumped"
elif ! grep -q "^  $crate: .* in the .inc, .*-bumped in Cargo.lock\$" "$scratch/stderr"; then
  cat "$scratch/stderr" >&2
  fail "crates-inc.py --check failed on a bumped $crate without naming it"
else
  ok "crates-inc.py --check fails on a bumped crate and names it ($crate)"
fi

# --- 2. facts the layer repeats ----------------------------------------------
cargo_version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]["version"])' "$root/Cargo.toml")"
recipe_version="$(cd "$layer/recipes-shofar/shofar" && ls shofar_*.bb | sed 's/^shofar_\(.*\)\.bb$/\1/')"
distro_version="$(sed -n 's/^DISTRO_VERSION = "\(.*\)"$/\1/p' "$layer/conf/distro/shofar.conf")"
if [[ "$cargo_version" == "$recipe_version" && "$cargo_version" == "$distro_version" ]]; then
  ok "version $cargo_version in Cargo.toml, shofar_$recipe_version.bb and DISTRO_VERSION"
else
  fail "versions differ: Cargo.toml $cargo_version, recipe shofar_$recipe_version.bb, conf/distro/shofar.conf DISTRO_VERSION $distro_version (rename the recipe and set DISTRO_VERSION to Cargo.toml's)"
fi

asterisk_recipe="$(ls "$layer"/recipes-telephony/asterisk/asterisk_*.bb)"
# A variable's value from the recipe, continuation lines joined.
recipe_var() {
  awk -v name="$1" '$0 ~ "^" name " = \"" { on = 1 } on { print; if ($0 ~ /"$/) exit }' "$asterisk_recipe" \
    | tr -d '\\\n' | sed "s/^$1 = \"//; s/\"\$//"
}
sed -n 's/^load => \(.*\)\.so$/\1/p' "$root/asterisk/modules.conf" | sort > "$scratch/loaded"
recipe_var ASTERISK_MODULES | tr -s ' ' '\n' | sed '/^$/d' | sort > "$scratch/built"
if cmp -s "$scratch/loaded" "$scratch/built"; then
  ok "Asterisk's recipe builds the $(wc -l < "$scratch/loaded") modules asterisk/modules.conf loads"
else
  for module in $(comm -23 "$scratch/loaded" "$scratch/built"); do
    fail "asterisk/modules.conf loads $module, which ASTERISK_MODULES in $(basename "$asterisk_recipe") does not build"
  done
  for module in $(comm -13 "$scratch/loaded" "$scratch/built"); do
    fail "ASTERISK_MODULES in $(basename "$asterisk_recipe") builds $module, which asterisk/modules.conf does not load"
  done
fi

# OE-core's default paths on the image: ${libdir} is /usr/lib, ${datadir} /usr/share.
oe_path() { sed 's|\${libdir}|/usr/lib|; s|\${datadir}|/usr/share|'; }
for pair in astmoddir:ASTERISK_MODDIR astdatadir:ASTERISK_DATADIR; do
  conf_key="${pair%%:*}" recipe_key="${pair##*:}"
  conf_path="$(sed -n "s/^$conf_key => //p" "$root/asterisk/asterisk.conf")"
  recipe_path="$(recipe_var "$recipe_key" | oe_path)"
  if [[ -n "$conf_path" && "$conf_path" == "$recipe_path" ]]; then
    ok "$conf_key $conf_path: asterisk.conf and the recipe's $recipe_key agree"
  else
    fail "asterisk/asterisk.conf says $conf_key => $conf_path, the recipe installs to $recipe_key = $recipe_path"
  fi
done

# --- 3. grub.cfg ----------------------------------------------------------------
if ! command -v grub-script-check >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "grub-script-check is missing: installing Debian's grub-common"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends grub-common >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends grub-common >/dev/null; }
  fi
fi
grub_cfg="$layer/recipes-bsp/grub/files/grub.cfg"
if ! command -v grub-script-check >/dev/null; then
  fail "grub-script-check is missing and could not be installed (apt-get install grub-common, as root)"
elif grub-script-check "$grub_cfg"; then
  ok "grub.cfg parses (grub-script-check)"
else
  fail "grub.cfg does not parse: grub-script-check $grub_cfg"
fi

# --- 4. oelint-adv --------------------------------------------------------------
if [[ ! -x "$venv/bin/oelint-adv" ]] || ! cmp -s "$requirements" "$venv/requirements-oelint.txt"; then
  say "installing oelint-adv ($(sed -n 's/^oelint-adv==//p' "$requirements")) into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  if python3 -m venv "$venv" \
    && "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"; then
    cp "$requirements" "$venv/requirements-oelint.txt"
  else
    rm -rf "$venv"
    fail "could not install oelint-adv into $venv (python3-venv missing? PyPI unreachable?)"
  fi
fi

if [[ -x "$venv/bin/oelint-adv" ]]; then
  mapfile -t recipes < <(cd "$layer" && find . \( -name '*.bb' -o -name '*.bbappend' -o -name '*.inc' \) | sed 's|^\./||' | sort)
  suppress=(
    # It fetches every URL it finds, and this check runs with no network but the registries.
    --suppress oelint.vars.homepageping
    # OE-core's generated crate list (shofar-crates.inc, kept byte for byte as
    # `bitbake -c update_crates` writes it) opens with `SRC_URI += " \`.
    --suppress oelint.vars.inconspaces
    --suppress oelint.vars.notneededspace
    # shofar's source is a local tarball (file://), so it comes first and the crate:// entries after.
    --suppress oelint.vars.srcurifile
    # Shofar's own recipes have no public home page, bug tracker or CVE product (Asterisk's has all three).
    --suppress oelint.var.mandatoryvar.HOMEPAGE
    --suppress oelint.var.suggestedvar.BUGTRACKER
    --suppress oelint.var.suggestedvar.CVE_PRODUCT
    # The Shofar tree has no licence file (Cargo.toml says Apache-2.0): its recipes name OE-core's copy.
    --suppress oelint.var.licenseremotefile
    # Nothing here is built for the build host or an SDK.
    --suppress oelint.var.bbclassextend
  )
  # Findings silenced in place (`# nooelint:` lines, each giving its reason):
  grep -rn --include='*.bb' --include='*.bbappend' --include='*.inc' '^# nooelint:' "$layer" \
    | sed "s|^$layer/|check.sh: suppressed in place: |"
  if (cd "$layer" && "$venv/bin/oelint-adv" --quiet --release wrynose \
      --extra-layer rauc openembedded-layer \
      --constantmods "+$here/oelint-constants.json" \
      "${suppress[@]}" "${recipes[@]}") 2> "$scratch/oelint"; then
    if [[ -s "$scratch/oelint" ]]; then
      sed "s|$layer/||" "$scratch/oelint" >&2
      fail "oelint-adv printed findings"
    else
      ok "oelint-adv $("$venv/bin/oelint-adv" --version | cut -d' ' -f2): no finding in ${#recipes[@]} files"
    fi
  else
    sed "s|$layer/||" "$scratch/oelint" >&2
    fail "oelint-adv found $(grep -c . "$scratch/oelint") issues"
  fi
fi

if (( ${#failures[@]} )); then
  say "${#failures[@]} failed"
  exit 1
fi
echo "check.sh: the Yocto layer passed every check that runs without bitbake"
