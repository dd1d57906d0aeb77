SUMMARY = "A Shofar box's mounts, data partition growth and boot check"
DESCRIPTION = "systemd units for the ESP (/boot/efi) and the data partition \
               (/data), the first-boot growth of /data over the disk, and the \
               condition for RAUC to mark a booted slot good."
SECTION = "base"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

SRC_URI = "file://data.mount \
           file://boot-efi.mount \
           file://shofar-grow-data.sh \
           file://shofar-grow-data.service \
           file://boot-complete-shofar.conf"

S = "${UNPACKDIR}"

inherit allarch systemd features_check

REQUIRED_DISTRO_FEATURES = "systemd"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${UNPACKDIR}/data.mount ${D}${systemd_system_unitdir}/
    install -m 0644 ${UNPACKDIR}/boot-efi.mount ${D}${systemd_system_unitdir}/
    install -m 0644 ${UNPACKDIR}/shofar-grow-data.service ${D}${systemd_system_unitdir}/
    install -d ${D}${systemd_system_unitdir}/boot-complete.target.d
    install -m 0644 ${UNPACKDIR}/boot-complete-shofar.conf ${D}${systemd_system_unitdir}/boot-complete.target.d/shofar.conf

    install -d ${D}${libexecdir}
    install -m 0755 ${UNPACKDIR}/shofar-grow-data.sh ${D}${libexecdir}/shofar-grow-data

    # Mount points in the read-only root file system.
    install -d ${D}/data ${D}/boot/efi
}

SYSTEMD_SERVICE:${PN} = "data.mount boot-efi.mount shofar-grow-data.service"

FILES:${PN} += "/data \
                /boot/efi \
                ${systemd_system_unitdir}/boot-complete.target.d/shofar.conf"

RDEPENDS:${PN} = "e2fsprogs-resize2fs \
                  util-linux-lsblk \
                  util-linux-partx \
                  util-linux-sfdisk"
