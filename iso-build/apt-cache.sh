# shellcheck shell=bash disable=SC2034 # apt_cache is for the sourcing script
# Sourced by the build scripts. apt_cache_options DIR fills the array apt_cache with mmdebstrap
# options that take downloaded packages from DIR and put the newly downloaded ones back, so a
# second build downloads only what changed on the mirror.
apt_cache_options() {
	mkdir -p "$1"
	apt_cache=(
		--skip=essential/unlink
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives'
		--setup-hook="sync-in $1 /var/cache/apt/archives"
		--customize-hook="sync-out /var/cache/apt/archives $1"
	)
}
