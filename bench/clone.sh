#!/bin/bash
# bench/clone.sh: time and disk of a copy-on-write clone, `ctr clone --snapshot` against
# `lxc-copy -s` (and the full copies, `ctr clone` and `lxc-copy`), of the same root
# filesystem, on btrfs (a loop image made here) and overlay. A benchmark, not a test.
#
#   sudo bench/clone.sh [--runs N] [--size MB] [--raw FILE]
#
# The source is a busybox system container (ctr's template) with SIZE MiB of files added
# (SIZE one-MiB files of random data and 2000 files of 4 KiB); the LXC source is a copy of
# the same tree. Each clone is timed alone (wall clock, from before the command to its
# exit); its disk is what it holds of its own after a sync: on btrfs the exclusive bytes
# of its tree (`btrfs filesystem du`), elsewhere `du -x` of its directories. Needs root, ctr ($CTR, else ./src/ctr), lxc
# (apt-get install lxc: only for this comparison), btrfs-progs, jq.
set -euo pipefail

RUNS=5 SIZE=200 RAW=''
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2 && shift ;;
	--size) SIZE=$2 && shift ;;
	--raw) RAW=$2 && shift ;;
	-h | --help) sed -n '2,14p' "$0" && exit 0 ;;
	*) echo "clone.sh: unknown option $1" >&2 && exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
CTR=${CTR:-$HERE/src/ctr}
[ "$(id -u)" = 0 ] || { echo "clone.sh: needs root" >&2 && exit 1; }
for t in "$CTR" lxc-copy mkfs.btrfs jq; do
	command -v "$t" >/dev/null || { echo "clone.sh: $t not found" >&2 && exit 1; }
done

W=$(mktemp -d /var/tmp/ctr-clone-bench.XXXXXX)
chmod 700 "$W"
LOOP=''
export CTR_STORE=$W/store CTR_TEMPLATE_PATH=$HERE/templates CTR_INIT=$HERE/src/init/ctr-init
export CTR_NETWORK_ROOT=$W/net
ctr() { "$CTR" --root "$W/state" "$@"; }

cleanup() {
	set +e
	for n in "$CTR_STORE"/*; do [ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1; done
	for p in b1 o1; do ctr pool rm "$p" >/dev/null 2>&1; done
	for d in "$W"/btrfs/lxc "$W"/lxc; do
		[ -d "$d" ] || continue
		for c in "$d"/*; do [ -d "$c" ] && lxc-destroy -P "$d" -n "${c##*/}" >/dev/null 2>&1; done
	done
	umount "$W/btrfs" 2>/dev/null
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT

now() { date +%s%N; }
# KiB a clone holds of its own: on btrfs the exclusive bytes of its tree (what deleting it
# frees; shared extents are not its own), elsewhere (ctr's store directory, overlay
# uppers) du -x of its directories
own_kib() {
	local kind=$1 total=0 p
	shift
	sync
	for p in "$@"; do
		[ -e "$p" ] || continue
		if [ "$kind" = btrfs ] && [ "$(stat -f -c %T "$p")" = btrfs ]; then
			btrfs filesystem sync "$p" >/dev/null
			total=$((total + $(btrfs filesystem du -s --raw "$p" | awk 'NR == 2 {print int($2 / 1024)}')))
		else
			total=$((total + $(du -skx "$p" | cut -f1)))
		fi
	done
	echo "$total"
}
# fill DIR: SIZE MiB in 1 MiB files, and 2000 small files
fill() {
	mkdir -p "$1/bench"
	for i in $(seq "$SIZE"); do head -c 1048576 /dev/urandom >"$1/bench/big$i"; done
	for i in $(seq 2000); do head -c 4096 /dev/urandom >"$1/bench/small$i"; done
}
# lxc source container NAME under LXCPATH with the tree of FROM; rootfs spec KIND
lxc_source() {
	local lxcpath=$1 from=$2 kind=$3
	mkdir -p "$lxcpath/src"
	if [ "$kind" = btrfs ]; then
		btrfs -q subvolume create "$lxcpath/src/rootfs"
	else
		mkdir "$lxcpath/src/rootfs"
	fi
	cp -a "$from/." "$lxcpath/src/rootfs/"
	cat >"$lxcpath/src/config" <<-EOF
		lxc.uts.name = src
		lxc.rootfs.path = $kind:$lxcpath/src/rootfs
		lxc.net.0.type = empty
	EOF
}

# measure LABEL KIND "PATHS" UNDO -- COMMAND: {} in each stands for the clone's name
declare -A TIMES DISKS
measure() {
	local label=$1 kind=$2 paths=$3 undo=$4 i t0 t1 kib
	shift 5
	for i in $(seq "$RUNS"); do
		local args=("${@//\{\}/dst$i}")
		t0=$(now)
		"${args[@]}" >/dev/null
		t1=$(now)
		# shellcheck disable=SC2086
		kib=$(own_kib "$kind" ${paths//\{\}/dst$i})
		TIMES[$label]+="$(((t1 - t0) / 1000000)) "
		DISKS[$label]+="$kib "
		[ -z "$RAW" ] || echo "$label	$i	$(((t1 - t0) / 1000000))	$kib" >>"$RAW"
		eval "${undo//\{\}/dst$i}" >/dev/null 2>&1
	done
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() {
	local label=$1
	printf '%-44s %8s ms %8s ms %10s KiB\n' "$label" \
		"$(median <<<"${TIMES[$label]}")" \
		"$(tr ' ' '\n' <<<"${TIMES[$label]}" | grep . | sort -n | head -1)" \
		"$(median <<<"${DISKS[$label]}")"
}

# --- btrfs: a loop image, a ctr pool and an lxcpath on it
truncate -s $((SIZE * 6 + 1024))M "$W/btrfs.img"
mkfs.btrfs -q "$W/btrfs.img" >/dev/null
LOOP=$(losetup -f --show "$W/btrfs.img")
mkdir "$W/btrfs"
mount "$LOOP" "$W/btrfs"
chmod 700 "$W/btrfs"
ctr pool create b1 --type btrfs --path "$W/btrfs" >/dev/null
ctr create -t busybox src --net none --pool b1 >/dev/null
fill "$W/btrfs/src"
lxc_source "$W/btrfs/lxc" "$W/btrfs/src" btrfs
echo "rootfs: $(du -sh --apparent-size "$W/btrfs/src" | cut -f1), $(find "$W/btrfs/src" | wc -l) files; $RUNS runs each" >&2

measure "btrfs  ctr clone --snapshot" btrfs "$W/btrfs/{} $CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
	"$CTR" --root "$W/state" clone --snapshot src {}
measure "btrfs  lxc-copy -s" btrfs "$W/btrfs/lxc/{}" "lxc-destroy -P '$W/btrfs/lxc' -n {}" -- \
	lxc-copy -P "$W/btrfs/lxc" -n src -N {} -s
measure "btrfs  ctr clone (cp --reflink=auto)" btrfs "$W/btrfs/{} $CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
	"$CTR" --root "$W/state" clone src {}
measure "btrfs  lxc-copy (full)" btrfs "$W/btrfs/lxc/{}" "lxc-destroy -P '$W/btrfs/lxc' -n {}" -- \
	lxc-copy -P "$W/btrfs/lxc" -n src -N {}

# --- overlay: on the filesystem of /var/tmp
ctr pool create o1 --type overlay --path "$W/ovl" >/dev/null
ctr create -t busybox osrc --net none --pool o1 >/dev/null
fill "$CTR_STORE/osrc/rootfs"
lxc_source "$W/lxc" "$CTR_STORE/osrc/rootfs" dir
measure "overlay ctr clone --snapshot" dir "$W/ovl/{} $CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
	"$CTR" --root "$W/state" clone --snapshot osrc {}
measure "overlay lxc-copy -s -B overlay" dir "$W/lxc/{}" "lxc-destroy -P '$W/lxc' -n {}" -- \
	lxc-copy -P "$W/lxc" -n src -N {} -s -B overlay

printf '%-44s %11s %11s %14s\n' "" "median" "fastest" "disk (median)"
for l in "btrfs  ctr clone --snapshot" "btrfs  lxc-copy -s" "btrfs  ctr clone (cp --reflink=auto)" \
	"btrfs  lxc-copy (full)" "overlay ctr clone --snapshot" "overlay lxc-copy -s -B overlay"; do
	report "$l"
done
