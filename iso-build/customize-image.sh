#!/usr/bin/env bash
# mmdebstrap customize hook for the live image: installs the cairn package and the ZFS modules for
# the image's kernel, and sets up the live system. Runs on the build machine; $1 is the image root.
# Environment (from build-iso.sh): CAIRN_DEB, CAIRN_ISO_DIR, CAIRN_ISO_CACHE, CAIRN_SOURCES (one
# source line per line).
set -euo pipefail
root=$1

kernel=$(basename "$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -1)")
zfs=$(chroot "$root" dpkg-query -W -f '${Version}' zfsutils-linux)
echo "image: kernel $kernel, zfsutils-linux $zfs" >&2

mapfile -t sources <<<"$CAIRN_SOURCES"
modules=$("$CAIRN_ISO_DIR/zfs-modules.sh" "$kernel" "$zfs" "$CAIRN_ISO_CACHE" "${sources[@]}")

mkdir -p "$root/tmp/cairn-debs"
cp "$CAIRN_DEB" "$modules" "$root/tmp/cairn-debs/"
chroot "$root" sh -c 'dpkg -i /tmp/cairn-debs/*.deb'
rm -rf "$root/tmp/cairn-debs"
chroot "$root" modinfo -k "$kernel" -F version zfs >&2

echo cairn >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcairn\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$root/etc/hosts"
install -m 0644 "$CAIRN_ISO_DIR/live/80-live-dhcp.network" "$root/etc/systemd/network/"
chroot "$root" systemctl enable systemd-networkd.service >&2
