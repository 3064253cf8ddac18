#!/usr/bin/env bats
# storage.bats (fault): kill -9 of ctr at each step of the storage verbs (clone, clone
# --snapshot, snapshot create|restore|rm, import, export, move, pool create|rm, start
# --ephemeral, cp into a stopped container), then the cleanup a user would use (destroy -f
# DST, snapshot rm, the verb again, pool rm, stop): nothing may remain (store entries and
# staging dirs, mounts, subvolumes, processes such as cp and tar, cgroups, state), the
# source must be whole and boot, and the name must be usable again.
# The steps are the calls that change something (FAULT_ONLY below): the copies walk and stat
# the tree many times, and a kill before a call that changes nothing leaves what the kill
# before the next one leaves. SIGINT and SIGTERM of clone, import and export clean up at once.
# shellcheck disable=SC2154,SC2010

load fault-helpers

# mkdir, rename, unlink, link, mount, fork, wait for a child, write, lock, chown, create
FAULT_ONLY='^(mkdirat|mkdir|renameat2?|rename|unlinkat|unlink|rmdir|symlinkat|symlink|linkat|link|mount|umount2|move_mount|fsmount|open_tree|mount_setattr|clone3?|fork|vfork|wait4|write|pwrite64|ftruncate|fsync|fchownat|fchown|fchmodat|fchmod|fsetxattr|lsetxattr|ioctl|flock|kill)\(|O_CREAT|O_TMPFILE'
export FAULT_ONLY
# and at most this many of them per verb, evenly spread (a FAULT_STEPS other than 0 wins)
[ "$FAULT_STEPS" != 0 ] || FAULT_STEPS=${FAULT_STORAGE_STEPS:-20}

setup() {
	system_setup || return 1
	NAME=fs-${BATS_SUITE_TEST_NUMBER}-$$
	DST=$NAME-c
	WORK=$BATS_TEST_TMPDIR/w
	mkdir -p "$WORK"
	chmod 700 "$WORK"
	LOOP='' MOUNTS_OK='^$' SUBVOLS=''
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/*; do
		[ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1 || true
	done
	for n in "$CTR_STORE"/.pools/*.json; do
		[ -e "$n" ] && ctr pool rm "$(basename "$n" .json)" >/dev/null 2>&1 || true
	done
	if [ -n "$LOOP" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	delete_all_containers
	check_no_leaks
}

log() { "$@" >>"$BATS_TEST_TMPDIR/trial.log" 2>&1; }

# the source: a stopped container with a file of its own
source_made() {
	ctr create -t busybox "$NAME" --net none "$@" >/dev/null || return 1
	echo mark >"$CTR_STORE/$NAME/rootfs/mark"
}

# Nothing of the test but what it keeps: processes (cp, tar, monitors), cgroups and state
# of the test, mounts other than MOUNTS_OK (an extended regex on mountinfo's mount point),
# btrfs subvolumes other than SUBVOLS (and the pool's bases).
nothing_else() {
	local mounts procs subs
	wait_until_none leaked_processes 2>/dev/null || true
	procs=$(leaked_processes)
	[ -z "$procs" ] || fail "processes left: $procs" || return 1
	[ -z "$(leaked_cgroups)" ] || fail "cgroups left: $(leaked_cgroups)" || return 1
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left: $(ls -A "$STATE_ROOT")" || return 1
	mounts=$(grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | awk '{print $5}' | grep -Ev "$MOUNTS_OK" || true)
	[ -z "$mounts" ] || fail "mounts left: $mounts" || return 1
	if [ -n "$LOOP" ]; then
		# (a pool's finished base stays by design: docs/storage.md; a half-made one does not)
		subs=$(btrfs subvolume list "$WORK/mnt" | awk '{print $NF}' |
			grep -Ev '^\.images/[^./][^/]*/rootfs$' | sort | tr '\n' ' ')
		[ "$subs" = "$SUBVOLS" ] || fail "subvolumes: $subs (wanted: $SUBVOLS)" || return 1
	fi
	[ -z "$(losetup -j "$WORK/btrfs.img" 2>/dev/null | grep -v "^$LOOP:" || true)" ] ||
		fail "loop devices left: $(losetup -j "$WORK/btrfs.img")" || return 1
}

# store_is NAME...: the store holds these containers and nothing else (no staging dir)
store_is() {
	local have want
	have=$(ls -A "$CTR_STORE" | grep -vx '\.pools' | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | grep -v '^$' | sort | tr '\n' ' ')
	[ "$have" = "$want" ] || fail "store: $have (wanted: $want)"
}

# dir_is DIR ENTRY...: DIR holds these entries and nothing else
dir_is() {
	local dir=$1 have want
	shift
	have=$(ls -A "$dir" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | grep -v '^$' | sort | tr '\n' ' ')
	[ "$have" = "$want" ] || fail "$dir: $have (wanted: $want)"
}

# The source as it was: its file, its entries, no snapshots, and its lock free.
source_whole() {
	[ "$(cat "$CTR_STORE/$NAME/rootfs/mark" 2>/dev/null)" = mark ] || fail "the source lost its file" || return 1
	[ -z "$(ls -A "$CTR_STORE/$NAME/snapshots" 2>/dev/null)" ] ||
		fail "snapshots of the source: $(ls -A "$CTR_STORE/$NAME/snapshots")" || return 1
	[ "$(ctr config "$NAME" get template 2>&1)" = busybox ] || fail "the source: $(ctr config "$NAME" get template 2>&1)"
}

# Ends a verb's trials: the source boots, and the verb runs whole again under the same names.
source_boots() {
	run ctr start "$NAME"
	assert_success
	run ctr stop "$NAME"
	assert_success
}

# CLEANUP OUT: runs a cleanup verb; "does not exist" (nothing was made) is fine
gone_ok() {
	local out
	out=$("$CTR" --root "$STATE_ROOT" "$@" 2>&1) && return 0
	echo "$out" >>"$BATS_TEST_TMPDIR/trial.log"
	[[ $out == *"does not exist"* || $out == *"has no snapshot"* ]]
}
destroy_dst() { gone_ok destroy -f "$DST"; }
only_source() { nothing_else && store_is "$NAME" && source_whole; }

@test "fault: kill -9 at each step of clone, then destroy -f DST: only the whole source left" {
	source_made
	FAULT_CHECK=only_source fault_verb clone nothing destroy_dst clone "$NAME" "$DST"
	ctr clone "$NAME" "$DST"
	[ "$(cat "$CTR_STORE/$DST/rootfs/mark")" = mark ]
	source_boots
}

@test "fault: kill -9 at each step of clone --snapshot, snapshot create and restore in an overlay pool" {
	ctr pool create o1 --type overlay --path "$WORK/o1"
	source_made --pool o1
	# the source's own: its rootfs, and its layers idmapped into its range
	MOUNTS_OK="^($CTR_STORE/$NAME/rootfs|$WORK/o1/$NAME/(lower\.[0-9]+|mapped))\$"
	in_pool() { only_source && dir_is "$WORK/o1" .images "$NAME"; }
	FAULT_CHECK=in_pool fault_verb "clone --snapshot (overlay)" nothing destroy_dst clone --snapshot "$NAME" "$DST"
	# a snapshot copies the upper to $WORK/o1/NAME@s1, recorded first
	snap_rm() { gone_ok snapshot rm "$NAME" s1; }
	FAULT_CHECK=in_pool fault_verb "snapshot create (overlay)" nothing snap_rm snapshot create "$NAME" s1
	# a restore copies s1's upper to NAME/upper.restore and swaps the two while unmounted
	ctr snapshot create "$NAME" s1
	after() { echo after >"$CTR_STORE/$NAME/rootfs/after"; }
	restore() { log ctr snapshot restore "$NAME" s1; }
	restored() {
		nothing_else && store_is "$NAME" || return 1
		[ ! -e "$CTR_STORE/$NAME/rootfs/after" ] || fail "the restore kept a later file" || return 1
		[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "the restore lost the file" || return 1
		dir_is "$WORK/o1" .images "$NAME" "$NAME@s1" && dir_is "$WORK/o1/$NAME" lower.0 mapped upper work
	}
	FAULT_CHECK=restored fault_verb "snapshot restore (overlay)" after restore snapshot restore "$NAME" s1
	ctr snapshot rm "$NAME" s1
	ctr clone --snapshot "$NAME" "$DST"
	[ "$(cat "$CTR_STORE/$DST/rootfs/mark")" = mark ]
	ctr destroy "$DST"
	source_boots
	# no clone is left recorded on the source
	ctr destroy "$NAME"
}

@test "fault: kill -9 at each step of clone --snapshot, snapshot create and restore in a btrfs pool" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	source_made --pool b1
	MOUNTS_OK="^$WORK/mnt\$" SUBVOLS="$NAME "
	FAULT_CHECK=only_source fault_verb "clone --snapshot (btrfs)" nothing destroy_dst clone --snapshot "$NAME" "$DST"
	snap_rm() { gone_ok snapshot rm "$NAME" s1; }
	FAULT_CHECK=only_source fault_verb "snapshot create (btrfs)" nothing snap_rm snapshot create "$NAME" s1
	# a restore snapshots s1 as NAME.restore and swaps it in: restored again, only the two
	ctr snapshot create "$NAME" s1
	after() { echo after >"$CTR_STORE/$NAME/rootfs/after"; }
	restore() { log ctr snapshot restore "$NAME" s1; }
	restored() {
		SUBVOLS="$NAME $NAME@s1 " nothing_else && store_is "$NAME" || return 1
		[ ! -e "$CTR_STORE/$NAME/rootfs/after" ] || fail "the restore kept a later file" || return 1
		[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "the restore lost the file" || return 1
		dir_is "$CTR_STORE/$NAME/snapshots" s1
	}
	FAULT_CHECK=restored fault_verb "snapshot restore (btrfs)" after restore snapshot restore "$NAME" s1
	ctr snapshot rm "$NAME" s1
	source_boots
}

@test "fault: kill -9 at each step of snapshot create and rm, then snapshot rm: nothing left" {
	source_made
	snap_rm() { gone_ok snapshot rm "$NAME" s1; }
	snapped() { ctr snapshot ls "$NAME" | grep -qw s1 || ctr snapshot create "$NAME" s1 >/dev/null; }
	FAULT_CHECK=only_source fault_verb "snapshot create" nothing snap_rm snapshot create "$NAME" s1
	FAULT_CHECK=only_source fault_verb "snapshot rm" snapped snap_rm snapshot rm "$NAME" s1
	ctr snapshot create "$NAME" s1
	ctr snapshot rm "$NAME" s1
	source_boots
}

@test "fault: kill -9 at each step of snapshot restore, then restore again: the snapshot, nothing else" {
	source_made
	ctr snapshot create "$NAME" s1
	after() { echo after >"$CTR_STORE/$NAME/rootfs/after"; }
	restore() { log ctr snapshot restore "$NAME" s1; }
	restored() {
		nothing_else && store_is "$NAME" || return 1
		[ ! -e "$CTR_STORE/$NAME/rootfs/after" ] || fail "the restore kept a later file" || return 1
		[ "$(cat "$CTR_STORE/$NAME/rootfs/mark")" = mark ] || fail "the restore lost the file" || return 1
		dir_is "$CTR_STORE/$NAME/snapshots" s1
		dir_is "$CTR_STORE/$NAME" config.json ctr.json rootfs snapshots template.conf
	}
	FAULT_CHECK=restored fault_verb "snapshot restore" after restore snapshot restore "$NAME" s1
	ctr snapshot rm "$NAME" s1
	source_boots
}

@test "fault: kill -9 at each step of import, then destroy -f NAME: nothing left" {
	source_made
	ctr export "$NAME" "$WORK/a.tar.zst"
	FAULT_CHECK=only_source fault_verb import nothing destroy_dst import "$WORK/a.tar.zst" "$DST"
	ctr import "$WORK/a.tar.zst" "$DST"
	[ "$(cat "$CTR_STORE/$DST/rootfs/mark")" = mark ]
	source_boots
}

@test "fault: kill -9 at each step of export: a whole FILE or none, and no FILE.tmp but beside an old FILE" {
	source_made
	mkdir "$WORK/out"
	ctr export "$NAME" "$WORK/old.tar.zst"
	# whole FILE: the archive of $NAME, every member there (zstd -t checks the frame's end)
	whole() { zstd -qt "$1" && tar -tf "$1" | grep -qx "$NAME/rootfs/mark" || fail "$1 is not a whole archive"; }
	no_part() {
		only_source || return 1
		[ ! -e "$WORK/out/a.tar.zst" ] || whole "$WORK/out/a.tar.zst" || return 1
		[ -z "$(ls -A "$WORK/out" | grep -vx a.tar.zst)" ] || fail "out: $(ls -A "$WORK/out")"
	}
	# an old FILE is replaced in one rename: FILE is the old or the new archive, and a kill
	# between the link and the rename leaves a whole FILE.tmp, which the next export replaces
	old_or_new() {
		only_source && whole "$WORK/out/a.tar.zst" || return 1
		[ ! -e "$WORK/out/a.tar.zst.tmp" ] || whole "$WORK/out/a.tar.zst.tmp" || return 1
		[ -z "$(ls -A "$WORK/out" | grep -vx -e a.tar.zst -e a.tar.zst.tmp)" ] || fail "out: $(ls -A "$WORK/out")"
	}
	clean_out() { rm -f "$WORK/out/"*; }
	old_out() { cp "$WORK/old.tar.zst" "$WORK/out/a.tar.zst"; }
	FAULT_CHECK=no_part fault_verb export clean_out nothing export "$NAME" "$WORK/out/a.tar.zst"
	FAULT_CHECK=old_or_new fault_verb "export over a FILE" old_out nothing export "$NAME" "$WORK/out/a.tar.zst"
	ctr export "$NAME" "$WORK/out/a.tar.zst"
	dir_is "$WORK/out" a.tar.zst
	source_boots
}

@test "fault: kill -9 at each step of move, then move again: moved whole, nothing of the old volume left" {
	ctr pool create p1 --type dir --path "$WORK/p1"
	source_made
	back() { [ "$(ctr config "$NAME" get pool)" = default ] || ctr move "$NAME" --pool default >/dev/null; }
	again() {
		local out
		out=$("$CTR" --root "$STATE_ROOT" move "$NAME" --pool p1 2>&1) || [[ $out == *"already in pool"* ]] ||
			{ echo "$out" >>"$BATS_TEST_TMPDIR/trial.log" && return 1; }
	}
	moved() {
		nothing_else && store_is "$NAME" && source_whole || return 1
		[ "$(ctr config "$NAME" get pool)" = p1 ] || fail "in pool $(ctr config "$NAME" get pool)" || return 1
		dir_is "$WORK/p1" "$NAME"
		dir_is "$CTR_STORE/$NAME" config.json ctr.json rootfs template.conf volume.json
	}
	FAULT_CHECK=moved fault_verb move back again move "$NAME" --pool p1
	source_boots
}

@test "fault: kill -9 at each step of pool create and rm (dir, overlay, btrfs), then pool rm" {
	make_btrfs
	MOUNTS_OK="^$WORK/mnt\$"
	pool_rm() { gone_ok pool rm p2; }
	no_pool() { nothing_else && store_is && dir_is "$CTR_STORE/.pools"; }
	pooled() { ctr pool ls | grep -qw p2 || ctr pool create p2 --type dir --path "$WORK/p2"; }
	mkdir -p "$CTR_STORE/.pools"
	FAULT_CHECK=no_pool fault_verb "pool create (dir)" nothing pool_rm pool create p2 --type dir --path "$WORK/p2"
	FAULT_CHECK=no_pool fault_verb "pool create (overlay)" nothing pool_rm pool create p2 --type overlay --path "$WORK/p2"
	FAULT_CHECK=no_pool fault_verb "pool create (btrfs)" nothing pool_rm pool create p2 --type btrfs --path "$WORK/mnt"
	FAULT_CHECK=no_pool fault_verb "pool rm" pooled pool_rm pool rm p2
	ctr pool create p2 --type dir --path "$WORK/p2"
	ctr pool rm p2
}

@test "fault: kill -9 at each step of start --ephemeral, then ls and stop: the rootfs as it was" {
	source_made --privileged
	stopped() {
		log ctr ls || return 1
		gone_ok stop "$NAME" || [ "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .state')" = stopped ]
	}
	as_was() {
		only_source || return 1
		[ ! -e "$CTR_STORE/$NAME/.ephemeral" ] || fail ".ephemeral left: $(ls -A "$CTR_STORE/$NAME/.ephemeral")"
	}
	FAULT_CHECK=as_was fault_verb "start --ephemeral" nothing stopped start --ephemeral "$NAME"
	source_boots
}

@test "fault: kill -9 at each step of cp into a stopped container: the file or nothing, lock free" {
	source_made
	mkdir -p "$WORK/in/d"
	echo data >"$WORK/in/d/f"
	echo top >"$WORK/in/g"
	rm_in() { rm -rf "$CTR_STORE/$NAME/rootfs/in"; }
	no_temp() {
		only_source || return 1
		# what cp makes is /in, and nothing else of it anywhere in the rootfs
		[ -z "$(find "$CTR_STORE/$NAME/rootfs" -newer "$WORK/in/g" -not -path "*/rootfs/in*" -not -path "*/rootfs")" ] ||
			fail "cp left: $(find "$CTR_STORE/$NAME/rootfs" -newer "$WORK/in/g" -not -path "*/rootfs/in*")"
	}
	FAULT_CHECK=no_temp fault_verb "cp into a stopped container" rm_in nothing cp "$WORK/in" "$NAME:/in"
	rm_in
	ctr cp "$WORK/in" "$NAME:/in"
	[ "$(cat "$CTR_STORE/$NAME/rootfs/in/d/f")" = data ]
	source_boots
}

# interrupted SIG STATUS CHILD DELAY CMD...: CMD, slowed by DELAY (strace's syscalls and
# inject, for the cp or tar it runs), gets SIG from the user once CHILD (a pgrep -f regex)
# runs: ctr must end by SIG (exit STATUS) having removed what it made, its child too.
interrupted() {
	local sig=$1 status=$2 child=$3 delay=$4 spid ctr_pid rc=0
	shift 4
	# SIGINT back to its default (a background job of a script starts with it ignored)
	env --default-signal=INT CTR_TEST_MARKER="$MARKER" strace -f -qq -o /dev/null -e trace="$delay" \
		-e inject="$delay:delay_enter=100000" \
		"$CTR" --root "$STATE_ROOT" "$@" </dev/null >"$BATS_TEST_TMPDIR/int.log" 2>&1 3>&- &
	spid=$!
	BG_PIDS+=("$spid")
	wait_until pgrep -f "$child" >/dev/null
	ctr_pid=$(pgrep -P "$spid" -x ctr)
	[ -n "$ctr_pid" ] || fail "ctr not found"
	kill -"$sig" "$ctr_pid"
	wait "$spid" || rc=$?
	[ "$rc" -eq "$status" ] || fail "SIG$sig: exit status $rc: $(cat "$BATS_TEST_TMPDIR/int.log")" || return 1
	grep -q "interrupted" "$BATS_TEST_TMPDIR/int.log" || fail "SIG$sig: $(cat "$BATS_TEST_TMPDIR/int.log")"
}

@test "SIGTERM and SIGINT to clone, import and export: the half-made copy is removed before ctr ends by it" {
	source_made
	ctr export "$NAME" "$WORK/a.tar"
	mkdir "$WORK/out"
	local sig status chowns=fchownat,lchown,fchown,chown
	for sig in TERM INT; do
		status=$((128 + $(kill -l "$sig")))
		interrupted "$sig" "$status" "^cp -a --reflink=auto -- $CTR_STORE/$NAME/rootfs" "$chowns" clone "$NAME" "$DST"
		only_source || return 1
		interrupted "$sig" "$status" "^tar --extract .*$CTR_STORE/.$DST.new" "$chowns" import "$WORK/a.tar" "$DST"
		only_source || return 1
		interrupted "$sig" "$status" "^tar --create .*$CTR_STORE" openat export "$NAME" "$WORK/out/a.tar.zst"
		only_source || return 1
		dir_is "$WORK/out"
	done
	# the names are free, the source whole
	ctr clone "$NAME" "$DST"
	ctr destroy "$DST"
	ctr import "$WORK/a.tar" "$DST"
	ctr export "$DST" "$WORK/out/a.tar.zst"
	source_boots
}
