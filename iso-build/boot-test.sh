#!/usr/bin/env bash
# Boots the Cairn ISO in QEMU and waits until the ZFS module has loaded, the first-boot console shows
# on the serial line and the daemon answers over TLS 1.3 on the forwarded port. Each wait has a timeout; on failure the
# last 100 lines of the serial log are printed.
# Usage: boot-test.sh [ISO]   (default out/cairn-<version>.iso)
# Environment:
#   CAIRN_BOOT_FIRMWARE  bios (default) or uefi (OVMF)
#   CAIRN_BOOT_MEDIA     cdrom (default) or disk: the image as a raw disk, as when written to a stick
#   CAIRN_BOOT_PORT      host port forwarded to the guest's 8007 (default 18007)
#   CAIRN_BOOT_TIMEOUT   seconds for each wait (default 900: software emulation is slow)
#   CAIRN_BOOT_LOG       serial log file (default: in a temporary folder)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
iso=${1:-$repo/out/cairn-$version.iso}
firmware=${CAIRN_BOOT_FIRMWARE:-bios}
media=${CAIRN_BOOT_MEDIA:-cdrom}
port=${CAIRN_BOOT_PORT:-18007}
timeout=${CAIRN_BOOT_TIMEOUT:-900}

[ -f "$iso" ] || { echo "no ISO at $iso; build it with iso-build/build-iso.sh" >&2; exit 1; }
for tool in qemu-system-x86_64 curl openssl; do
	command -v "$tool" >/dev/null || { echo "boot-test.sh needs $tool (apt-get install qemu-system-x86 curl openssl)" >&2; exit 1; }
done

work=$(mktemp -d)
log=${CAIRN_BOOT_LOG:-$work/serial.log}
: >"$log"
qemu_pid=
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "boot test failed: $*" >&2
	echo "--- last 100 lines of the serial log ---" >&2
	tail -n 100 "$log" | tr -d '\r' >&2
	exit 1
}

firmware_options=()
if [ "$firmware" = uefi ]; then
	code=$(ls /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE.fd 2>/dev/null | head -1 || true)
	[ -n "$code" ] || { echo "UEFI boot needs OVMF (apt-get install ovmf)" >&2; exit 1; }
	cp "${code/CODE/VARS}" "$work/vars.fd"
	firmware_options=(-drive "if=pflash,format=raw,readonly=on,file=$code"
		-drive "if=pflash,format=raw,file=$work/vars.fd")
fi
if [ "$media" = disk ]; then
	media_options=(-drive "file=$iso,format=raw,if=virtio,readonly=on" -boot c)
else
	media_options=(-drive "file=$iso,media=cdrom,readonly=on" -boot d)
fi
accel=tcg
[ -w /dev/kvm ] && accel=kvm

started=$SECONDS
qemu-system-x86_64 -machine q35 -accel "$accel" -m 2048 -smp 2 \
	"${firmware_options[@]}" \
	"${media_options[@]}" \
	-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:8007" \
	-display none -serial "file:$log" -monitor none &
qemu_pid=$!
echo "booting $iso ($firmware, $media, $accel), serial log $log"

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 5 seconds
wait_for() {
	local limit=$(($1 + SECONDS)) what=$2
	shift 2
	until "$@"; do
		kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited while waiting for $what"
		[ "$SECONDS" -lt "$limit" ] || fail "no $what after $timeout s"
		sleep 5
	done
	echo "[$((SECONDS - started)) s] $what"
}

wait_for "$timeout" "GRUB menu on the serial console" grep -q "Cairn $version" "$log"
zfs_loaded() {
	! grep -aq "Failed to start.*zfs-load-module" "$log" || fail "the ZFS module did not load"
	grep -aq "Finished.*zfs-load-module" "$log"
}
wait_for "$timeout" "ZFS module loaded" zfs_loaded
wait_for "$timeout" "first-boot console on ttyS0" grep -q "first-boot setup on ttyS0" "$log"
tls_up() {
	curl -sk --tlsv1.3 --max-time 10 -o /dev/null "https://127.0.0.1:$port/api2/json/version"
}
wait_for "$timeout" "HTTPS (TLS 1.3) on port 8007" tls_up
fingerprint=$(openssl s_client -connect "127.0.0.1:$port" -tls1_3 </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
echo "certificate fingerprint (SHA-256): $fingerprint"
echo "boot test passed in $((SECONDS - started)) s"
