# nooelint: oelint.file.underscores,oelint.var.mandatoryvar.SRC_URI - named after the image it carries, versioned as the box (DISTRO_VERSION); it fetches nothing
SUMMARY = "RAUC update bundle of a Shofar box"
DESCRIPTION = "A signed verity bundle carrying shofar-image's root file system for \
               the inactive slot (rootfs.0 or rootfs.1)."
SECTION = "base"
LICENSE = "MIT"

inherit bundle

RAUC_BUNDLE_COMPATIBLE = "shofar-x86_64"
RAUC_BUNDLE_VERSION = "${DISTRO_VERSION}"
RAUC_BUNDLE_FORMAT = "verity"
RAUC_BUNDLE_DESCRIPTION = "Shofar box root file system"

RAUC_BUNDLE_SLOTS = "rootfs"
RAUC_SLOT_rootfs = "shofar-image"
RAUC_SLOT_rootfs[fstype] = "ext4"

# The signing key and its certificate never live in this repository: local.conf
# names them (docs/yocto.md, "Signing keys"). The bundle class stops, naming the
# variable, when one is missing.
RAUC_KEY_FILE ?= "${SHOFAR_RAUC_KEY_FILE}"
RAUC_CERT_FILE ?= "${SHOFAR_RAUC_CERT_FILE}"
