#!/usr/bin/env bash
# Builds cairn_<version>_<arch>.deb with dpkg-deb: the compiled dist/, production node_modules with
# their native addons, our addons (build/Release/*.node), the units and the maintainer scripts.
#
# Needs a prepared checkout (npm ci: tsc and node-gyp), dpkg-deb and network access to the npm
# registry on the first run. Environment:
#   CAIRN_OUT_DIR     where the .deb goes (default: out/ in the checkout)
#   CAIRN_DEB_CACHE   cache of production node_modules, keyed by lock file, addon sources and Node ABI
#   CAIRN_MAINTAINER  the Maintainer field
#   CAIRN_DEB_COMPRESSION xz (default), zstd, gzip or none
#   SOURCE_DATE_EPOCH file times in the package (default: the last commit's time, if any)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

out=${CAIRN_OUT_DIR:-$root/out}
cache_root=${CAIRN_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/deb-runtime}
maintainer=${CAIRN_MAINTAINER:-Cairn maintainers <maintainers@cairn.invalid>}
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

bins=(cairn:appliance/cli/cairn.js cairn-manager:appliance/cli/cairn-manager.js
	cairn-server:appliance/cli/cairn-server.js cairn-setup:tui/cairn-setup.js
	cairn-debug:appliance/cli/cairn-debug.js)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/pkg
lib=$pkg/usr/lib/cairn
mkdir -p "$lib" "$pkg/DEBIAN"

step() { printf '[deb %3ss] %s\n' "$SECONDS" "$*"; }

# 1. production node_modules and every native addon, built once per lock file, sources and Node ABI
key=$({
	cat package-lock.json binding.gyp appliance/native/*.[ch]
	node -p 'process.versions.modules + " " + process.arch'
} | sha256sum | cut -c1-16)
runtime=$cache_root/$key
if [ ! -d "$runtime" ]; then
	step "installing production dependencies (cache $key)"
	stage=$work/runtime
	mkdir -p "$stage/appliance/native"
	cp package.json package-lock.json binding.gyp "$stage/"
	cp appliance/native/*.[ch] "$stage/appliance/native/"
	# prepare compiles TypeScript, a dev tool; install runs node-gyp for our addons
	(cd "$stage" && npm pkg delete scripts.prepare &&
		npm ci --omit=dev --no-audit --no-fund --loglevel=error)
	rm -f "$stage/node_modules/.package-lock.json"
	mkdir -p "$stage/out/build/Release" "$cache_root"
	mv "$stage/node_modules" "$stage/out/"
	cp "$stage"/build/Release/*.node "$stage/out/build/Release/"
	rm -rf "$runtime.tmp"
	mv "$stage/out" "$runtime.tmp"
	mv "$runtime.tmp" "$runtime"
fi
cp -a "$runtime/node_modules" "$runtime/build" "$lib/"
# compiler leftovers, addon sources, type declarations and source maps are not needed at run time
find "$lib/node_modules" -depth -type d \( -name obj.target -o -name .deps \) -path '*/build/*' \
	-exec rm -rf {} +
find "$lib/node_modules" -type f \( -path '*/build/*' \( -name Makefile -o -name '*.mk' \
	-o -name config.gypi -o -name '*.o' -o -name '*.a' \) -o -name '*.d.ts' -o -name '*.d.[cm]ts' \
	-o -name '*.map' \) -delete
rm -rf "$lib/node_modules/zstd-napi/deps" "$lib/node_modules/zstd-napi/src"

# 2. the compiled service, fresh (a stale dist/ could hold removed files)
step "compiling TypeScript"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$lib/dist" --sourceMap false
for entry in "${bins[@]}"; do
	name=${entry%%:*} target=${entry#*:}
	[ -f "$lib/dist/$target" ] || { echo "missing entry point dist/$target" >&2; exit 1; }
	chmod 0755 "$lib/dist/$target"
	mkdir -p "$pkg/usr/bin"
	ln -s "../lib/cairn/dist/$target" "$pkg/usr/bin/$name"
done
# version.ts reads name and version from here, and "type": "module" makes dist/ ESM
node -e '
	const p = require("./package.json");
	const keep = ["name", "version", "description", "license", "type", "engines", "dependencies"];
	const out = Object.fromEntries(keep.filter((k) => k in p).map((k) => [k, p[k]]));
	require("fs").writeFileSync(process.argv[1], JSON.stringify(out, null, 2) + "\n");
' "$lib/package.json"
install -m 0755 "$here/cairn-console" "$lib/cairn-console"

# 3. units and drop-ins
units=$pkg/usr/lib/systemd/system
install -D -m 0644 "$here/cairn-server.service" "$units/cairn-server.service"
install -D -m 0644 "$here/cairn-privileged.service" "$units/cairn-privileged.service"
install -D -m 0644 "$here/getty-console.conf" "$units/getty@tty1.service.d/cairn-console.conf"
install -D -m 0644 "$here/getty-console.conf" "$units/serial-getty@ttyS0.service.d/cairn-console.conf"

# 4. documentation
doc=$pkg/usr/share/doc/cairn
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$here/README.Debian" "$doc/README.Debian"
changelog_date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
printf 'cairn (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
	"$version" "$version" "$maintainer" "$changelog_date" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# 5. control files
step "writing control files"
for script in postinst prerm postrm; do
	sh -n "$here/$script"
	install -m 0755 "$here/$script" "$pkg/DEBIAN/$script"
done
size=$(du -sk --apparent-size "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
	-e "s/@MAINTAINER@/$maintainer/" \
	-e "s/@NODEJS@/nodejs (>= $node_major), nodejs (<< $((node_major + 1)))/" \
	"$here/control" >"$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"
find "$pkg" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"

step "building the package"
mkdir -p "$out"
deb=$out/cairn_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z${CAIRN_DEB_COMPRESSION:-xz}" --build "$pkg" "$deb" >/dev/null
step "$deb: $(du -h "$deb" | cut -f1) ($size KiB installed)"
