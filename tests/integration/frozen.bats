#!/usr/bin/env bats
# frozen.bats: no ctr command hangs on a frozen cgroup. Every verb that acts on a
# container runs against one paused with `ctr pause` and one whose cgroup was frozen from
# outside (v1: freezer.state FROZEN written directly; v2: cgroup.freeze 1), each under a
# 20 s timeout (status 124 is a hang). Also run in the cgroup v2 guest.

# shellcheck disable=SC2154
# bats file_tags=v2
load helpers

export CTR_TIMEOUT=20

# The freezer files of the container's cgroup: v2's cgroup.freeze, else v1's freezer.state
# (not those of a system container's monitor, ctr.monitor/NAME).
freezer_files() {
	local d
	for d in $(find /sys/fs/cgroup -mindepth 1 -type d -name "$1" -not -path "*/ctr.monitor/*" 2>/dev/null); do
		if [ -e "$d/cgroup.freeze" ] && [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			echo "$d/cgroup.freeze"
		elif [ -e "$d/freezer.state" ]; then
			echo "$d/freezer.state"
		fi
	done
}

# freeze_outside ID: freezes the container's cgroup behind ctr's back.
freeze_outside() {
	local f files
	files=$(freezer_files "$1")
	[ -n "$files" ] || fail "no freezer for $1" || return 1
	for f in $files; do
		case $f in
		*cgroup.freeze) echo 1 >"$f" ;;
		*) echo FROZEN >"$f" ;;
		esac
	done
}

# thaw_outside ID: the teardown's safety net, so that a failed test leaves nothing frozen.
thaw_outside() {
	local f
	for f in $(freezer_files "$1"); do
		case $f in
		*cgroup.freeze) echo 0 >"$f" ;;
		*) echo THAWED >"$f" ;;
		esac
	done 2>/dev/null || true
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	thaw_outside "$(cid)"
	if [ -n "${SYSNAME:-}" ]; then
		thaw_outside "$SYSNAME"
		ctr destroy -f "$SYSNAME" >/dev/null 2>&1 || true
	fi
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# no_hang: the last `run` returned in time (a hang is status 124 from the timeout).
no_hang() {
	[ "$status" -ne 124 ] || fail "hung: $*; output: $output"
}

# frozen_container HOW: a running container, paused (HOW=pause) or frozen from outside.
frozen_container() {
	make_bundle
	run_detached
	if [ "$1" = pause ]; then
		ctr pause "$(cid)"
	else
		freeze_outside "$(cid)"
	fi
}

# The read-only verbs and the ones that must refuse or wait on nothing.
verbs_on_frozen() {
	run ctr state "$(cid)"
	no_hang state
	assert_success
	[ "$(jq -r .status <<<"$output")" = paused ] || fail "status: $output"
	run ctr list --format json
	no_hang list
	assert_success
	[ "$(jq -r --arg id "$(cid)" '.[] | select(.id == $id) | .status' <<<"$output")" = paused ] ||
		fail "list: $output"
	run ctr ps "$(cid)"
	no_hang ps
	assert_success
	run ctr events --stats "$(cid)"
	no_hang events --stats
	assert_success
	run ctr update --pids-limit 100 "$(cid)"
	no_hang update
	assert_success
	# runc: exec into a paused container fails before anything runs (255)
	run ctr exec "$(cid)" true
	no_hang exec
	assert_status 255
	run ctr pause "$(cid)"
	no_hang pause again
	run ctr kill "$(cid)" TERM
	no_hang kill TERM
	assert_success
	run ctr kill "$(cid)" USR1
	no_hang kill USR1
	assert_success
	run ctr kill --all "$(cid)" TERM
	no_hang kill --all TERM
	assert_success
	run ctr delete "$(cid)"
	no_hang delete
	assert_failure
	run ctr resume "$(cid)"
	no_hang resume
	assert_success
	# the signals held while frozen arrive: the helper dies of the first TERM
	wait_for_state "$(cid)" stopped
	run ctr delete "$(cid)"
	no_hang delete
	assert_success
}

@test "every verb on a paused container returns" {
	frozen_container pause
	verbs_on_frozen
}

@test "every verb on a container frozen from outside returns" {
	frozen_container outside
	verbs_on_frozen
}

kill_frozen() {
	frozen_container "$1"
	run ctr kill "$(cid)" KILL
	no_hang kill KILL
	assert_success
	run ctr delete "$(cid)"
	no_hang delete after KILL
	if [ "$status" -eq 0 ]; then
		# cgroup v2's freezer lets SIGKILL through: it died at once, and delete removed it
		run ctr state "$(cid)"
		assert_failure
		return 0
	fi
	run ctr resume "$(cid)"
	no_hang resume after KILL
	wait_for_state "$(cid)" stopped
	run ctr delete "$(cid)"
	no_hang delete
	assert_success
}

@test "kill KILL of a paused container returns, and the container stops once resumed" {
	kill_frozen pause
}

@test "kill KILL of a container frozen from outside returns, and it stops once thawed" {
	kill_frozen outside
}

delete_force_frozen() {
	frozen_container "$1"
	local pid
	pid=$(state_field "$(cid)" pid)
	run ctr delete --force "$(cid)"
	no_hang delete --force
	assert_success
	process_gone "$pid" || fail "process $pid is still there"
	run ctr state "$(cid)"
	assert_failure
	[ -z "$(leaked_cgroups)" ] || fail "cgroups left: $(leaked_cgroups)"
}

@test "delete --force kills and removes a paused container" {
	delete_force_frozen pause
}

@test "delete --force kills and removes a container frozen from outside" {
	delete_force_frozen outside
}

@test "kill --all KILL of a frozen container returns and ends every process" {
	frozen_container outside
	local pid
	pid=$(state_field "$(cid)" pid)
	run ctr kill --all "$(cid)" KILL
	no_hang kill --all KILL
	assert_success
	run ctr delete --force "$(cid)"
	no_hang delete --force
	assert_success
	process_gone "$pid" || fail "process $pid is still there"
}

# A system container (tests/integration/system.bats) whose cgroup was frozen from outside:
# info, stop and destroy return.
@test "info, stop and destroy of a system container frozen from outside return" {
	system_setup || return 1
	local name=frz-${BATS_SUITE_TEST_NUMBER}-$$
	SYSNAME=$name
	run ctr create -t busybox "$name" --net none
	assert_success
	run ctr start "$name"
	assert_success
	freeze_outside "$name"
	run ctr info "$name"
	no_hang info
	assert_success
	# a frozen init cannot take its stop signal: killed after the timeout (exit 3)
	run ctr stop -t 2 "$name"
	no_hang stop
	assert_status 3
	assert_output_contains "everything in it was killed"
	run ctr destroy -f "$name"
	no_hang destroy
	assert_success
	[ -z "$(find /sys/fs/cgroup -type d -name "$name" 2>/dev/null)" ] || fail "cgroup left"
}

# monitor_freezer NAME: the v1 freezer.state (or v2 cgroup.freeze) of NAME's monitor.
monitor_freezer() {
	local d
	for d in $(find /sys/fs/cgroup -mindepth 2 -type d -path "*/ctr.monitor/$1" 2>/dev/null); do
		if [ -e "$d/cgroup.freeze" ] && [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			echo "$d/cgroup.freeze"
		elif [ -e "$d/freezer.state" ]; then
			echo "$d/freezer.state"
		fi
	done
}

# The monitor frozen too (a parent cgroup frozen from outside): a request it would never
# answer is refused at once, naming the monitor, instead of waiting on it.
@test "stop and console of a system container whose monitor is frozen say so and return" {
	system_setup || return 1
	local name=frz-${BATS_SUITE_TEST_NUMBER}-$$ f
	SYSNAME=$name
	run ctr create -t busybox "$name" --net none
	assert_success
	run ctr start "$name"
	assert_success
	f=$(monitor_freezer "$name")
	[ -n "$f" ] || skip "no freezer for the monitor's cgroup"
	case $f in
	*cgroup.freeze) echo 1 >"$f" && wait_until grep -qx "frozen 1" "${f%/*}/cgroup.events" ;;
	*) echo FROZEN >"$f" && wait_until grep -qx FROZEN "$f" ;;
	esac
	CTR_TIMEOUT=20 run ctr stop -t 2 "$name"
	case $f in *cgroup.freeze) echo 0 >"$f" ;; *) echo THAWED >"$f" ;; esac
	no_hang stop
	assert_failure
	assert_output_contains "the monitor of \`$name\` is frozen"
	# thawed, it serves again: a clean stop
	run ctr stop "$name"
	assert_success
	run ctr destroy -f "$name"
	assert_success
}
