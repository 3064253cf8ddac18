#!/bin/bash
# bench/clone.sh: time and disk of a copy-on-write clone, `ctr clone --snapshot` against
# `lxc-copy -s` (and the full copies, `ctr clone` and `lxc-copy`), of the same root
# filesystem, on btrfs (a loop image made here) and overlay. A benchmark, not a test.
#
#   sudo bench/clone.sh [--runs N] [--size MB] [--template T] [--pools LIST] [--raw FILE]
#
# The source is a system container of ctr's template T (busybox, or debian) with SIZE MiB
# of files added (SIZE one-MiB files of random data and 2000 files of 4 KiB; none with
# --size 0); the LXC source is a copy of the same tree. Pools: btrfs (a loop image), dir
# and overlay (on the filesystem of /var/tmp), and lvm (a thin pool on a loop device) where
# the kernel has device-mapper; --pools "btrfs overlay dir lvm" (the default) picks some. Each clone is timed alone (wall clock, from before the command to its
# exit); its disk is what it holds of its own after a sync: on btrfs the exclusive bytes
# of its tree (`btrfs filesystem du`), elsewhere `du -x` of its directories. Needs root, ctr ($CTR, else ./src/ctr), lxc
# (apt-get install lxc rsync: only for this comparison), btrfs-progs, jq.
set -euo pipefail

RUNS=5 SIZE=200 RAW='' TEMPLATE=busybox POOLS="btrfs overlay dir lvm"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2 && shift ;;
	--size) SIZE=$2 && shift ;;
	--raw) RAW=$2 && shift ;;
	--template) TEMPLATE=$2 && shift ;;
	--pools) POOLS=$2 && shift ;;
	-h | --help) sed -n '2,17p' "$0" && exit 0 ;;
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
LOOP='' LVLOOP='' VG=ctrbench$$
export CTR_STORE=$W/store CTR_TEMPLATE_PATH=$HERE/templates CTR_INIT=$HERE/src/init/ctr-init
export CTR_NETWORK_ROOT=$W/net
ctr() { "$CTR" --root "$W/state" "$@"; }

cleanup() {
	set +e
	for n in "$CTR_STORE"/*; do [ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1; done
	for p in b1 o1 d1 l1; do ctr pool rm "$p" >/dev/null 2>&1; done
	if [ -n "$LVLOOP" ]; then
		vgremove -q -f "$VG" >/dev/null 2>&1
		losetup -d "$LVLOOP"
	fi
	for d in "$W"/btrfs/lxc "$W"/lxc "$W"/lxcdir "$W"/lxclvm; do
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
	# lvm: what the thin pool took since the source was made
	if [ "$kind" = lvm ]; then
		echo $(($(pool_used_kib) - LVBASE))
		return
	fi
	for p in "$@"; do
		[ -e "$p" ] || continue
		if [ "$kind" = btrfs ] && [ "$(stat -f -c %T "$p")" = btrfs ]; then
			btrfs filesystem sync "$p" >/dev/null
			total=$((total + $(btrfs filesystem du -s --raw "$p" | awk 'NR == 2 {print int($2 / 1024)}')))
		else
			# (a store directory's rootfs is a mount or a link: the pool's volume)
			total=$((total + $(du -skx "$p" --exclude="$CTR_STORE/*/rootfs" | cut -f1)))
		fi
	done
	echo "$total"
}
# fill DIR: SIZE MiB in 1 MiB files, and 2000 small files (nothing with --size 0)
fill() {
	[ "$SIZE" != 0 ] || return 0
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
LABELS=() # in the order measured
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
	LABELS+=("$label")
}
# KiB of the lvm thin pool's data in use
pool_used_kib() {
	lvs --noheadings --units k --nosuffix -o lv_size,data_percent "$VG/tp" |
		awk '{printf "%d\n", $1 * $2 / 100}'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() {
	local label=$1
	printf '%-44s %8s ms %8s ms %10s KiB\n' "$label" \
		"$(median <<<"${TIMES[$label]}")" \
		"$(tr ' ' '\n' <<<"${TIMES[$label]}" | grep . | sort -n | head -1)" \
		"$(median <<<"${DISKS[$label]}")"
}

want() { [[ " $POOLS " == *" $1 "* ]]; }

# --- btrfs: a loop image, a ctr pool and an lxcpath on it
if want btrfs; then
truncate -s $((SIZE * 6 + 4096))M "$W/btrfs.img"
mkfs.btrfs -q "$W/btrfs.img" >/dev/null
LOOP=$(losetup -f --show "$W/btrfs.img")
mkdir "$W/btrfs"
mount "$LOOP" "$W/btrfs"
chmod 700 "$W/btrfs"
ctr pool create b1 --type btrfs --path "$W/btrfs" >/dev/null
ctr create -t "$TEMPLATE" src --net none --pool b1 >/dev/null
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
fi

# --- overlay: on the filesystem of /var/tmp
if want overlay; then
ctr pool create o1 --type overlay --path "$W/ovl" >/dev/null
ctr create -t "$TEMPLATE" osrc --net none --pool o1 >/dev/null
fill "$CTR_STORE/osrc/rootfs"
lxc_source "$W/lxc" "$CTR_STORE/osrc/rootfs" dir
measure "overlay ctr clone --snapshot" dir "$W/ovl/{}/upper $W/ovl/{}/work $CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
	"$CTR" --root "$W/state" clone --snapshot osrc {}
measure "overlay lxc-copy -s -B overlay" dir "$W/lxc/{}" "lxc-destroy -P '$W/lxc' -n {}" -- \
	lxc-copy -P "$W/lxc" -n src -N {} -s -B overlay
fi

# --- dir: on the filesystem of /var/tmp (no copy-on-write: --snapshot is a copy too)
if want dir; then
ctr pool create d1 --type dir --path "$W/dir" >/dev/null
ctr create -t "$TEMPLATE" dsrc --net none --pool d1 >/dev/null
fill "$W/dir/dsrc"
lxc_source "$W/lxcdir" "$W/dir/dsrc" dir
measure "dir    ctr clone (cp --reflink=auto)" dir "$W/dir/{} $CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
	"$CTR" --root "$W/state" clone dsrc {}
measure "dir    lxc-copy (full)" dir "$W/lxcdir/{}" "lxc-destroy -P '$W/lxcdir' -n {}" -- \
	lxc-copy -P "$W/lxcdir" -n src -N {}
fi

# --- lvm: a thin pool on a loop device, where the kernel has device-mapper; LXC's source
# is a thin volume of its own in the same pool
if want lvm && command -v lvcreate >/dev/null && dmsetup version >/dev/null 2>&1; then
	export LVM_SYSTEM_DIR=$W/lvm
	mkdir -p "$LVM_SYSTEM_DIR"
	printf 'devices {\n use_devicesfile = 0\n}\nactivation {\n udev_sync = 0\n udev_rules = 0\n}\n' \
		>"$LVM_SYSTEM_DIR/lvm.conf"
	truncate -s $((SIZE * 4 + 4096))M "$W/lvm.img"
	LVLOOP=$(losetup -f --show "$W/lvm.img")
	vgcreate -q "$VG" "$LVLOOP" >/dev/null
	lvcreate -q -l 90%FREE -T "$VG/tp" >/dev/null
	ctr pool create l1 --type lvm --vg "$VG" --thinpool tp >/dev/null
	ctr create -t "$TEMPLATE" lsrc --net none --pool l1 --size $((SIZE + 1024))M >/dev/null
	fill "$CTR_STORE/lsrc/rootfs"
	sleep 5 # (ext4's lazy init is off in ctr's volumes; what is in flight lands)
	LVBASE=$(pool_used_kib)
	measure "lvm    ctr clone --snapshot" lvm "$CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
		"$CTR" --root "$W/state" clone --snapshot lsrc {}
	measure "lvm    ctr clone (a new thin volume, copied)" lvm "$CTR_STORE/{}" "'$CTR' --root '$W/state' destroy {}" -- \
		"$CTR" --root "$W/state" clone lsrc {}
	# LXC's source: a thin volume of its own holding the same tree
	lvcreate -q -V $((SIZE + 1024))M -T "$VG/tp" -n lxcsrc >/dev/null
	mkfs.ext4 -q "/dev/$VG/lxcsrc"
	mkdir -p "$W/lxclvm/src/rootfs"
	mount "/dev/$VG/lxcsrc" "$W/lxclvm/src/rootfs"
	cp -a "$CTR_STORE/lsrc/rootfs/." "$W/lxclvm/src/rootfs/"
	umount "$W/lxclvm/src/rootfs"
	cat >"$W/lxclvm/src/config" <<-EOF
		lxc.uts.name = src
		lxc.rootfs.path = lvm:/dev/$VG/lxcsrc
		lxc.net.0.type = empty
	EOF
	# (in the project's QEMU guest LXC fails to mount the origin to learn its filesystem)
	if lxc-copy -P "$W/lxclvm" -n src -N probe -s >/dev/null 2>&1; then
		lxc-destroy -P "$W/lxclvm" -n probe >/dev/null
		sleep 5
		LVBASE=$(pool_used_kib)
		measure "lvm    lxc-copy -s" lvm "" "lxc-destroy -P '$W/lxclvm' -n {}" -- \
			lxc-copy -P "$W/lxclvm" -n src -N {} -s
	else
		echo "lvm: lxc-copy -s fails on this machine: not measured" >&2
		lvremove -q -f "$VG/probe" >/dev/null 2>&1 || true
	fi
fi

printf '%-44s %11s %11s %14s\n' "" "median" "fastest" "disk (median)"
for l in "${LABELS[@]}"; do
	report "$l"
done
