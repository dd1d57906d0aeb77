SUMMARY = "Asterisk, built for a Shofar box: PJSIP, ARI and the modules it loads"
DESCRIPTION = "Asterisk ${PV} (22 LTS) with bundled pjproject and only the modules \
               asterisk/modules.conf of the Shofar repository loads, installed at \
               the paths the configuration shofar asterisk-config renders names."
HOMEPAGE = "https://www.asterisk.org/"
BUGTRACKER = "https://github.com/asterisk/asterisk/issues"
SECTION = "net"
CVE_PRODUCT = "asterisk"
# Asterisk is GPLv2 with the exceptions its LICENSE file states; the bundled
# pjproject is GPLv2 or later. (Both checksums are those of the 22.10.1 tag.)
LICENSE = "GPL-2.0-only"
LIC_FILES_CHKSUM = "file://COPYING;md5=3c6764ffcbe996d1d8f919b393ccdd67 \
                    file://LICENSE;md5=97a6cefc13490dd086081452a01aee5c"

# jansson: ARI's JSON; libedit: the console; libxml2: the XML documentation, and
# menuselect on the build host (libxml2-native); openssl: TLS and pjproject;
# sqlite3: astdb; systemd: sd_notify, for asterisk.service's Type=notify;
# util-linux-libuuid: uuid.h (util-linux splits libuuid into its own recipe).
DEPENDS = "jansson libedit libxml2 libxml2-native openssl sqlite3 systemd util-linux-libuuid"

# The pjproject Asterisk bundles (third-party/versions.mak of 22.10.1), fetched by
# bitbake instead of by Asterisk's build, which would download it at compile time.
PJPROJECT_VERSION = "2.17"

# The tarball's sha256 is not pinned yet: it was not fetched where this recipe was
# written. The first fetch stops with "Missing SRC_URI checksum" and prints the
# line to add; compare it with asterisk-${PV}.sha256, published beside the
# tarball, before committing it (docs/yocto.md, "What was not tried").
# nooelint: oelint.vars.srcurichecksum - see above: to be filled at the first fetch
SRC_URI = "https://downloads.asterisk.org/pub/telephony/asterisk/releases/asterisk-${PV}.tar.gz \
           file://asterisk.tmpfiles"
# pjproject keeps its own name and version: Asterisk's build looks for exactly
# pjproject-2.17.tar.bz2 in the externals cache (EXTRA_OECONF).
# nooelint: oelint.vars.srcurichecksum,oelint.vars.downloadfilename,oelint.vars.srcuridomains - md5 only (below); Asterisk fetches it from there too
SRC_URI += "https://raw.githubusercontent.com/asterisk/third-party/master/pjproject/${PJPROJECT_VERSION}/pjproject-${PJPROJECT_VERSION}.tar.bz2;name=pjproject;unpack=0"
# The only checksum known for it: the md5 Asterisk's own tree verifies it with
# (third-party/pjproject/pjproject-2.17.tar.bz2.md5 of the 22.10.1 tag); the first
# fetch prints its sha256 too.
# nooelint: oelint.vars.srcurichecksum - md5 is what Asterisk publishes for this file
SRC_URI[pjproject.md5sum] = "baacc87418a95107657039269bc71538"

# No systemd class here: the unit Asterisk runs under on a box is the shofar
# recipe's (package shofar-asterisk).
inherit autotools-brokensep pkgconfig useradd

# The modules asterisk/modules.conf loads, and nothing else (menuselect below).
# `make test-yocto` checks this list against modules.conf.
ASTERISK_MODULES = "res_timing_timerfd res_sorcery_config res_sorcery_memory res_sorcery_astdb \
                    res_sorcery_realtime pbx_config func_channel func_callerid func_strings func_logic \
                    res_pjproject res_pjsip res_pjsip_pubsub res_pjsip_session chan_pjsip \
                    res_pjsip_sdp_rtp res_rtp_asterisk res_pjsip_nat res_pjsip_caller_id \
                    res_pjsip_rfc3326 res_pjsip_header_funcs res_pjsip_dtmf_info \
                    res_pjsip_endpoint_identifier_ip res_pjsip_authenticator_digest \
                    res_pjsip_outbound_authenticator_digest res_pjsip_outbound_registration \
                    res_pjsip_logger func_pjsip_endpoint \
                    codec_ulaw codec_alaw codec_a_mu format_pcm format_sln format_wav \
                    bridge_simple bridge_native_rtp bridge_softmix bridge_holding \
                    app_amd \
                    res_http_websocket res_websocket_client res_stasis res_stasis_answer \
                    res_stasis_playback res_stasis_recording res_stasis_snoop res_stasis_device_state \
                    app_stasis res_ari res_ari_model res_ari_asterisk res_ari_applications \
                    res_ari_channels res_ari_bridges res_ari_endpoints res_ari_events \
                    res_ari_playbacks res_ari_recordings res_ari_sounds res_ari_device_states"

# The configuration `shofar asterisk-config` renders (asterisk/asterisk.conf)
# names Debian's paths for modules and data; Asterisk is installed there so the
# same configuration runs on both images. `make test-yocto` checks these two
# against asterisk.conf.
ASTERISK_MODDIR = "${libdir}/x86_64-linux-gnu/asterisk/modules"
ASTERISK_DATADIR = "${datadir}/asterisk"

EXTRA_OECONF = "--with-pjproject-bundled \
                --with-externals-cache=${UNPACKDIR} \
                --with-jansson \
                --with-libedit \
                --with-sqlite3 \
                --with-ssl \
                --with-crypto"

EXTRA_OEMAKE = "NOISY_BUILD=yes \
                ASTMODDIR=${ASTERISK_MODDIR} \
                ASTDATADIR=${ASTERISK_DATADIR} \
                BUILD_CC='${BUILD_CC}' \
                BUILD_CFLAGS='${BUILD_CFLAGS}' \
                BUILD_LDFLAGS='${BUILD_LDFLAGS}'"

# Asterisk's tarball carries its generated configure and is not automake: run it
# as it is, without autoreconf. Then its build tool menuselect (built for the
# build host) picks the modules.
do_configure() {
    oe_runconf
    if ! grep -q '^#define HAVE_SYSTEMD 1' ${S}/include/asterisk/autoconfig.h; then
        bbfatal "configure did not find libsystemd: asterisk.service (Type=notify) needs Asterisk built with systemd support"
    fi

    # configure ran menuselect's own configure with the target's compiler and
    # libraries; menuselect runs on the build host, so configure it again for that.
    (
        cd ${S}/menuselect
        CC="${BUILD_CC}" CFLAGS="${BUILD_CFLAGS}" CPPFLAGS="${BUILD_CPPFLAGS}" \
        LDFLAGS="${BUILD_LDFLAGS}" PKG_CONFIG="pkg-config-native" \
            ./configure --build=${BUILD_SYS} --host=${BUILD_SYS}
    )
    oe_runmake menuselect.makeopts
    menuselect/menuselect \
        --disable-category MENUSELECT_ADDONS \
        --disable-category MENUSELECT_APPS \
        --disable-category MENUSELECT_BRIDGES \
        --disable-category MENUSELECT_CDR \
        --disable-category MENUSELECT_CEL \
        --disable-category MENUSELECT_CHANNELS \
        --disable-category MENUSELECT_CODECS \
        --disable-category MENUSELECT_FORMATS \
        --disable-category MENUSELECT_FUNCS \
        --disable-category MENUSELECT_PBX \
        --disable-category MENUSELECT_RES \
        --disable-category MENUSELECT_TESTS \
        --disable-category MENUSELECT_CORE_SOUNDS \
        --disable-category MENUSELECT_MOH \
        --disable-category MENUSELECT_EXTRA_SOUNDS \
        --disable BUILD_NATIVE \
        menuselect.makeopts
    for module in ${ASTERISK_MODULES}; do
        menuselect/menuselect --enable $module menuselect.makeopts
    done
    # Fails, naming them, when a chosen module lacks a library it needs.
    menuselect/menuselect --check-deps menuselect.makeopts
}

do_install() {
    oe_runmake DESTDIR=${D} install
    install -d ${D}${nonarch_libdir}/tmpfiles.d
    install -m 0644 ${UNPACKDIR}/asterisk.tmpfiles ${D}${nonarch_libdir}/tmpfiles.d/asterisk.conf
}

# Asterisk runs as its own user from the start (asterisk.service, User=asterisk).
USERADD_PACKAGES = "${PN}"
USERADD_PARAM:${PN} = "--system --home-dir ${localstatedir}/lib/asterisk --no-create-home --shell ${base_sbindir}/nologin --user-group asterisk"

FILES:${PN} += "${ASTERISK_MODDIR}/*.so \
                ${ASTERISK_DATADIR} \
                ${nonarch_libdir}/tmpfiles.d/asterisk.conf"
FILES:${PN}-dbg += "${ASTERISK_MODDIR}/.debug"
