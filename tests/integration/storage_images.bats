#!/usr/bin/env bats
# storage_images.bats: a pool's shared bases (one read-only template tree per template and
# options, docs/storage.md "Bases"): containers from one template share it in a btrfs pool
# (snapshots), an lvm pool (thin snapshots; the cgroup v2 guest, which has device-mapper),
# an overlay pool (lower) and a dir pool (reflinked copies on btrfs), each
# with its own hostname, machine-id, files and id range; pool info lists it with its users,
# pool prune removes it once unused; a create killed while the base is built leaves what
# destroy -f, the next create and pool rm remove.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=img-${BATS_SUITE_TEST_NUMBER}-$$
	WORK=$BATS_TEST_TMPDIR/pools
	mkdir -p "$WORK"
	chmod 700 "$WORK"
	LOOP='' VG=''
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/* "$CTR_STORE"/.*.new; do
		[ -e "$n" ] || continue
		n=${n##*/}
		n=${n#.}
		ctr destroy -f "${n%.new}" >/dev/null 2>&1 || true
	done
	for n in b1 o1 d1 l1; do
		ctr pool rm "$n" >/dev/null 2>&1 || true
	done
	remove_lvm
	if [ -n "$LOOP" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	delete_all_containers
	check_no_leaks
}

# A template `mid`: busybox's tree with an /etc/machine-id, as Debian's package scripts
# leave one in its cached tree.
make_mid_template() {
	mkdir -p "$WORK/templates"
	cat >"$WORK/templates/ctr-mid" <<-EOS
		#!/bin/bash
		set -eu
		"$SRCDIR/templates/ctr-busybox" "\$@"
		while [ \$# -gt 0 ]; do [ "\$1" = --path ] && path=\$2; shift; done
		echo 0123456789abcdef0123456789abcdef >"\$path/rootfs/etc/machine-id"
	EOS
	chmod +x "$WORK/templates/ctr-mid"
	export CTR_TEMPLATE_PATH=$WORK/templates:$CTR_TEMPLATE_PATH
}

# bytes DIR: what `btrfs filesystem du` says DIR holds: "TOTAL EXCLUSIVE"
btrfs_bytes() {
	btrfs filesystem sync "$1" >/dev/null
	btrfs filesystem du -s --raw "$1" | awk 'NR == 2 {print $1, $2}'
}

# hostname_of NAME: its hostname, seen inside it
hostname_of() {
	run ctr start "$1"
	assert_success
	run ctr attach "$1" -- hostname
	ctr stop "$1"
	local h=${output//^@/}
	echo "${h%%$'\n'*}"
}

# no_subvolumes: nothing of ctr's left on the btrfs image
no_subvolumes() {
	[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")"
}

@test "images: btrfs: two containers are snapshots of one read-only base; own hostname, files, id range" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME-a" --net none --pool b1
	ctr create -t busybox "$NAME-b" --net none --pool b1
	local base total excl
	base=$(echo "$WORK"/mnt/.images/busybox-*/rootfs)
	[ -d "$base" ] || fail "no base in the pool: $(ls -A "$WORK/mnt")"
	[ "$(btrfs property get -ts "$base" ro)" = ro=true ] || fail "the base is writable"
	[ "$(btrfs subvolume list "$WORK/mnt" | wc -l)" = 3 ] || fail "$(btrfs subvolume list "$WORK/mnt")"
	# the second container holds nothing of its own: every extent is the base's
	read -r total excl < <(btrfs_bytes "$WORK/mnt/$NAME-b")
	[ "$total" -gt 1000000 ] && [ "$excl" -lt 65536 ] || fail "not shared: total $total, exclusive $excl"
	run ctr pool info b1
	assert_success
	[[ $output == *"busybox-"*"users: $NAME-a,$NAME-b"* ]] || fail "$output"
	# each its own id range, the shared files not chowned into either (idmapped mounts)
	[ "$(jq '.linux.uidMappings[0].hostID' "$CTR_STORE/$NAME-a/config.json")" != \
		"$(jq '.linux.uidMappings[0].hostID' "$CTR_STORE/$NAME-b/config.json")" ] || fail "one id range"
	[ "$(stat -c %u "$WORK/mnt/$NAME-b/bin/busybox")" = 0 ] || fail "the snapshot was chowned"
	# the template's per-container files name the container, not the one the base was built for
	[ "$(cat "$WORK/mnt/$NAME-b/etc/hostname")" = "$NAME-b" ] || fail "/etc/hostname: $(cat "$WORK/mnt/$NAME-b/etc/hostname")"
	grep -q "^127.0.1.1[[:space:]]$NAME-b\$" "$WORK/mnt/$NAME-b/etc/hosts" || fail "/etc/hosts: $(cat "$WORK/mnt/$NAME-b/etc/hosts")"
	ctr start "$NAME-a"
	run ctr attach "$NAME-a" -- sh -c 'hostname; echo mine >/mine; stat -c %u /mine /bin/busybox'
	ctr stop "$NAME-a"
	[ "${lines[0]//^@/}" = "$NAME-a" ] || fail "$output"
	[ "${lines[1]}" = 0 ] && [ "${lines[2]//^@/}" = 0 ] || fail "owners inside: $output"
	[ -e "$WORK/mnt/$NAME-a/mine" ] || fail "the file is not in its own volume"
	[ ! -e "$WORK/mnt/$NAME-b/mine" ] || fail "the file of $NAME-a is in $NAME-b"
	[ ! -e "$base/mine" ] || fail "the file of $NAME-a is in the base"
	[ "$(hostname_of "$NAME-b")" = "$NAME-b" ] || fail "hostname of $NAME-b"
	# in use: pool rm refused; destroying the containers keeps the base until prune
	run ctr pool rm b1
	[ "$status" -eq 1 ]
	ctr destroy "$NAME-a"
	run ctr pool prune b1
	assert_success
	[ -z "$output" ] || fail "prune removed a base in use: $output"
	ctr destroy "$NAME-b"
	[ -d "$base" ] || fail "destroy removed the base"
	run ctr pool info b1 --format json
	[ "$(jq -c '.bases[0].users' <<<"$output")" = '[]' ] || fail "$output"
	run ctr pool prune b1
	assert_success
	[[ $output == "removed busybox-"* ]] || fail "$output"
	no_subvolumes
	[ -z "$(ls -A "$WORK/mnt/.images")" ] || fail "left: $(ls -A "$WORK/mnt/.images")"
	ctr pool rm b1
	[ -z "$(ls -A "$WORK/mnt")" ] || fail "pool rm left: $(ls -A "$WORK/mnt")"
}

@test "images: overlay: the second container is an upper over the base, with a machine-id of its own" {
	make_mid_template
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	# unprivileged (the default): the layers are idmapped, no file is copied up to shift it
	# (docs/storage.md, "Unprivileged containers in an overlay pool")
	ctr create -t mid "$NAME-a" --net none --pool o1
	ctr create -t mid "$NAME-b" --net none --pool o1
	local base ids
	base=$(echo "$WORK"/ovl/.images/mid-*/rootfs)
	[ -d "$base" ] || fail "no base in the pool"
	[ "$(find "$base" | wc -l)" -gt 100 ] || fail "the base is not the tree"
	# (the v2 guest's /tmp is a tmpfs of Linux 6.1, which takes no idmapped mount: there the
	# tree is chowned into the range instead, every file copied up)
	if [ -z "${CTR_V2_GUEST:-}" ]; then
		[ "$(find "$WORK/ovl/$NAME-b/upper" | wc -l)" -lt 10 ] || fail "upper: $(find "$WORK/ovl/$NAME-b/upper")"
	fi
	ids=$(cat "$CTR_STORE/$NAME-a/rootfs/etc/machine-id" "$CTR_STORE/$NAME-b/rootfs/etc/machine-id" \
		"$base/etc/machine-id" | sort -u | wc -l)
	[ "$ids" = 3 ] || fail "machine-ids shared: $(cat "$CTR_STORE"/*/rootfs/etc/machine-id)"
	grep -qx '[0-9a-f]\{32\}' "$CTR_STORE/$NAME-b/rootfs/etc/machine-id" || fail "not a machine-id"
	echo mine >"$CTR_STORE/$NAME-a/rootfs/mine"
	[ ! -e "$CTR_STORE/$NAME-b/rootfs/mine" ] && [ ! -e "$base/mine" ] || fail "the file is shared"
	[ "$(hostname_of "$NAME-b")" = "$NAME-b" ] || fail "hostname of $NAME-b"
	run ctr pool info o1 --format json
	[ "$(jq -c '.bases[0].users' <<<"$output")" = "[\"$NAME-a\",\"$NAME-b\"]" ] || fail "$output"
	ctr destroy "$NAME-a"
	ctr destroy "$NAME-b"
	run ctr pool prune o1
	[[ $output == "removed mid-"* ]] || fail "$output"
	[ -z "$(ls -A "$WORK/ovl/.images")" ] || fail "left: $(ls -A "$WORK/ovl/.images")"
	ctr pool rm o1
	[ -z "$(ls -A "$WORK/ovl")" ] || fail "left: $(ls -A "$WORK/ovl")"
}

@test "images: dir pool on btrfs: each container a reflinked copy of the base" {
	make_btrfs
	ctr pool create d1 --type dir --path "$WORK/mnt/dir"
	ctr create -t busybox "$NAME-a" --net none --pool d1
	ctr create -t busybox "$NAME-b" --net none --pool d1
	[ -d "$(echo "$WORK"/mnt/dir/.images/busybox-*/rootfs)" ] || fail "no base"
	local total excl
	read -r total excl < <(btrfs_bytes "$WORK/mnt/dir/$NAME-b")
	[ "$total" -gt 1000000 ] && [ "$excl" -lt 65536 ] || fail "not reflinked: total $total, exclusive $excl"
	echo mine >"$WORK/mnt/dir/$NAME-a/mine"
	[ ! -e "$WORK/mnt/dir/$NAME-b/mine" ] || fail "the file is shared"
	[ "$(hostname_of "$NAME-b")" = "$NAME-b" ] || fail "hostname of $NAME-b"
	ctr destroy "$NAME-a"
	ctr destroy "$NAME-b"
	# pool rm takes the unused bases with the definition
	ctr pool rm d1
	[ -z "$(ls -A "$WORK/mnt/dir")" ] || fail "left: $(ls -A "$WORK/mnt/dir")"
}

@test "images: a create killed while the base is built: the next create rebuilds it, destroy -f and pool rm remove the rest" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	# the template sleeps (once) when the mark file is there
	mkdir -p "$WORK/templates"
	cat >"$WORK/templates/ctr-slow" <<-EOS
		#!/bin/bash
		set -eu
		if [ -e "$WORK/sleep" ]; then touch "$WORK/slow.mark"; exec sleep 60; fi
		exec "$SRCDIR/templates/ctr-busybox" "\$@"
	EOS
	chmod +x "$WORK/templates/ctr-slow"
	export CTR_TEMPLATE_PATH=$WORK/templates:$CTR_TEMPLATE_PATH
	touch "$WORK/sleep"
	"$CTR" --root "$STATE_ROOT" create -t slow "$NAME" --net none --pool b1 </dev/null >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		[ -e "$WORK/slow.mark" ] && break
		sleep 0.1
	done
	[ -e "$WORK/slow.mark" ] || fail "the template did not start"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	sleep 0.5
	# the half-made base, a subvolume
	btrfs subvolume list "$WORK/mnt" | grep -q '\.images/\.slow-.*\.new/rootfs' ||
		fail "no half-made base: $(btrfs subvolume list "$WORK/mnt")"
	rm "$WORK/sleep"
	ctr create -t slow "$NAME-b" --net none --pool b1
	[ "$(hostname_of "$NAME-b")" = "$NAME-b" ] || fail "hostname of $NAME-b"
	[ "$(btrfs subvolume list "$WORK/mnt" | wc -l)" = 2 ] || fail "$(btrfs subvolume list "$WORK/mnt")"
	ctr destroy -f "$NAME"
	ctr destroy "$NAME-b"
	ctr pool rm b1
	no_subvolumes
	[ -z "$(ls -A "$WORK/mnt")" ] || fail "left: $(ls -A "$WORK/mnt")"
	[ -z "$(ls -A "$CTR_STORE" | grep -v '^\.pools$' || true)" ] || fail "store: $(ls -A "$CTR_STORE")"
}

@test "images: a create killed with the base left half-made: pool rm removes it" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	mkdir -p "$WORK/templates"
	cat >"$WORK/templates/ctr-slow" <<-EOS
		#!/bin/sh
		touch "$WORK/slow.mark"
		exec sleep 60
	EOS
	chmod +x "$WORK/templates/ctr-slow"
	CTR_TEMPLATE_PATH=$WORK/templates "$CTR" --root "$STATE_ROOT" create -t slow "$NAME" --net none --pool b1 </dev/null >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		[ -e "$WORK/slow.mark" ] && break
		sleep 0.1
	done
	[ -e "$WORK/slow.mark" ] || fail "the template did not start"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	sleep 0.5
	run ctr pool info b1
	[[ $output == *"Bases:      none"* ]] || fail "a half-made base is listed: $output"
	ctr destroy -f "$NAME"
	ctr pool rm b1
	no_subvolumes
	[ -z "$(ls -A "$WORK/mnt")" ] || fail "left: $(ls -A "$WORK/mnt")"
}

@test "images: bad input: prune names the pool; a template that fails leaves no base" {
	run ctr pool prune
	[ "$status" -eq 2 ]
	[[ $output == *"pool prune: missing pool name"* ]] || fail "$output"
	run ctr pool prune nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"pool \`nosuch\` does not exist"* ]] || fail "$output"
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	run ctr create -t busybox "$NAME" --net none --pool b1 -- --busybox /nonexistent
	[ "$status" -eq 1 ]
	[[ $output == *"ctr-busybox: "*"/nonexistent"* ]] || fail "$output"
	no_subvolumes
	[ -z "$(ls -A "$WORK/mnt/.images")" ] || fail "left: $(ls -A "$WORK/mnt/.images")"
	[ -z "$(ls -A "$CTR_STORE" | grep -v '^\.pools$' || true)" ] || fail "store: $(ls -A "$CTR_STORE")"
	run ctr pool info b1
	[[ $output == *"Bases:      none"* ]] || fail "$output"
	ctr pool rm b1
	[ -z "$(ls -A "$WORK/mnt")" ] || fail "pool rm left: $(ls -A "$WORK/mnt")"
}

# device-mapper: the guest has it, the host does not
# bats test_tags=v2
@test "images: lvm: two containers are thin snapshots of one read-only base LV" {
	make_lvm ctrivg$$
	ctr pool create l1 --type lvm --vg "$VG" --thinpool thin
	ctr create -t busybox "$NAME-a" --net none --pool l1 --size 100M
	local used_a used_b base
	used_a=$(lvs --noheadings --units k --nosuffix -o data_percent "$VG/thin" | tr -d ' ')
	ctr create -t busybox "$NAME-b" --net none --pool l1 --size 100M
	# ext4's lazy inode-table init, were it on, would write ~6 MB into the snapshot
	# in the background within these seconds
	sleep 5
	used_b=$(lvs --noheadings --units k --nosuffix -o data_percent "$VG/thin" | tr -d ' ')
	base=$(lvs --noheadings -o lv_name "$VG" | tr -d ' ' | grep '^ctr-\.img-busybox-') || fail "no base LV: $(lvs "$VG")"
	[[ $(lvs --noheadings -o lv_attr "$VG/$base" | tr -d ' ') == ?r* ]] || fail "the base is writable: $(lvs "$VG")"
	[ "$(lvs --noheadings -o origin "$VG/ctr-$NAME-b" | tr -d ' ')" = "$base" ] || fail "not a snapshot: $(lvs -o+origin "$VG")"
	# the second container took (almost) nothing of the thin pool: 300M * 1% = 3M
	awk -v a="$used_a" -v b="$used_b" 'BEGIN { exit !(b - a < 1) }' || fail "thin pool use $used_a% -> $used_b%"
	run ctr pool info l1
	[[ $output == *"busybox-"*"users: $NAME-a,$NAME-b"* ]] || fail "$output"
	echo mine >"$CTR_STORE/$NAME-a/rootfs/mine"
	[ ! -e "$CTR_STORE/$NAME-b/rootfs/mine" ] || fail "the file of $NAME-a is in $NAME-b"
	[ "$(hostname_of "$NAME-b")" = "$NAME-b" ] || fail "hostname of $NAME-b"
	ctr destroy "$NAME-a"
	ctr destroy "$NAME-b"
	lvs "$VG/$base" >/dev/null 2>&1 || fail "destroy removed the base"
	run ctr pool prune l1
	[[ $output == "removed busybox-"* ]] || fail "$output"
	[ -z "$(lvs --noheadings -o lv_name "$VG" | grep -v thin || true)" ] || fail "LVs left: $(lvs "$VG")"
	ctr pool rm l1
	[ ! -e "$CTR_STORE/.pools/l1.images" ] || fail "pool rm left its bases' directory"
}
