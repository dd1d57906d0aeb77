#!/usr/bin/env bash
# make image: the Shofar appliance's bootable disk image, target/image/shofar.img.
#
#   appliance/image/build.sh SHOFAR_DEB
#
# GPT on a raw disk image (docs/appliance.md):
#   1 esp       128 MiB  FAT: GRUB (BOOTX64.EFI, the removable-media path),
#                        grub.cfg (the A/B choice) and RAUC's grubenv
#   2 rootfs-a 1536 MiB  ext4, Debian forky with Shofar and Asterisk: read-only
#   3 rootfs-b 1536 MiB  the same image (the update slot)
#   4 data      256 MiB  ext4 "shofar-data": database, configuration, logs;
#                        grown to the end of a larger disk at first boot
# No loop device and no mount: the root is made with mmdebstrap in a folder, its
# file system with `mke2fs -d`, the ESP with mtools, and the partitions are
# written into the disk image at their offsets.
#
# The Debian root without Shofar (every package the box needs, about 90 s) is
# built once and cached in $SHOFAR_CACHE; each build unpacks it, installs the
# .deb and the overlay (appliance/image/overlay), and writes the disk.
# SHOFAR_IMAGE_OUT puts everything elsewhere than target/image (make image-test
# builds a second, newer image there for its update bundles). Needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
deb=${1:?usage: build.sh SHOFAR_DEB}
out=${SHOFAR_IMAGE_OUT:-$repo/target/image}
root=$out/root

say() { printf 'image: %s\n' "$*"; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }
. "$repo/tests/image/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap and files owned by the box's users); run it as root or with sudo"
[ -s "$deb" ] || die "$deb: no such package (make deb builds it)"
started=$(date +%s)
need_host_tools mke2fs:e2fsprogs sfdisk:fdisk mkfs.vfat:dosfstools mcopy:mtools \
    grub-mkstandalone:grub-efi-amd64-bin grub-editenv:grub-common

# Everything the box runs, apart from Shofar itself. Changing this list builds a
# new cached root (its name carries a hash of the list).
packages=systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,e2fsprogs,fdisk,util-linux
packages=$packages,iproute2,curl,ca-certificates,asterisk,rauc,rauc-service,grub-common,kmod,less
cached_root "image-$(printf '%s' "$packages" | sha256sum | cut -c1-12)" "$packages" "$root"
say "unpacked the cached $suite root ($(( $(date +%s) - started )) s)"

# --- Shofar, as an organization installs it, then the appliance's overlay --------
cp "$deb" "$root/tmp/shofar.deb"
in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 \
    /tmp/shofar.deb > "$out/apt.log" 2>&1 || { cat "$out/apt.log" >&2; die "installing the package failed (above)"; }
rm -f "$root/tmp/shofar.deb"
cp -a "$here/overlay/." "$root/"
# The initramfs gets the data partition's first-boot step (overlay/etc/initramfs-tools).
in_root "$root" update-initramfs -u -k all >/dev/null 2>&1 || die "update-initramfs failed in the root"
version=$(chroot "$root" dpkg-query -W -f='${Version}' shofar)
printf 'SHOFAR_VERSION=%s\nSHOFAR_BUILT=%s\n' "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    > "$root/usr/lib/shofar/release"
# The package made a configuration of its own (a random ARI password): the image's
# boxes each make theirs at first boot (prepare-data), so it goes.
rm -f "$root/etc/shofar/shofar.toml"

# What lives on the data partition moves aside as its first-boot seed, leaving
# empty mount points in the read-only root.
factory=$root/usr/share/shofar/factory
rm -rf "$factory"
for pair in etc/shofar:etc/shofar etc/asterisk:etc/asterisk var/lib/shofar:lib/shofar \
    var/lib/asterisk:lib/asterisk var/spool/asterisk:spool/asterisk var/log:log \
    var/lib/systemd:lib/systemd; do
    from=${pair%%:*} to=${pair#*:}
    mkdir -p "$(dirname "$factory/$to")"
    mv "$root/$from" "$factory/$to"
    mkdir "$root/$from"
done
mkdir -p "$root/data" "$root/boot/efi"

# A machine id is made at each boot (the root is read-only): none is baked in.
: > "$root/etc/machine-id"
ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"
# RAUC: the slots and GRUB's environment (the Yocto layer's system.conf, one file
# for both images), and the CA whose bundles this box installs. RAUC_KEYRING
# names an organization's own; the default is the development CA, which anyone
# can sign with (appliance/image/rauc/README.md).
keyring=${RAUC_KEYRING:-$here/rauc/dev-ca.pem}
[ -s "$keyring" ] || die "RAUC_KEYRING=$keyring: no such certificate"
mkdir -p "$root/etc/rauc"
sed 's|@RAUC_KEYRING_FILE@|/etc/rauc/keyring.pem|' \
    "$repo/yocto/meta-shofar/recipes-core/rauc/files/system.conf" > "$root/etc/rauc/system.conf"
cp "$keyring" "$root/etc/rauc/keyring.pem"
chroot "$root" systemctl enable systemd-networkd.service shofar-console.service \
    shofar-health.service shofar-update.path >/dev/null 2>&1
chroot "$root" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true
# No password for root and no login: the console shows the address and the setup link.
chroot "$root" passwd -l root >/dev/null
kernel=$(basename "$(readlink -f "$root/vmlinuz")")
say "installed shofar $version and the overlay into the root (kernel $kernel)"

# --- the disk ------------------------------------------------------------------
mib=1048576
esp_mib=128 slot_mib=1536 data_mib=256
disk=$out/shofar.img
rm -f "$disk" "$out/rootfs.ext4" "$out/esp.vfat" "$out/data.ext4"
# The slot file system: what RAUC bundles carry too. A quarter larger than its
# content, not the slot's size: the bundle is smaller and installs faster, and
# RAUC grows it to the slot (system.conf: resize=true); read-only, it needs no room.
root_mib=$(du -sm "$root" | cut -f1)
fs_mib=$(( root_mib * 5 / 4 + 64 ))
[ "$fs_mib" -le "$slot_mib" ] || die "the root is $root_mib MiB: too large for a $slot_mib MiB slot"
mke2fs -q -t ext4 -L shofar-root -E root_owner=0:0 -d "$root" "$out/rootfs.ext4" "${fs_mib}M" \
    >/dev/null || die "mke2fs could not make the root file system"
mke2fs -q -t ext4 -L shofar-data "$out/data.ext4" "${data_mib}M" >/dev/null

# GRUB's A/B choice is one file for both images (the Yocto layer's): on the ESP
# beside grubenv; the EFI binary only carries the line that reads it.
grub_cfg=$repo/yocto/meta-shofar/recipes-bsp/grub/files/grub.cfg
printf 'configfile ${cmdpath}/grub.cfg\n' > "$out/embedded.cfg"
grub-mkstandalone -O x86_64-efi -o "$out/BOOTX64.EFI" \
    --modules="part_gpt fat ext2 loadenv test regexp linux normal configfile echo" \
    --locales= --themes= --fonts= "boot/grub/grub.cfg=$out/embedded.cfg"
grub-editenv "$out/grubenv" create
grub-editenv "$out/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
mkfs.vfat -C -n ESP "$out/esp.vfat" $(( esp_mib * 1024 )) >/dev/null
mmd -i "$out/esp.vfat" ::/EFI ::/EFI/BOOT
mcopy -i "$out/esp.vfat" "$out/BOOTX64.EFI" "$out/grubenv" "$grub_cfg" ::/EFI/BOOT/

total_mib=$(( 1 + esp_mib + 2 * slot_mib + data_mib + 1 ))
truncate -s "${total_mib}M" "$disk"
sfdisk --quiet "$disk" <<SFDISK
label: gpt
start=1MiB, size=${esp_mib}MiB, type=uefi, name=esp
size=${slot_mib}MiB, type=linux, name=rootfs-a
size=${slot_mib}MiB, type=linux, name=rootfs-b
size=${data_mib}MiB, type=linux, name=data
SFDISK
# Slot B gets the same root as A: either boots, and B is overwritten by the first update.
offset=1
for part in esp.vfat:$esp_mib rootfs.ext4:$slot_mib rootfs.ext4:$slot_mib data.ext4:$data_mib; do
    file=${part%%:*} size=${part#*:}
    dd if="$out/$file" of="$disk" bs=$mib seek=$offset conv=notrunc,sparse status=none
    offset=$(( offset + size ))
done
rm -f "$out/esp.vfat" "$out/data.ext4" "$out/BOOTX64.EFI" "$out/grubenv" "$out/embedded.cfg"
elapsed=$(( $(date +%s) - started ))
say "$disk: $total_mib MiB disk, $(du -m "$disk" | cut -f1) MiB used; root $(du -sm "$root" | cut -f1) MiB; built in $elapsed s"
