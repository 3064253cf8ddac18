#!/usr/bin/env bats
# system_monitor.bats: a system container's monitor lives in a cgroup of its own
# (<root>/ctr.monitor/NAME), not in its caller's session: the end of that session leaves
# the container running and manageable; the monitor's cgroup goes with stop and destroy.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=mon-${BATS_SUITE_TEST_NUMBER}-$$
	SESSION=$MARKER-session
}

teardown() {
	local n d
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	for d in /sys/fs/cgroup/*/"$SESSION" /sys/fs/cgroup/"$SESSION"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

state_of() {
	ctr ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# The hierarchies' directories of the stand-in session cgroup.
session_dirs() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup/$SESSION"
	else
		local h
		for h in /sys/fs/cgroup/*/; do
			[ -e "$h/cgroup.procs" ] && echo "$h$SESSION"
		done
	fi
}

# The monitor's cgroup directories, in every hierarchy.
monitor_cgroups() {
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/ctr.monitor/$NAME" 2>/dev/null
}

@test "a container started from a session survives the end of that session" {
	local d pids
	run ctr create -t busybox "$NAME" --net none
	assert_success
	for d in $(session_dirs); do mkdir "$d"; done
	# `ctr start` from inside the session, as from an ssh login
	run sh -c 'for d in $1; do echo $$ >"$d/cgroup.procs"; done; shift; exec "$@"' sh \
		"$(session_dirs)" "$CTR" --root "$STATE_ROOT" start "$NAME"
	assert_success
	[ "$(state_of "$NAME")" = running ]
	# the session ends: everything in it is killed (logind's KillUserProcesses)
	for d in $(session_dirs); do
		pids=$(cat "$d/cgroup.procs")
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	done
	sleep 0.5
	[ "$(state_of "$NAME")" = running ] || fail "the container did not survive: $(state_of "$NAME")"
	run ctr attach "$NAME" -- hostname
	assert_success
	[ "$output" = "$NAME" ]
	# the monitor is in its own cgroup, in every hierarchy
	[ -n "$(monitor_cgroups)" ]
	run ctr stop -t 10 "$NAME"
	assert_success
	[ -z "$(monitor_cgroups)" ] || fail "monitor cgroups left after stop: $(monitor_cgroups)"
}

@test "the monitor's cgroup goes with destroy -f, also when the monitor was killed" {
	run ctr create -t busybox "$NAME" --net none
	assert_success
	run ctr start "$NAME"
	assert_success
	[ -n "$(monitor_cgroups)" ]
	run ctr destroy -f "$NAME"
	assert_success
	[ -z "$(monitor_cgroups)" ] || fail "left after destroy -f: $(monitor_cgroups)"
	run ctr create -t busybox "$NAME" --net none
	assert_success
	run ctr start "$NAME"
	assert_success
	local mon
	mon=$(find /sys/fs/cgroup -maxdepth 4 -path "*/ctr.monitor/$NAME/cgroup.procs" | head -1)
	kill -KILL $(cat "$mon")
	sleep 0.3
	[ "$(state_of "$NAME")" = orphaned ]
	run ctr destroy -f "$NAME"
	assert_success
	[ -z "$(monitor_cgroups)" ] || fail "left after destroy -f of an orphan: $(monitor_cgroups)"
}
