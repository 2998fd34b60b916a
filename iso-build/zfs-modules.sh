#!/usr/bin/env bash
# Prints the path of a small package holding the OpenZFS kernel modules for one kernel, building it
# when the cache lacks it. zfs-dkms is built in a throwaway trixie chroot (compiler, headers, DKMS and
# its signing key stay there); only the .ko files leave it, wrapped in cairn-zfs-modules-<kernel>.
# The image then needs neither a compiler nor DKMS, and boots with the module ready.
# Usage: zfs-modules.sh <kernel-version> <zfs-version> <cache-dir> <source-line>...
set -euo pipefail

kernel=$1 zfs=$2 cache=$3
here=$(cd "$(dirname "$0")" && pwd)
shift 3
out=$cache/zfs/$kernel/$zfs
deb=$out/cairn-zfs-modules-${kernel}_${zfs}_amd64.deb
if [ -f "$deb" ]; then
	echo "$deb"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ko"
# shellcheck source=iso-build/apt-cache.sh
. "$here/apt-cache.sh"
apt_cache_options "$cache/apt"
mmdebstrap --mode=root --variant=buildd --format=null \
	--include="linux-headers-$kernel,zfs-dkms=$zfs" \
	"${apt_cache[@]}" \
	--customize-hook="$here/zfs-modules-hook.sh \"\$1\" $kernel" \
	--customize-hook="sync-out /tmp/ko $work/ko" \
	trixie /dev/null "$@" >&2

pkg=$work/pkg
name=cairn-zfs-modules-$kernel
mkdir -p "$pkg/DEBIAN" "$pkg/usr/lib/modules/$kernel/updates/zfs"
install -m 0644 "$work"/ko/*.ko* "$pkg/usr/lib/modules/$kernel/updates/zfs/"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: $name
Version: $zfs
Architecture: amd64
Maintainer: ${CAIRN_MAINTAINER:-Cairn maintainers <maintainers@cairn.invalid>}
Depends: linux-image-$kernel
Provides: zfs-modules (= $zfs)
Section: kernel
Priority: optional
Description: OpenZFS $zfs kernel modules for Linux $kernel
 Built from zfs-dkms for the Cairn appliance image.
CONTROL
for script in postinst postrm; do
	printf '#!/bin/sh\nset -e\ndepmod -a %s || true\n' "$kernel" >"$pkg/DEBIAN/$script"
	chmod 0755 "$pkg/DEBIAN/$script"
done
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$pkg" "$deb.tmp" >&2
mv "$deb.tmp" "$deb"
echo "$deb"
