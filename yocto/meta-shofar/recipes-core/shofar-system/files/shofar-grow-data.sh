#!/bin/sh
# Grows the data partition over the free space after it, and its ext4 file system
# with it (online: /data stays mounted). A freshly written disk is the size of the
# image, so the first boot grows it; on every later boot there is no free space
# after the partition and this does nothing.
set -eu

part=$(readlink -f /dev/disk/by-partlabel/data)
name=${part##*/}
disk=/dev/$(lsblk -ndo PKNAME "$part")
number=$(cat "/sys/class/block/$name/partition")

# In 512-byte sectors, as the kernel counts them. The GPT keeps its backup header
# and table in the last 33 sectors of the disk.
start=$(cat "/sys/class/block/$name/start")
size=$(cat "/sys/class/block/$name/size")
disk_size=$(cat "/sys/class/block/${disk##*/}/size")
free=$((disk_size - 34 - start - size))
if [ "$free" -lt 2048 ]; then
    exit 0
fi

echo "growing $part (partition $number of $disk) by $((free / 2048)) MiB"
# The image's backup GPT sits where the image ended: move it to the end of the disk.
sfdisk --relocate gpt-bak-std "$disk"
echo ', +' | sfdisk --no-reread --no-tell-kernel -N "$number" "$disk"
partx --update --nr "$number" "$disk"
resize2fs "$part"
