#!/usr/bin/env bash
# Runs the image test (npm run test:iso) when it can matter: when what goes into the image differs
# from the last run that passed on this machine. The stamp is a hash of the git trees of those
# folders, kept in the image build's cache folder; no stamp means run.
# Usage: ci-image-test.sh [--check]   (--check: only say whether it would run)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
cache=${CAIRN_ISO_CACHE:-/var/cache/cairn-iso}
stamp_file=$cache/image-test.stamp

# the image holds the service, the console and the packaging; package files pin its node_modules
sources=(iso-build debian appliance tui package.json package-lock.json binding.gyp)
# tracked content, so a clean clone and a working copy of the same commit agree
stamp=$(git ls-files -s -- "${sources[@]}" | sha256sum | cut -d' ' -f1)
last=$(cat "$stamp_file" 2>/dev/null || true)

if [ "$stamp" = "$last" ]; then
	echo "image test: not run, the image's sources are unchanged since the last passing run (${stamp:0:12})"
	exit 0
fi
echo "image test: sources changed (${last:0:12} -> ${stamp:0:12}), running npm run test:iso"
[ "${1:-}" != --check ] || exit 0
started=$SECONDS
npm run test:iso
mkdir -p "$cache"
printf '%s\n' "$stamp" >"$stamp_file.tmp"
mv "$stamp_file.tmp" "$stamp_file"
echo "image test: passed in $((SECONDS - started)) s, stamp ${stamp:0:12}"
