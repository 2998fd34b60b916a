#!/usr/bin/env bash
# Prints the Debian mirror and security mirror this machine's apt uses, one per line as
#   debian <uri>
#   security <uri>
# read from <apt-dir>/sources.list, sources.list.d/*.list and sources.list.d/*.sources (deb822).
# CAIRN_MIRROR and CAIRN_SECURITY_MIRROR take precedence. Exits 1 when no Debian mirror is found.
# Usage: mirror.sh [apt-dir]   (default /etc/apt)
set -euo pipefail

apt_dir=${1:-/etc/apt}

# every enabled "deb" entry as "<uri> <suite>" lines, one-line and deb822 formats alike
entries() {
	local files=()
	[ -f "$apt_dir/sources.list" ] && files+=("$apt_dir/sources.list")
	for f in "$apt_dir"/sources.list.d/*.list; do [ -f "$f" ] && files+=("$f"); done
	if [ ${#files[@]} -gt 0 ]; then
		# deb [options] uri suite [components]
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "${files[@]}" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
	fi
	for f in "$apt_dir"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush(   i, j, nu, ns, u, s) {
				if (types ~ /(^| )deb( |$)/ && enabled != "no") {
					nu = split(uris, u, " "); ns = split(suites, s, " ")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				}
				types = uris = suites = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[A-Za-z-]+:/ {
				key = tolower(substr($0, 1, index($0, ":") - 1))
				value = substr($0, index($0, ":") + 1)
				gsub(/^[ \t]+|[ \t]+$/, "", value)
				if (key == "types") types = value
				else if (key == "uris") uris = value
				else if (key == "suites") suites = value
				else if (key == "enabled") enabled = tolower(value)
			}
			END { flush() }
		' "$f"
	done
}

releases='^(oldoldstable|oldstable|stable|testing|unstable|sid|buster|bullseye|bookworm|trixie|forky|duke)'
list=$(entries)
debian=${CAIRN_MIRROR:-$(awk -v r="$releases\$" '$2 ~ r { print $1; exit }' <<<"$list")}
security=${CAIRN_SECURITY_MIRROR:-$(awk -v r="$releases(-security|/updates)\$" '$2 ~ r { print $1; exit }' <<<"$list")}
if [ -z "$debian" ]; then
	echo "no Debian mirror in $apt_dir; set CAIRN_MIRROR" >&2
	exit 1
fi
echo "debian ${debian%/}"
[ -z "$security" ] || echo "security ${security%/}"
