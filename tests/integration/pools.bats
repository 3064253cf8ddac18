#!/usr/bin/env bats
# pools.bats: storage pools (ctr pool create|ls|info|rm) and system containers in them:
# dir, btrfs (a loop-mounted image), lvm (a thin pool on a loop device), overlay; clones
# with --snapshot, native snapshots, errors, and nothing left after destroy.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=pool-${BATS_SUITE_TEST_NUMBER}-$$
	WORK=$BATS_TEST_TMPDIR/pools
	mkdir -p "$WORK"
	chmod 700 "$WORK"
	LOOP='' VG=''
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/*; do
		[ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1 || true
	done
	remove_lvm
	if [ -n "$LOOP" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	delete_all_containers
	check_no_leaks
}

# Snapshot s1 of $NAME, a file written into its rootfs (ROOTFS, seen from the host), a
# restore: the file is gone, and the restored container boots under its name.
restore_boots() {
	local rootfs=$1
	ctr snapshot create "$NAME" s1
	echo after >"$rootfs/after"
	ctr snapshot restore "$NAME" s1
	[ ! -e "$rootfs/after" ] || fail "restore kept a file written after the snapshot"
	run ctr start "$NAME"
	assert_success
	run ctr attach "$NAME" -- hostname
	# (a slow guest's attach may pass a stray console byte, a NUL the pty echoes as ^@,
	# before or after the output)
	local h=${output//^@/}
	[ "${h%%$'\n'*}" = "$NAME" ] || fail "hostname after restore: $output"
	ctr stop "$NAME"
}

# Nothing of the pool's containers left: no mounts under the test's directory, no
# subvolumes, no files in the store but the pool definitions.
check_nothing_left() {
	local left
	left=$(grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | grep -vF " $WORK/mnt " || true)
	[ -z "$left" ] || fail "mounts left: $left"
	[ -z "$(ls -A "$CTR_STORE" | grep -v '^\.pools$' || true)" ] || fail "store: $(ls -A "$CTR_STORE")"
	if [ -d "$WORK/mnt" ] && mountpoint -q "$WORK/mnt"; then
		[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")"
	fi
}

@test "pool: errors name the pool, the option and the value" {
	run ctr pool create p1 --type zfs --path "$WORK/p"
	[ "$status" -ne 0 ]
	[[ $output == *'unknown type "zfs"'* ]] || fail "$output"
	run ctr pool create p1 --type btrfs --path "$WORK"
	[ "$status" -eq 1 ]
	[[ $output == *"pool create p1: --path \`$WORK\` is not on btrfs"* ]] || fail "$output"
	run ctr pool create p1 --type lvm --path "$WORK"
	[ "$status" -eq 1 ]
	[[ $output == *"pool create p1: --path is not for --type lvm"* ]] || fail "$output"
	# btrfs-progs missing: an empty, non-executable file over the tool
	: >"$WORK/nobtrfs"
	run unshare -m sh -c "mount --bind '$WORK/nobtrfs' \"\$(command -v btrfs)\" && exec '$CTR' pool create p1 --type btrfs --path '$WORK'"
	[ "$status" -eq 1 ]
	[[ $output == *"pool create p1: --type btrfs needs btrfs-progs (btrfs not found)"* ]] || fail "$output"
	run ctr pool info nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"pool \`nosuch\` does not exist"* ]] || fail "$output"
	run ctr create -t busybox "$NAME" --net none --pool nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"--pool: pool \`nosuch\` does not exist"* ]] || fail "$output"
	ctr pool create d1 --type dir --path "$WORK/d1"
	run ctr create -t busybox "$NAME" --net none --pool d1 --size 1G
	[ "$status" -eq 1 ]
	[[ $output == *"--size 1G: only for lvm pools (pool \`d1\` is dir)"* ]] || fail "$output"
	[ -z "$(ls -A "$WORK/d1")" ] || fail "left in the pool: $(ls -A "$WORK/d1")"
	run ctr pool create d1 --type dir --path "$WORK/d1"
	[[ $output == *"pool \`d1\` already exists"* ]] || fail "$output"
	check_nothing_left
}

@test "pool: a dir pool holds the rootfs; ls, info, rm refused while a container lives there" {
	ctr pool create d1 --type dir --path "$WORK/d1"
	ctr create -t busybox "$NAME" --net none --pool d1
	[ -x "$WORK/d1/$NAME/bin/busybox" ] || fail "no rootfs in the pool"
	run ctr config "$NAME" get pool
	[ "$output" = d1 ]
	# info and ls name the pool; a container made without --pool is in "default"
	ctr create -t busybox "$NAME-s" --net none
	run ctr info "$NAME"
	[[ $output == *"Pool:       d1"* ]] || fail "$output"
	run ctr info "$NAME-s"
	[[ $output == *"Pool:       default"* ]] || fail "$output"
	[ "$(ctr info "$NAME" --format json | jq -r .pool)" = d1 ]
	run ctr ls --format json
	assert_success
	[ "$(jq -r ".[] | select(.name==\"$NAME\") | .pool" <<<"$output")" = d1 ]
	[ "$(jq -r ".[] | select(.name==\"$NAME-s\") | .pool" <<<"$output")" = default ]
	ctr destroy "$NAME-s"
	run ctr pool ls --format json
	assert_success
	[ "$(jq -r '.[] | select(.name=="d1") | .type' <<<"$output")" = dir ]
	[ "$(jq -r '.[] | select(.name=="d1") | .containers[0]' <<<"$output")" = "$NAME" ]
	[ "$(jq -r '.[] | select(.name=="default") | .type' <<<"$output")" = dir ]
	run ctr pool info d1
	[[ $output == *"Containers: $NAME"* ]] || fail "$output"
	run ctr pool rm d1
	[ "$status" -eq 1 ]
	[[ $output == *"pool rm d1: containers live in it: $NAME"* ]] || fail "$output"
	# a snapshot and its restore in the pool's directory
	restore_boots "$WORK/d1/$NAME"
	ctr destroy "$NAME"
	# (the base stays for the next create: storage_images.bats)
	[ -z "$(ls -A "$WORK/d1" | grep -v '^\.images$' || true)" ] || fail "left in the pool: $(ls -A "$WORK/d1")"
	ctr pool rm d1
	[ -z "$(ls -A "$WORK/d1")" ] || fail "pool rm left: $(ls -A "$WORK/d1")"
	run ctr pool info d1
	[ "$status" -eq 1 ]
	check_nothing_left
}

@test "pool: btrfs subvolumes, clone --snapshot shares extents, native snapshots, nothing left" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME" --net none --pool b1
	btrfs subvolume show "$WORK/mnt/$NAME" >/dev/null || fail "not a subvolume"
	ctr clone --snapshot "$NAME" "$NAME-c"
	btrfs subvolume show "$WORK/mnt/$NAME-c" >/dev/null || fail "the clone is not a subvolume"
	run btrfs filesystem du -s "$WORK/mnt/$NAME-c"
	[[ $(awk 'NR==2 {print $3}' <<<"$output") != 0.00B ]] || fail "nothing shared: $output"
	# the clone's change does not reach its source
	echo mine >"$WORK/mnt/$NAME-c/clonefile"
	[ ! -e "$WORK/mnt/$NAME/clonefile" ] || fail "the clone's file is in the source"
	run ctr start "$NAME-c"
	assert_success
	run ctr attach "$NAME-c" -- hostname
	[ "$output" = "$NAME-c" ]
	ctr stop "$NAME-c"
	# a native snapshot: a file written after it is gone after restore
	ctr snapshot create "$NAME" s1
	btrfs subvolume show "$WORK/mnt/$NAME@s1" >/dev/null || fail "the snapshot is not a subvolume"
	echo after >"$WORK/mnt/$NAME/after"
	ctr snapshot restore "$NAME" s1
	[ ! -e "$WORK/mnt/$NAME/after" ] || fail "restore kept a file written after the snapshot"
	[ -x "$WORK/mnt/$NAME/bin/busybox" ] || fail "restored rootfs is empty"
	ctr snapshot create "$NAME" s2
	ctr snapshot rm "$NAME" s2
	[ ! -e "$WORK/mnt/$NAME@s2" ] || fail "snapshot rm left its subvolume"
	ctr destroy "$NAME"
	ctr destroy "$NAME-c"
	ctr pool rm b1
	check_nothing_left
}

@test "pool: a killed create in a btrfs pool leaves what destroy -f and pool rm remove" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	# the template sleeps once the subvolume is there
	mkdir -p "$WORK/templates"
	cat >"$WORK/templates/ctr-slow" <<-'EOS'
		#!/bin/sh
		touch "$BATS_SLOW_MARK"
		exec sleep 60
	EOS
	chmod +x "$WORK/templates/ctr-slow"
	export BATS_SLOW_MARK=$WORK/slow.mark
	CTR_TEMPLATE_PATH=$WORK/templates "$CTR" create -t slow "$NAME" --net none --pool b1 </dev/null >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		[ -e "$BATS_SLOW_MARK" ] && break
		sleep 0.1
	done
	[ -e "$BATS_SLOW_MARK" ] || fail "the template did not start"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	sleep 0.5
	# the template was filling the pool's base (storage_images.bats), a subvolume
	btrfs subvolume list "$WORK/mnt" | grep -q '\.images/\.slow-.*\.new/rootfs' ||
		fail "the subvolume was not made: $(btrfs subvolume list "$WORK/mnt")"
	ctr destroy -f "$NAME"
	[ ! -e "$CTR_STORE/.$NAME.new" ] || fail "destroy -f left the staging directory"
	ctr pool rm b1
	check_nothing_left
}

@test "pool: an unprivileged overlay container shares its base: layers idmapped, clone --snapshot copies nothing, privileged and back" {
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	ctr create -t busybox "$NAME" --net none --pool o1
	# the template's tree is not copied up into the container's upper to shift its owners
	[ "$(find "$WORK/ovl/$NAME/upper" | wc -l)" -lt 10 ] || fail "upper: $(find "$WORK/ovl/$NAME/upper")"
	local uid
	uid=$(ctr config "$NAME" get idmap | cut -d: -f1)
	[ "$uid" -gt 0 ] || fail "not unprivileged: $(ctr config "$NAME" get idmap)"
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/bin")" = "$uid" ] || fail "the host sees $(stat -c %u "$CTR_STORE/$NAME/rootfs/bin")"
	ctr start "$NAME"
	run ctr attach "$NAME" -- sh -c 'id -u; stat -c %u /bin /etc/hostname; echo mine >/root/made; stat -c %u /root/made'
	assert_success
	[ "$(echo $output)" = "0 0 0 0" ] || fail "inside: $output"
	ctr stop "$NAME"
	# on disk the container's files keep the ids they have inside
	[ "$(stat -c %u "$WORK/ovl/$NAME/upper/root/made")" = 0 ] || fail "on disk: $(stat -c %u "$WORK/ovl/$NAME/upper/root/made")"
	# a clone: its own range over the same files, nothing copied
	ctr clone --snapshot "$NAME" "$NAME-c"
	[ "$(find "$WORK/ovl/$NAME-c/upper" | wc -l)" -lt 10 ] || fail "clone's upper: $(find "$WORK/ovl/$NAME-c/upper")"
	[ "$(ctr config "$NAME-c" get idmap)" != "$(ctr config "$NAME" get idmap)" ] || fail "the same range"
	ctr start "$NAME-c"
	run ctr attach "$NAME-c" -- sh -c 'cat /root/made; stat -c %u /root/made /bin; hostname'
	assert_success
	[ "$(echo $output)" = "mine 0 0 $NAME-c" ] || fail "clone inside: $output"
	ctr stop "$NAME-c"
	ctr destroy "$NAME-c"
	# privileged: the layers plain again (the files were never chowned); and back
	ctr config "$NAME" set privileged true
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/root/made")" = 0 ] || fail "privileged: $(stat -c %u "$CTR_STORE/$NAME/rootfs/root/made")"
	ctr config "$NAME" set privileged false
	uid=$(ctr config "$NAME" get idmap | cut -d: -f1)
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/root/made")" = "$uid" ] || fail "unprivileged again: $(stat -c %u "$CTR_STORE/$NAME/rootfs/root/made")"
	ctr start "$NAME"
	run ctr attach "$NAME" -- stat -c %u /root/made
	[ "$output" = 0 ] || fail "inside again: $output"
	ctr stop "$NAME"
	ctr destroy "$NAME"
	[ -z "$(grep -F "$WORK/ovl" /proc/self/mountinfo || true)" ] || fail "mounts left: $(grep -F "$WORK/ovl" /proc/self/mountinfo)"
	ctr pool rm o1
	[ -z "$(ls -A "$WORK/ovl")" ] || fail "pool rm left: $(ls -A "$WORK/ovl")"
	check_nothing_left
}

@test "pool: overlay clone --snapshot: the source's destroy is refused while the clone lives" {
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	ctr create -t busybox "$NAME" --net none --pool o1
	run grep -F " $CTR_STORE/$NAME/rootfs " /proc/self/mountinfo
	[[ $output == *" overlay "* ]] || fail "not an overlay: $output"
	ctr clone --snapshot "$NAME" "$NAME-c"
	run ctr start "$NAME-c"
	assert_success
	run ctr attach "$NAME-c" -- sh -c 'hostname; echo mine >/clonefile'
	[ "${lines[0]}" = "$NAME-c" ]
	ctr stop "$NAME-c"
	[ ! -e "$CTR_STORE/$NAME/rootfs/clonefile" ] || fail "the clone's file is in the source"
	run ctr destroy "$NAME"
	[ "$status" -eq 1 ]
	[[ $output == *"container \`$NAME\` has overlay clones that use its files: $NAME-c"* ]] || fail "$output"
	ctr destroy "$NAME-c"
	ctr destroy "$NAME"
	[ -z "$(ls -A "$WORK/ovl" | grep -v '^\.images$' || true)" ] || fail "left: $(ls -A "$WORK/ovl")"
	ctr pool rm o1
	[ -z "$(ls -A "$WORK/ovl")" ] || fail "pool rm left: $(ls -A "$WORK/ovl")"
	check_nothing_left
}

# bats test_tags=v2
@test "pool: lvm thin volumes, clone --snapshot, native snapshots, nothing left" {
	make_lvm ctrtvg$$
	run ctr pool create l1 --type lvm --vg "$VG" --thinpool nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"pool create l1: thin pool \`$VG/nosuch\`"* ]] || fail "$output"
	ctr pool create l1 --type lvm --vg "$VG" --thinpool thin
	# privileged: an ephemeral run below needs a root that is no idmapped mount
	ctr create -t busybox "$NAME" --net none --pool l1 --size 200M --privileged
	lvs "$VG/ctr-$NAME" >/dev/null || fail "no thin volume"
	mountpoint -q "$CTR_STORE/$NAME/rootfs" || fail "rootfs not mounted"
	ctr clone --snapshot "$NAME" "$NAME-c"
	lvs "$VG/ctr-$NAME-c" >/dev/null || fail "no thin snapshot"
	echo mine >"$CTR_STORE/$NAME-c/rootfs/clonefile"
	[ ! -e "$CTR_STORE/$NAME/rootfs/clonefile" ] || fail "the clone's file is in the source"
	restore_boots "$CTR_STORE/$NAME/rootfs"
	# an ephemeral run over the thin volume: gone with the stop
	ctr start --ephemeral "$NAME"
	ctr attach "$NAME" -- touch /runfile
	ctr stop "$NAME"
	[ ! -e "$CTR_STORE/$NAME/rootfs/runfile" ] || fail "the ephemeral run's file outlived it"
	# out of the thin pool into the store and back
	ctr snapshot rm "$NAME" s1
	echo mark >"$CTR_STORE/$NAME/rootfs/mark"
	ctr move "$NAME" --pool default
	lvs "$VG/ctr-$NAME" >/dev/null 2>&1 && fail "move left the thin volume"
	ctr move "$NAME" --pool l1
	mountpoint -q "$CTR_STORE/$NAME/rootfs" || fail "rootfs not mounted after the move"
	[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "the tree did not come along"
	ctr destroy "$NAME"
	ctr destroy "$NAME-c"
	# the pool's base (a read-only thin volume the containers were snapshots of) stays
	# until pool prune or pool rm (storage_images.bats)
	[ -z "$(lvs --noheadings -o lv_name "$VG" | grep -v -e thin -e 'ctr-\.img-' || true)" ] || fail "LVs left: $(lvs "$VG")"
	ctr pool rm l1
	[ -z "$(lvs --noheadings -o lv_name "$VG" | grep -v thin || true)" ] || fail "LVs left: $(lvs "$VG")"
	check_nothing_left
}

@test "pool: overlay snapshots keep the upper exactly: new, changed and deleted files, restore boots" {
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	ctr create -t busybox "$NAME" --net none --pool o1
	local root=$CTR_STORE/$NAME/rootfs
	# a deletion (a whiteout in the upper) and a change before the snapshot
	rm "$root/bin/true"
	echo before >"$root/etc/motd"
	mkdir "$root/d" && echo x >"$root/d/in"
	ctr snapshot create "$NAME" s1 --comment "before"
	[ -d "$WORK/ovl/$NAME@s1/upper" ] || fail "no copy of the upper in the pool"
	run ctr snapshot ls "$NAME" --format json
	assert_success
	[ "$(jq -r '.[0].name' <<<"$output")" = s1 ] || fail "$output"
	# after it: a new file, a change, a deleted file and directory, a restored deletion
	echo after >"$root/after"
	echo changed >"$root/etc/motd"
	rm "$root/bin/false"
	rm -r "$root/d"
	touch "$root/bin/true"
	run ctr snapshot restore "$NAME" s1
	assert_success
	[ ! -e "$root/after" ] || fail "restore kept a file written after the snapshot"
	[ "$(cat "$root/etc/motd")" = before ] || fail "motd: $(cat "$root/etc/motd")"
	[ -e "$root/bin/false" ] || fail "a file deleted after the snapshot is still gone"
	[ "$(cat "$root/d/in")" = x ] || fail "a directory deleted after the snapshot is still gone"
	[ ! -e "$root/bin/true" ] || fail "a file deleted before the snapshot is back"
	[ ! -e "$WORK/ovl/$NAME/upper.restore" ] || fail "restore left its copy"
	ctr snapshot rm "$NAME" s1
	restore_boots "$root"
	# a clone stacked on the upper: a restore would take its files, refused naming it
	ctr clone --snapshot "$NAME" "$NAME-c"
	run ctr snapshot restore "$NAME" s1
	[ "$status" -eq 1 ]
	[[ $output == *"container \`$NAME\` has overlay clones stacked on its files: $NAME-c"* ]] || fail "$output"
	ctr destroy "$NAME-c"
	ctr snapshot rm "$NAME" s1
	[ ! -e "$WORK/ovl/$NAME@s1" ] || fail "snapshot rm left the copy"
	ctr snapshot create "$NAME" s2
	ctr destroy "$NAME"
	[ -z "$(ls -A "$WORK/ovl" | grep -v '^\.images$' || true)" ] || fail "left: $(ls -A "$WORK/ovl")"
	ctr pool rm o1
	check_nothing_left
}


# ctr move $NAME to each pool in turn: the file "mark" goes along, the old volume goes.
move_through() {
	local p
	for p in "$@"; do
		run ctr move "$NAME" --pool "$p"
		assert_success
		[ "$(ctr config "$NAME" get pool)" = "$p" ] || fail "pool after move to $p: $(ctr config "$NAME" get pool)"
		[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "the tree did not come along to $p"
		[ -z "$(ls -A "$CTR_STORE/$NAME" | grep -e '^\.move' -e '^move\.json' || true)" ] || fail "left: $(ls -A "$CTR_STORE/$NAME")"
	done
}

@test "move: dir, btrfs, overlay (flattened on the way out) and back to the store; refusals" {
	make_btrfs
	ctr pool create d1 --type dir --path "$WORK/d1"
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	ctr create -t busybox "$NAME" --net none --pool o1
	echo mark >"$CTR_STORE/$NAME/rootfs/mark"
	rm "$CTR_STORE/$NAME/rootfs/bin/true"
	move_through d1
	[ -z "$(ls -A "$WORK/ovl" | grep -v '^\.images$' || true)" ] || fail "the overlay volume is left: $(ls -A "$WORK/ovl")"
	[ -x "$WORK/d1/$NAME/bin/busybox" ] && [ ! -e "$WORK/d1/$NAME/bin/true" ] || fail "not flattened"
	move_through b1 o1 default b1 d1
	btrfs subvolume list "$WORK/mnt" | grep -q . && fail "subvolumes left: $(btrfs subvolume list "$WORK/mnt")"
	run ctr start "$NAME"
	assert_success
	run ctr attach "$NAME" -- cat /mark
	[ "$output" = mark ] || fail "$output"
	# refused, each in one line: running, the same pool, no such pool
	run ctr move "$NAME" --pool b1
	[ "$status" -eq 1 ]
	[[ $output == *"move: container \`$NAME\` is running: stop it first"* ]] || fail "$output"
	ctr stop "$NAME"
	run ctr move "$NAME" --pool d1
	[ "$status" -eq 1 ]
	[[ $output == *"container \`$NAME\` is already in pool \`d1\`"* ]] || fail "$output"
	run ctr move "$NAME" --pool nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"pool \`nosuch\` does not exist"* ]] || fail "$output"
	run ctr move "$NAME"
	[ "$status" -eq 2 ]
	[[ $output == *"missing --pool POOL"* ]] || fail "$output"
	# snapshots stay in their pool: refused
	ctr snapshot create "$NAME" s1
	run ctr move "$NAME" --pool b1
	[ "$status" -eq 1 ]
	[[ $output == *"container \`$NAME\` has snapshots (\`s1\`, ...)"* ]] || fail "$output"
	ctr snapshot rm "$NAME" s1
	# a source with overlay clones stacked on it: refused, naming them
	ctr move "$NAME" --pool o1
	ctr clone --snapshot "$NAME" "$NAME-c"
	run ctr move "$NAME" --pool d1
	[ "$status" -eq 1 ]
	[[ $output == *"container \`$NAME\` has overlay clones that use its files: $NAME-c"* ]] || fail "$output"
	# the clone itself moves, flattened: then the source is free to go
	ctr move "$NAME-c" --pool d1
	[ "$(cat "$WORK/d1/$NAME-c/mark")" = mark ] || fail "the clone lost its tree"
	ctr move "$NAME" --pool b1
	ctr destroy "$NAME-c"
	ctr destroy "$NAME"
	ctr pool rm d1
	ctr pool rm b1
	ctr pool rm o1
	check_nothing_left
}

@test "move killed with SIGKILL at each step: move, start or destroy -f finish or undo it" {
	command -v strace >/dev/null || skip "strace not installed (apt-get install strace)"
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME" --net none
	echo mark >"$CTR_STORE/$NAME/rootfs/mark"
	# the move renames: its record (copying), the new volume's record, its record
	# (swapping), the old rootfs out, the new record in, the new rootfs in, ctr.json
	local when then pool
	for when in 1 2 3 4 5 6 7; do
		case $when in 1 | 4 | 7) then=start ;; 2 | 5) then=move ;; *) then=destroy ;; esac
		CTR_TEST_MARKER=$MARKER strace -qq -o /dev/null -e trace=renameat \
			-e inject=renameat:signal=KILL:when=$when \
			"$CTR" --root "$STATE_ROOT" move "$NAME" --pool b1 2>/dev/null && fail "not killed at $when"
		# the copy was whole from the swapping record on: finished; undone before
		pool=default
		[ "$when" -le 3 ] || pool=b1
		case $then in
		start)
			run ctr start "$NAME"
			assert_success
			run ctr attach "$NAME" -- cat /mark
			[ "$output" = mark ] || fail "after a kill at $when: $output"
			ctr stop "$NAME"
			;;
		move)
			run ctr move "$NAME" --pool b1
			# undone and done again, or finished (then it is in b1 already)
			[ "$status" -eq 0 ] || [[ $output == *"already in pool \`b1\`"* ]] || fail "after a kill at $when: $output"
			pool=b1
			;;
		destroy)
			ctr destroy -f "$NAME"
			[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "after a kill at $when: subvolumes: $(btrfs subvolume list "$WORK/mnt")"
			check_nothing_left
			ctr create -t busybox "$NAME" --net none
			echo mark >"$CTR_STORE/$NAME/rootfs/mark"
			pool=default
			;;
		esac
		[ "$(ctr config "$NAME" get pool)" = "$pool" ] || fail "after a kill at $when: in $(ctr config "$NAME" get pool), not $pool"
		[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "after a kill at $when: the tree is not whole"
		[ -z "$(ls -A "$CTR_STORE/$NAME" | grep -e '^\.move' -e '^move\.json' || true)" ] || fail "after a kill at $when: $(ls -A "$CTR_STORE/$NAME")"
		if [ "$pool" = b1 ]; then
			[ "$(btrfs subvolume list "$WORK/mnt" | wc -l)" = 1 ] || fail "after a kill at $when: $(btrfs subvolume list "$WORK/mnt")"
			ctr move "$NAME" --pool default
		fi
		[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "after a kill at $when: subvolumes: $(btrfs subvolume list "$WORK/mnt")"
	done
	ctr destroy "$NAME"
	ctr pool rm b1
	check_nothing_left
}
