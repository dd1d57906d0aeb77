# The root file system of a Shofar box is read-only. OE-core binds /var/lib,
# /var/cache, /var/spool and /srv to tmpfs (/var/volatile); a box keeps /var/lib
# (the supervisor's database, Asterisk's astdb and prompts) and /var/spool across
# reboots and updates on the data partition instead, and its configuration (the
# supervisor's shofar.toml, the Asterisk files `shofar asterisk-config --write`
# renders) too. Each is an overlay over the image's own folder (mount-copybind),
# so files the image ships stay visible until the box changes them.
VOLATILE_BINDS:shofar = "/data/var-lib ${localstatedir}/lib\n"
VOLATILE_BINDS:append:shofar = " /data/var-spool ${localstatedir}/spool\n"
VOLATILE_BINDS:append:shofar = " /data/etc-shofar ${sysconfdir}/shofar\n"
VOLATILE_BINDS:append:shofar = " /data/etc-asterisk ${sysconfdir}/asterisk\n"
VOLATILE_BINDS:append:shofar = " ${localstatedir}/volatile/cache ${localstatedir}/cache\n"
VOLATILE_BINDS:append:shofar = " ${localstatedir}/volatile/srv ${servicedir}\n"
