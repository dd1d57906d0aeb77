# nooelint: oelint.var.mandatoryvar.SRC_URI - nothing to fetch: grub-editenv writes the file
SUMMARY = "The GRUB environment a new Shofar disk starts with"
DESCRIPTION = "grubenv for the ESP (/EFI/BOOT/grubenv): slot A written and good, \
               slot B empty. grub.cfg and RAUC keep it from there."
SECTION = "bootloaders"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

# grub-editenv of the build host's GRUB, which writes the block GRUB's load_env reads.
DEPENDS = "grub-native"
INHIBIT_DEFAULT_DEPS = "1"

inherit deploy nopackages

S = "${UNPACKDIR}"

do_configure[noexec] = "1"
do_install[noexec] = "1"

do_compile() {
    rm -f ${B}/grubenv
    grub-editenv ${B}/grubenv create
    grub-editenv ${B}/grubenv set "ORDER=A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
}

# The image's wic step puts it on the ESP (IMAGE_EFI_BOOT_FILES).
do_deploy() {
    install -m 0644 ${B}/grubenv ${DEPLOYDIR}/shofar-grubenv
}
addtask deploy after do_compile before do_build
