#!/usr/bin/env bats
# images.bats (fault): kill -9 of ctr at steps of `create -t` in a btrfs pool, while the
# pool's base is built and while a container's snapshot of it is made, then the normal
# cleanup verbs (destroy -f, pool prune): no subvolume, store entry or mount may remain
# but the base the cleanup keeps on purpose (docs/storage.md, "Bases").
# shellcheck disable=SC2154

load fault-helpers

# a create traces to about 300 syscalls: spread this many kills over them (every one:
# FAULT_STEPS_IMAGES=0); fault_verb reads FAULT_STEPS
# shellcheck disable=SC2034
FAULT_STEPS=${FAULT_STEPS_IMAGES:-40}

setup() {
	system_setup || return 1
	command -v mkfs.btrfs >/dev/null || fail "btrfs-progs is not installed"
	grep -qw btrfs /proc/filesystems || skip "the kernel has no btrfs"
	NAME=fi-${BATS_SUITE_TEST_NUMBER}-$$
	WORK=$BATS_TEST_TMPDIR/pools
	mkdir -p "$WORK/mnt"
	chmod 700 "$WORK"
	truncate -s 300M "$WORK/btrfs.img"
	mkfs.btrfs -q "$WORK/btrfs.img" >/dev/null
	LOOP=$(losetup -f --show "$WORK/btrfs.img")
	mount "$LOOP" "$WORK/mnt"
	chmod 700 "$WORK/mnt"
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	ctr destroy -f "$NAME" >/dev/null 2>&1 || true
	ctr destroy -f "$NAME-base" >/dev/null 2>&1 || true
	ctr pool rm b1 >/dev/null 2>&1 || true
	if [ -n "${LOOP:-}" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	delete_all_containers
	check_no_leaks
}

destroy_force() {
	local out
	out=$(ctr destroy -f "$NAME" 2>&1) || [[ $out == *"does not exist"* ]] ||
		{ echo "$out" >>"$BATS_TEST_TMPDIR/trial.log" && return 1; }
}
destroy_prune() { destroy_force && ctr pool prune b1 >>"$BATS_TEST_TMPDIR/trial.log" 2>&1; }

# KEEP subvolumes may remain (the base, when the cleanup keeps it), nothing else: no store
# entry, no mount under the pool, nothing half-made in .images
pool_left() {
	local keep=$1 subs mounts
	# check_no_leaks, but for the pool's own filesystem
	wait_until_none leaked_processes 2>/dev/null || fail "processes left: $(leaked_processes)" || return 1
	mounts=$(grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | grep -vF " $WORK/mnt " || true)
	[ -z "$mounts" ] || fail "mounts left: $mounts" || return 1
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left: $(ls -A "$STATE_ROOT")" || return 1
	[ -z "$(ls -A "$CTR_STORE" | grep -v '^\.pools$' || true)" ] || fail "store left: $(ls -A "$CTR_STORE")" || return 1
	subs=$(btrfs subvolume list "$WORK/mnt" | wc -l)
	[ "$subs" -eq "$keep" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")" || return 1
	[ -z "$(ls -A "$WORK/mnt/.images" 2>/dev/null | grep '^\.' || true)" ] ||
		fail "half-made base left: $(ls -A "$WORK/mnt/.images")" || return 1
	[ -z "$(ls -A "$WORK/mnt" | grep -v '^\.images$' || true)" ] || fail "pool left: $(ls -A "$WORK/mnt")" || return 1
}
nothing_left() { pool_left 0; }
base_left() { pool_left 1; }
base_made() {
	[ -d "$(echo "$WORK"/mnt/.images/busybox-*)" ] && return 0
	ctr create -t busybox "$NAME-base" --net none --pool b1 >/dev/null && ctr destroy "$NAME-base" >/dev/null
}

@test "fault: kill -9 at steps of create -t while the pool's base is built, then destroy -f and pool prune: nothing left" {
	FAULT_CHECK=nothing_left fault_verb "create -t (base built)" nothing destroy_prune \
		create -t busybox "$NAME" --net none --pool b1
}

@test "fault: kill -9 at steps of create -t from the pool's base, then destroy -f: only the base left" {
	FAULT_CHECK=base_left fault_verb "create -t (base taken)" base_made destroy_force \
		create -t busybox "$NAME" --net none --pool b1
}
