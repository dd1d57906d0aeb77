SUMMARY = "The production image of a Shofar box"
DESCRIPTION = "Read-only root file system with systemd, the Shofar supervisor, \
               Asterisk and RAUC, on a GPT disk with an ESP, two root slots (A/B) \
               and /data."
SECTION = "base"
LICENSE = "MIT"

inherit core-image features_check

# systemd as init and RAUC come from the distro (conf/distro/shofar.conf); a build
# with another distro stops here, saying which feature is missing.
REQUIRED_DISTRO_FEATURES = "systemd rauc"

IMAGE_FEATURES += "read-only-rootfs"

IMAGE_INSTALL = "packagegroup-core-boot \
                 ${CORE_IMAGE_EXTRA_INSTALL} \
                 kernel-image-bzimage \
                 shofar \
                 shofar-asterisk \
                 shofar-system \
                 rauc \
                 rauc-mark-good \
                 grub-editenv"
# kernel-image-bzimage: each slot carries its kernel at /boot/bzImage (grub.cfg).
# grub-editenv: RAUC's grub backend calls it; meta-rauc adds it only when
# virtual/bootloader is GRUB, which an EFI machine does not set.

# ext4 first: the bundle takes the root file system image of the first type.
IMAGE_FSTYPES = "ext4 wic wic.bmap"

# The root file system must fit a 1536 MiB slot.
IMAGE_ROOTFS_MAXSIZE = "1572864"

WKS_FILE = "shofar.wks.in"
WKS_SEARCH_PATH:prepend = "${SHOFAR_LAYERDIR}/wic:"
SHOFAR_GRUB_CFG = "${SHOFAR_LAYERDIR}/recipes-bsp/grub/files/grub.cfg"
# wic does not know the kickstart file reads grub.cfg: rebuild when it changes.
do_image_wic[file-checksums] += "${SHOFAR_GRUB_CFG}:True"

# The ESP gets the initial grubenv beside grub.cfg.
IMAGE_EFI_BOOT_FILES = "shofar-grubenv;EFI/BOOT/grubenv"
do_image_wic[depends] += "shofar-grubenv:do_deploy"
