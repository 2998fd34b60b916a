#!/usr/bin/env bash
# Builds cairn-<version>.iso: a Debian 13 (trixie) amd64 live system with the cairn package and the
# OpenZFS modules for its kernel, as a squashfs root booted by GRUB from BIOS or UEFI, written as a
# hybrid image (optical media, or raw onto a USB stick).
#
# Run as root on Debian 12 or 13; installs its own build dependencies with apt. Environment:
#   CAIRN_MIRROR, CAIRN_SECURITY_MIRROR  Debian mirrors (default: this machine's apt sources)
#   CAIRN_ISO_CACHE  downloaded packages, ZFS modules per kernel, node_modules
#                    (default /var/cache/cairn-iso)
#   CAIRN_OUT_DIR    where the ISO goes (default: out/ in the checkout)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${CAIRN_OUT_DIR:-$repo/out}
cache=${CAIRN_ISO_CACHE:-/var/cache/cairn-iso}
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
iso=$out/cairn-$version.iso

step() { printf '[iso %4ss] %s\n' "$SECONDS" "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "build-iso.sh must run as root (mmdebstrap, chroot, loop-free squashfs)" >&2
	exit 1
fi

# 1. build dependencies
tools=(mmdebstrap squashfs-tools xorriso grub-pc-bin grub-efi-amd64-bin grub-common mtools
	dosfstools zstd debian-archive-keyring)
missing=()
for pkg in "${tools[@]}"; do
	dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing build dependencies: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. mirrors, from this machine's apt sources unless given
mirror=$("$here/mirror.sh" | awk '$1 == "debian" { print $2 }')
security=$("$here/mirror.sh" | awk '$1 == "security" { print $2 }')
sources=("deb $mirror trixie main contrib" "deb $mirror trixie-updates main contrib")
[ -z "$security" ] || sources+=("deb $security trixie-security main contrib")
step "mirror $mirror${security:+, security $security}"

# 3. the cairn package (its node_modules are cached too)
mkdir -p "$cache/apt" "$cache/deb" "$out"
step "building the cairn package"
rm -f "$cache/deb"/cairn_*.deb
CAIRN_OUT_DIR=$cache/deb CAIRN_DEB_CACHE=$cache/deb-runtime CAIRN_DEB_COMPRESSION=zstd \
	bash "$repo/debian/build-deb.sh"
deb=$(ls "$cache/deb"/cairn_*.deb)

# 4. the live root: downloaded packages are kept in $cache/apt between runs
work=$(mktemp -d /var/tmp/cairn-iso.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=iso-build/apt-cache.sh
. "$here/apt-cache.sh"
apt_cache_options "$cache/apt"
packages=(
	# boot and live system
	linux-image-amd64 live-boot systemd-sysv initramfs-tools zstd kmod udev dbus
	# what the cairn package needs
	nodejs zfsutils-linux util-linux ifupdown dhcpcd-base smartmontools gdisk iproute2 ca-certificates openssl
	# what the installer needs: partitions, file systems, boot loader for BIOS and UEFI
	grub-pc-bin grub-efi-amd64-bin grub2-common efibootmgr dosfstools e2fsprogs xfsprogs
	parted rsync
	# the zones and keyboard layouts the installer offers, and what applies the layout on the console
	tzdata console-setup
)
step "mmdebstrap: trixie live root"
include=$(
	IFS=,
	echo "${packages[*]}"
)
CAIRN_DEB=$deb CAIRN_ISO_DIR=$here CAIRN_ISO_CACHE=$cache \
	CAIRN_SOURCES=$(printf '%s\n' "${sources[@]}") \
	mmdebstrap --mode=root --variant=minbase --format=directory \
	--include="$include" \
	--aptopt='Apt::Install-Recommends "false"' \
	"${apt_cache[@]}" \
	--customize-hook="$here/customize-image.sh \"\$1\"" \
	trixie "$work/root" "${sources[@]}"

# 5. the ISO tree: kernel, initrd, squashfs root, GRUB configuration
step "squashfs root"
tree=$work/iso
mkdir -p "$tree/live" "$tree/boot/grub"
cp "$(readlink -f "$work/root/vmlinuz")" "$tree/live/vmlinuz"
cp "$(readlink -f "$work/root/initrd.img")" "$tree/live/initrd.img"
mksquashfs "$work/root" "$tree/live/filesystem.squashfs" -noappend -comp zstd \
	-quiet -no-progress
sed "s/@VERSION@/$version/g" "$here/grub.cfg" >"$tree/boot/grub/grub.cfg"

step "grub-mkrescue: hybrid BIOS and UEFI image"
volid=CAIRN_$(tr . _ <<<"$version")
if ! grub-mkrescue -o "$iso.tmp" "$tree" -- -volid "$volid" >"$work/grub-mkrescue.log" 2>&1; then
	cat "$work/grub-mkrescue.log" >&2
	exit 1
fi
mv "$iso.tmp" "$iso"
step "$iso: $(du -h "$iso" | cut -f1) ($(stat -c %s "$iso") bytes)"
