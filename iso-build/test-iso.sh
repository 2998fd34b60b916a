#!/usr/bin/env bash
# The image test (`npm run test:iso`, as root): builds the ISO, boots it live under BIOS, then
# installs it unattended and boots the installed system under UEFI and BIOS (test/iso/).
# Software emulation: tens of minutes. The environment of boot-test.sh and build-iso.sh applies.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
started=$SECONDS
bash iso-build/build-iso.sh
echo "[test-iso $((SECONDS - started)) s] ISO built"
CAIRN_ISO_TEST=1 npx ava --concurrency=1 test/iso/boot.test.ts test/iso/install.test.ts
echo "[test-iso $((SECONDS - started)) s] image test passed"
