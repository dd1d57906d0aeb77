# A Shofar box's RAUC configuration (files/system.conf) and the keyring bundles are
# checked against: the CA certificate (PEM) that signed the bundle certificate
# (docs/yocto.md, "Signing keys"). Like the signing key, the keyring is not in this
# repository: local.conf names it, SHOFAR_RAUC_KEYRING = "/absolute/path/ca.cert.pem".
# Unset, the fetch fails naming the file SHOFAR_RAUC_KEYRING-is-not-set.pem.
FILESEXTRAPATHS:prepend:shofar := "${THISDIR}/files:${@os.path.dirname(d.getVar('SHOFAR_RAUC_KEYRING') or '/nonexistent/')}:"
RAUC_KEYRING_FILE:shofar = "${@os.path.basename(d.getVar('SHOFAR_RAUC_KEYRING') or 'SHOFAR_RAUC_KEYRING-is-not-set.pem')}"

# system.conf names the keyring relative to itself (both in /usr/lib/rauc).
do_install:append:shofar() {
    sed -i -e 's|@RAUC_KEYRING_FILE@|${RAUC_KEYRING_FILE}|' ${D}${nonarch_libdir}/rauc/system.conf
}
