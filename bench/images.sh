#!/bin/bash
# bench/images.sh: what the Nth container from one template costs in a pool: the time of
# the 1st and the Nth `ctr create -t TEMPLATE`, and the pool's disk use after N, in a btrfs
# pool (a loop image made here), a dir pool and an overlay pool (on the filesystem of
# /var/tmp). A benchmark, not a test.
#
#   sudo bench/images.sh [--count N] [--template busybox|debian] [--raw FILE]
#
# Each create is timed alone (wall clock, from before the command to its exit). Disk is
# the space used after a sync: on btrfs the filesystem's used bytes (`btrfs filesystem
# usage`: shared extents counted once) minus those of the empty pool, elsewhere `du -sx`
# of the pool's directory (hard links counted once; overlay lowers once). debian needs its
# tarball in /var/cache/ctr/debian (the first create of a release makes it). Needs root,
# ctr ($CTR, else ./src/ctr), btrfs-progs.
set -euo pipefail

COUNT=10 TEMPLATE=busybox RAW=''
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2 && shift ;;
	--template) TEMPLATE=$2 && shift ;;
	--raw) RAW=$2 && shift ;;
	-h | --help) sed -n '2,14p' "$0" && exit 0 ;;
	*) echo "images.sh: unknown option $1" >&2 && exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
CTR=${CTR:-$HERE/src/ctr}
[ "$(id -u)" = 0 ] || { echo "images.sh: needs root" >&2 && exit 1; }
for t in "$CTR" mkfs.btrfs; do
	command -v "$t" >/dev/null || { echo "images.sh: $t not found" >&2 && exit 1; }
done

W=$(mktemp -d /var/tmp/ctr-images-bench.XXXXXX)
chmod 700 "$W"
LOOP=''
export CTR_STORE=$W/store CTR_TEMPLATE_PATH=$HERE/templates CTR_INIT=$HERE/src/init/ctr-init
export CTR_NETWORK_ROOT=$W/net
ctr() { "$CTR" --root "$W/state" "$@"; }

cleanup() {
	set +e
	for n in "$CTR_STORE"/*; do [ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1; done
	for p in b1 d1 o1; do
		ctr pool prune "$p" >/dev/null 2>&1
		ctr pool rm "$p" >/dev/null 2>&1
	done
	umount "$W/btrfs" 2>/dev/null
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT

now() { date +%s%N; }
used_kib() {
	sync
	if [ "$1" = btrfs ]; then
		btrfs filesystem sync "$W/btrfs" >/dev/null
		btrfs filesystem usage -b "$W/btrfs" 2>/dev/null | awk '/^ *Used:/ {print int($2 / 1024); exit}'
	else
		du -skx "$2" | cut -f1
	fi
}

# run POOL KIND PATH: COUNT creates in POOL, then destroy them
run() {
	local pool=$1 kind=$2 path=$3 i t0 t1 ms first='' last='' base
	base=$(used_kib "$kind" "$path")
	for i in $(seq "$COUNT"); do
		t0=$(now)
		ctr create -t "$TEMPLATE" "$pool-$i" --net none --pool "$pool" >/dev/null 2>&1
		t1=$(now)
		ms=$(((t1 - t0) / 1000000))
		[ -n "$first" ] || first=$ms
		last=$ms
		[ -z "$RAW" ] || echo "$pool	$i	$ms" >>"$RAW"
	done
	printf '%-8s %10s ms %10s ms %10s %12s KiB\n' "$kind" "$first" "$last" \
		"$(awk -v a="$last" -v b="$first" 'BEGIN {printf "%.2f", a / b}')" \
		"$(($(used_kib "$kind" "$path") - base))"
	for i in $(seq "$COUNT"); do ctr destroy -f "$pool-$i" >/dev/null; done
}

truncate -s 12G "$W/btrfs.img"
mkfs.btrfs -q "$W/btrfs.img" >/dev/null
LOOP=$(losetup -f --show "$W/btrfs.img")
mkdir "$W/btrfs"
mount "$LOOP" "$W/btrfs"
chmod 700 "$W/btrfs"
ctr pool create b1 --type btrfs --path "$W/btrfs" >/dev/null
ctr pool create d1 --type dir --path "$W/dir" >/dev/null
ctr pool create o1 --type overlay --path "$W/ovl" >/dev/null

echo "template $TEMPLATE, $COUNT creates per pool" >&2
printf '%-8s %13s %13s %10s %16s\n' pool "1st create" "${COUNT}th create" "Nth/1st" "disk after $COUNT"
run b1 btrfs "$W/btrfs"
run d1 dir "$W/dir"
run o1 overlay "$W/ovl"
