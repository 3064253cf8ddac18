#!/usr/bin/env bats
# storage_ephemeral.bats: ctr start --ephemeral and ctr clone --ephemeral (a run on a
# throw-away overlay layer; a clone destroyed when it stops), in the default store, an
# overlay pool and a btrfs pool; a monitor killed with SIGKILL; a host reboot; nothing left.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=eph-${BATS_SUITE_TEST_NUMBER}-$$
	WORK=$BATS_TEST_TMPDIR/pools
	mkdir -p "$WORK"
	chmod 700 "$WORK"
	LOOP=''
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/*; do
		[ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1 || true
	done
	! mountpoint -q "$WORK/ovl" 2>/dev/null || umount "$WORK/ovl" || true
	if [ -n "$LOOP" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	delete_all_containers
	check_no_leaks
}

state_of() {
	ctr ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# No layer directory, no mount of the test's but the btrfs image, the store as listed.
check_nothing_left() {
	local left
	left=$(grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | grep -vF " $WORK/mnt " || true)
	[ -z "$left" ] || fail "mounts left: $left"
	left=$(find "$CTR_STORE" -maxdepth 2 -name .ephemeral 2>/dev/null || true)
	[ -z "$left" ] || fail "layers left: $left"
	[ "$(ls "$CTR_STORE" | tr '\n' ' ')" = "$*" ] || fail "store: $(ls -A "$CTR_STORE")"
}

# A file written in an ephemeral run of NAME (ROOTFS: its rootfs seen from the host) is
# there while it runs and gone after the stop; the rootfs below never had it.
ephemeral_run_forgets() {
	local rootfs=$1
	run ctr start --ephemeral "$NAME"
	assert_success
	run ctr attach "$NAME" -- sh -c 'echo run >/runfile; rm /bin/true; cat /runfile'
	# (a slow guest's attach may pass a stray console byte before the output)
	[[ $output == *run ]] || fail "$output"
	[ "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .ephemeral')" = true ]
	run ctr info "$NAME"
	[[ $output == *"Ephemeral:  run (its changes are gone when it stops)"* ]] || fail "$output"
	run ctr ls
	[[ $output == *"running*"* ]] || fail "$output"
	ctr stop "$NAME"
	[ ! -e "$rootfs/runfile" ] || fail "the run's file outlived it"
	[ -e "$rootfs/bin/true" ] || fail "the run's removal outlived it"
	[ "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .ephemeral')" = false ]
	# and a normal start after it boots the rootfs as it was
	ctr start "$NAME"
	run ctr attach "$NAME" -- sh -c 'ls /runfile 2>&1; ls /bin/true'
	[[ $output == *"No such file"*"/bin/true"* ]] || fail "$output"
	ctr stop "$NAME"
}

@test "start --ephemeral: the run's changes are gone when it stops (default store)" {
	ctr create -t busybox "$NAME" --net none --privileged
	ephemeral_run_forgets "$CTR_STORE/$NAME/rootfs"
	run ctr start --ephemeral nosuch
	[ "$status" -eq 2 ]
	[[ $output == *"--ephemeral: \`nosuch\` is not a named system container"* ]] || fail "$output"
	run ctr start --ephemeral --autostart
	[ "$status" -eq 2 ]
	ctr destroy "$NAME"
	check_nothing_left ""
}

# In a run of an unprivileged NAME: its root's files are root's inside, a file it makes is
# too, and its user namespace is its own range.
unprivileged_inside() {
	local range
	range=$(ctr config "$NAME" get idmap)
	run ctr attach "$NAME" -- sh -c 'cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /etc/passwd; touch /made; stat -c %u:%g /made'
	assert_success
	[ "$(echo $output)" = "0 ${range%%:*} 65536 0:0 0:0 0:0" ] || fail "idmap $range: $output"
}

# bats test_tags=v2
@test "--ephemeral of an unprivileged container (the default): its files are its root's, the changes go" {
	ctr create -t busybox "$NAME" --net none
	[ "$(ctr config "$NAME" get privileged)" = false ] || fail "not unprivileged by default"
	ctr start --ephemeral "$NAME"
	unprivileged_inside
	ctr stop "$NAME"
	[ ! -e "$CTR_STORE/$NAME/rootfs/made" ] || fail "the run's file outlived it"
	ephemeral_run_forgets "$CTR_STORE/$NAME/rootfs"
	# an ephemeral clone of it: a range of its own, gone with its run
	run ctr clone --ephemeral "$NAME" "$NAME-e"
	assert_success
	[ "$(state_of "$NAME-e")" = running ] || fail "clone: $(state_of "$NAME-e")"
	NAME=$NAME-e unprivileged_inside
	ctr stop "$NAME-e"
	[ ! -e "$CTR_STORE/$NAME-e" ] || fail "the ephemeral clone is left"
	ctr destroy "$NAME"
	check_nothing_left ""
}

@test "start --ephemeral in an overlay pool and in a btrfs pool: the volume is untouched" {
	ctr pool create o1 --type overlay --path "$WORK/ovl"
	ctr create -t busybox "$NAME" --net none --pool o1 --privileged
	ephemeral_run_forgets "$CTR_STORE/$NAME/rootfs"
	[ ! -e "$WORK/ovl/$NAME/upper/runfile" ] || fail "the volume's upper took the run's file"
	ctr destroy "$NAME"
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME" --net none --pool b1 --privileged
	ephemeral_run_forgets "$WORK/mnt/$NAME"
	ctr destroy "$NAME"
	ctr pool rm o1
	ctr pool rm b1
	# (the pool's base goes with it)
	[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")"
	check_nothing_left ""
}

@test "clone --ephemeral: started at once, destroyed entirely when it stops" {
	ctr create -t busybox "$NAME" --net none --privileged
	run ctr clone --ephemeral "$NAME" "$NAME-e"
	assert_success
	[ "$(state_of "$NAME-e")" = running ]
	run ctr attach "$NAME-e" -- sh -c 'hostname; touch /cloned'
	[[ ${lines[0]} == *"$NAME-e" ]] || fail "$output"
	run ctr info "$NAME-e"
	[[ $output == *"Ephemeral:  clone (destroyed when it stops)"* ]] || fail "$output"
	[[ $output == *"Clone of:   $NAME"* ]] || fail "$output"
	ctr stop "$NAME-e"
	run ctr info "$NAME-e"
	assert_failure
	[[ $output == *"container \`$NAME-e\` does not exist"* ]] || fail "$output"
	[ ! -e "$CTR_STORE/$NAME/rootfs/cloned" ] || fail "the clone's file is in the source"
	# the source is not running: refused, nothing made
	ctr start "$NAME"
	run ctr clone --ephemeral "$NAME" "$NAME-e"
	assert_failure
	[[ $output == *"container \`$NAME\` is running: stop it first"* ]] || fail "$output"
	ctr stop "$NAME"
	run ctr clone -F "$NAME" "$NAME-e"
	[ "$status" -eq 2 ]
	[[ $output == *"-F goes with --ephemeral"* ]] || fail "$output"
	ctr destroy "$NAME"
	check_nothing_left ""
}

@test "clone --ephemeral --snapshot in a btrfs pool: a snapshot, gone with its run" {
	make_btrfs
	ctr pool create b1 --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME" --net none --pool b1 --privileged
	ctr clone --ephemeral --snapshot "$NAME" "$NAME-e"
	# (under the run's overlay: the subvolume is seen in the list)
	[[ $(btrfs subvolume list "$WORK/mnt") == *" path $NAME-e"* ]] || fail "the clone is not a subvolume"
	ctr stop "$NAME-e"
	[ ! -e "$WORK/mnt/$NAME-e" ] || fail "the clone's subvolume is left"
	ctr destroy "$NAME"
	ctr pool rm b1
	[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")"
	check_nothing_left ""
}

# bats test_tags=v2
@test "ephemeral runs whose monitor was killed with SIGKILL: stop and start clean up" {
	ctr create -t busybox "$NAME" --net none --privileged
	ctr start --ephemeral "$NAME"
	ctr attach "$NAME" -- touch /killed
	ctr clone --ephemeral "$NAME" "$NAME-e" 2>/dev/null && fail "cloned a running container"
	ctr stop "$NAME"
	ctr clone --ephemeral "$NAME" "$NAME-e"
	ctr start --ephemeral "$NAME"
	ctr attach "$NAME" -- touch /killed
	local n mpid
	for n in "$NAME" "$NAME-e"; do
		mpid=$(jq -r .monitor_pid "$STATE_ROOT/$n/monitor.json")
		kill -KILL "$mpid"
		wait_until sh -c "! kill -0 $mpid 2>/dev/null"
	done
	[ "$(state_of "$NAME")" = orphaned ]
	# the run is not kept without its monitor: a start begins again from the rootfs
	run ctr start "$NAME"
	assert_success
	run ctr attach "$NAME" -- ls /killed
	assert_failure
	ctr stop "$NAME"
	[ ! -e "$CTR_STORE/$NAME/.ephemeral" ] || fail "the layer is left"
	# the clone's stop cleans up the orphan and destroys it
	run ctr stop "$NAME-e"
	assert_success
	[[ $output == *"monitor of \`$NAME-e\` is gone"* ]] || fail "$output"
	[ ! -e "$CTR_STORE/$NAME-e" ] || fail "the ephemeral clone is left"
	ctr destroy "$NAME"
	check_nothing_left ""
}

@test "ephemeral runs after a host reboot: ls removes the layer and the clone, destroy too" {
	ctr create -t busybox "$NAME" --net none --privileged
	ctr clone --ephemeral "$NAME" "$NAME-e"
	ctr start --ephemeral "$NAME"
	ctr attach "$NAME" -- touch /rebooted
	ctr clone --ephemeral "$NAME-e" "$NAME-x" 2>/dev/null && fail "cloned a running container"
	# what a reboot does: every process gone, no mounts, an empty /run, no cgroups
	local n pids='' d p
	for n in "$NAME" "$NAME-e"; do
		pids="$pids $(jq -r .monitor_pid "$STATE_ROOT/$n/monitor.json") $(ctr ls --format json | jq -r --arg n "$n" '.[] | select(.name == $n) | .pid')"
	done
	# shellcheck disable=SC2086
	kill -KILL $pids
	for p in $pids; do
		wait_until sh -c "! kill -0 $p 2>/dev/null"
	done
	for n in "$NAME" "$NAME-e"; do
		umount -l "$CTR_STORE/$n/rootfs"
		rm -rf "${STATE_ROOT:?}/$n"
		for d in /sys/fs/cgroup/*/ctr/"$n" /sys/fs/cgroup/*/ctr.monitor/"$n" /sys/fs/cgroup/ctr/"$n" /sys/fs/cgroup/ctr.monitor/"$n"; do
			[ ! -d "$d" ] || rmdir "$d"
		done
	done
	[ -d "$CTR_STORE/$NAME/.ephemeral" ] || fail "no layer to find"
	run ctr ls --format json
	assert_success
	[ "$(jq -r '.[].name' <<<"$output")" = "$NAME" ] || fail "$output"
	[ ! -e "$CTR_STORE/$NAME/.ephemeral" ] || fail "ls left the layer"
	[ ! -e "$CTR_STORE/$NAME/rootfs/rebooted" ] || fail "the run's file is in the rootfs"
	# the same left for destroy: it removes the layer before the files
	ctr start --ephemeral "$NAME"
	pids="$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json") $(ctr ls --format json | jq -r '.[0].pid')"
	# shellcheck disable=SC2086
	kill -KILL $pids
	for p in $pids; do
		wait_until sh -c "! kill -0 $p 2>/dev/null"
	done
	run ctr destroy -f "$NAME"
	assert_success
	check_nothing_left ""
}

@test "start --ephemeral killed with SIGKILL once its layer is mounted: ls removes it" {
	command -v strace >/dev/null || skip "strace not installed (apt-get install strace)"
	ctr create -t busybox "$NAME" --net none --privileged
	# killed at its first fork, the monitor's: the layer is mounted, nothing runs on it
	CTR_TEST_MARKER=$MARKER strace -qq -o /dev/null -e trace=clone,clone3,fork,vfork \
		-e inject=clone,clone3,fork,vfork:signal=KILL:when=1 \
		"$CTR" --root "$STATE_ROOT" start --ephemeral "$NAME" 2>/dev/null && fail "not killed"
	grep -qF " $CTR_STORE/$NAME/rootfs " /proc/self/mountinfo || fail "the layer was not mounted"
	run ctr ls
	assert_success
	[[ $output == *"$NAME "*" stopped "* ]] || fail "$output"
	[ ! -e "$CTR_STORE/$NAME/.ephemeral" ] || fail "ls left the layer"
	# and a start killed the same way is cleaned up by the next start
	CTR_TEST_MARKER=$MARKER strace -qq -o /dev/null -e trace=clone,clone3,fork,vfork \
		-e inject=clone,clone3,fork,vfork:signal=KILL:when=1 \
		"$CTR" --root "$STATE_ROOT" start --ephemeral "$NAME" 2>/dev/null && fail "not killed"
	ctr start "$NAME"
	run grep -F " $CTR_STORE/$NAME/rootfs " /proc/self/mountinfo
	assert_failure
	ctr stop "$NAME"
	ctr destroy "$NAME"
	check_nothing_left ""
}

@test "start --ephemeral with the store on an overlay: the layer goes to a tmpfs" {
	# a store that cannot hold an overlay upper: itself on an overlay
	mkdir -p "$WORK"/{lo,up,wk,ovl}
	mount -t overlay overlay -o "lowerdir=$WORK/lo,upperdir=$WORK/up,workdir=$WORK/wk" "$WORK/ovl"
	export CTR_STORE=$WORK/ovl/store
	ctr create -t busybox "$NAME" --net none --privileged
	ctr start --ephemeral "$NAME"
	run grep -F " $CTR_STORE/$NAME/.ephemeral " /proc/self/mountinfo
	[[ $output == *" - tmpfs "* ]] || fail "no tmpfs for the layer: $output"
	ctr attach "$NAME" -- touch /runfile
	ctr stop "$NAME"
	[ ! -e "$CTR_STORE/$NAME/rootfs/runfile" ] || fail "the run's file outlived it"
	ctr destroy "$NAME"
	umount "$WORK/ovl"
	check_nothing_left ""
}
