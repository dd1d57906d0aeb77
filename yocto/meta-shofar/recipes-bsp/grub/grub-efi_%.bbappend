# grub.cfg finds the disk it was started from with regexp ($cmdpath); OE-core's
# list of modules built into bootx64.efi lacks it.
GRUB_BUILDIN:append:shofar = " regexp"
