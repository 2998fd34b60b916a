#!/usr/bin/env bash
# mmdebstrap customize hook of zfs-modules.sh: makes sure zfs-dkms is built for the kernel (its
# postinst usually has done it already) and gathers the .ko files in /tmp/ko of the chroot.
# Usage: zfs-modules-hook.sh <chroot> <kernel-version>
set -euo pipefail
root=$1 kernel=$2

# DKMS names the module by the upstream version (2.3.9), not the Debian one (2.3.9-0+deb13u1)
source_dir=$(find "$root/usr/src" -maxdepth 1 -name 'zfs-*' | sort -V | tail -1)
[ -n "$source_dir" ] || { echo "zfs-dkms left no source in /usr/src" >&2; exit 1; }
version=${source_dir##*/zfs-}
status=$(chroot "$root" dkms status -m zfs -v "$version" -k "$kernel" || true)
echo "dkms: ${status:-zfs/$version not built for $kernel}" >&2
case "$status" in
*built* | *installed*) ;;
*) chroot "$root" dkms build -m zfs -v "$version" -k "$kernel" >&2 ;;
esac

mkdir -p "$root/tmp/ko"
find "$root/var/lib/dkms/zfs/$version/$kernel" "$root/usr/lib/modules/$kernel/updates" \
	-name '*.ko*' -exec cp {} "$root/tmp/ko/" \; 2>/dev/null || true
ls -l "$root/tmp/ko" >&2
compgen -G "$root/tmp/ko/zfs.ko*" >/dev/null || { echo "no zfs.ko for $kernel" >&2; exit 1; }
