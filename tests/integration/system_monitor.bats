#!/usr/bin/env bats
# system_monitor.bats: a system container's monitor lives in a cgroup of its own
# (<root>/ctr.monitor/NAME), not in its caller's session: the end of that session leaves
# the container running and manageable; the monitor's cgroup goes with stop and destroy.
# Its console is a machine's (nobody's controlling terminal until the shell on it takes
# it), and `stop` tells a clean halt from a kill. The guest's reboot boots it again, its
# poweroff is a clean stop, a reboot loop ends. Also run in the cgroup v2 guest.

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
	ctr network rm ctrtmon >/dev/null 2>&1 || true
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

# bats test_tags=v2
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
	# stdin from /dev/null: a terminal on stdin (the v2 guest's) is relayed to the command
	run ctr attach "$NAME" -- hostname </dev/null
	assert_success
	[ "$output" = "$NAME" ] || fail "attach: $output"
	# the monitor is in its own cgroup, in every hierarchy
	[ -n "$(monitor_cgroups)" ]
	run ctr stop -t 10 "$NAME"
	assert_success
	[ -z "$(monitor_cgroups)" ] || fail "monitor cgroups left after stop: $(monitor_cgroups)"
}

# bats test_tags=v2
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

# As on a booted machine (and under LXC), the console is nobody's controlling terminal until
# the getty or shell on it takes it: init starts as no session leader (sysvinit opens
# /dev/console without O_NOCTTY, and a session leader would take it there), nor in its
# monitor's process group (kill(0) in the container must not reach the monitor), nor as the
# leader of its own group, so that its own setsid() succeeds: a booted init leads a session
# inside its pid namespace, which criu needs to checkpoint it.
@test "the console belongs to the shell on it, not to init; init shares no process group with its monitor and its setsid() makes it a session leader" {
	ctr create -t busybox "$NAME" --net none
	ctr start "$NAME"
	wait_until sh -c "'$CTR' --root '$STATE_ROOT' console --log '$NAME' | grep -q BusyBox"
	pid=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .pid')
	mpid=$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")
	# /proc/PID/stat after the command: state ppid pgrp session tty_nr
	read -r -a st <<<"$(sed 's/.*) //' "/proc/$pid/stat")"
	read -r -a mst <<<"$(sed 's/.*) //' "/proc/$mpid/stat")"
	# busybox init called setsid(): its own session and group
	[ "${st[3]}" = "$pid" ] || fail "init does not lead its own session: ${st[3]}"
	[ "${st[2]}" = "$pid" ] || fail "init is in process group ${st[2]}, not its own"
	[ "${st[4]}" = 0 ] || fail "init's controlling terminal: ${st[4]}"
	# the console's shell holds it
	wait_until sh -c "'$CTR' --root '$STATE_ROOT' attach '$NAME' -- sh -c 'for s in /proc/[0-9]*/stat; do set -- \$(sed \"s/.*) //\" \$s); [ \$5 != 0 ] && exit 0; done; exit 1'"
	ctr stop "$NAME"
	# an init that never calls setsid() shows where it started: in the monitor's session, in
	# a process group neither the monitor's nor led by init
	jq '.process.args = ["/bin/sh", "-c", "exec sleep 1000"]' "$CTR_STORE/$NAME/config.json" >"$BATS_TEST_TMPDIR/c"
	cp "$BATS_TEST_TMPDIR/c" "$CTR_STORE/$NAME/config.json"
	ctr start "$NAME"
	pid=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .pid')
	mpid=$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")
	read -r -a st <<<"$(sed 's/.*) //' "/proc/$pid/stat")"
	read -r -a mst <<<"$(sed 's/.*) //' "/proc/$mpid/stat")"
	[ "${st[3]}" = "${mst[3]}" ] || fail "init is in session ${st[3]}, not its monitor's ${mst[3]}"
	[ "${st[3]}" != "$pid" ] || fail "init leads a session before its own setsid()"
	[ "${st[2]}" != "$pid" ] || fail "init leads its process group: its setsid() would fail"
	[ "${st[2]}" != "${mst[2]}" ] || fail "init shares the monitor's process group ${mst[2]}"
	[ "${st[4]}" = 0 ] || fail "init's controlling terminal: ${st[4]}"
	ctr stop -t 1 "$NAME" >/dev/null || true
}

# start -F used to connect to the monitor after the spawn: a program that ended first had
# its output and status lost ("the monitor went away", or nothing and 0), 1 in 15 runs on a
# loaded host. The delay on every connect makes that order certain; the console is now
# the monitor's client before init runs.
@test "start -F of a program that ends at once gets its output and its status" {
	command -v strace >/dev/null || skip "strace not installed (apt-get install strace)"
	ctr create -t app "$NAME" --net none -- /bin/sh -c 'echo said-$((6 * 7)); exit 5'
	run strace -f -qq -o /dev/null -e trace=connect -e inject=connect:delay_enter=500000 \
		"$CTR" --root "$STATE_ROOT" start -F "$NAME"
	[ "$status" -eq 5 ] || fail "status $status: $output"
	[[ $output == *said-42* ]] || fail "output: $output"
	[ "$(ctr info --format json "$NAME" | jq -r .last_exit)" = 5 ]
}

# bats test_tags=v2
@test "stop kills an init that ignores its stop signal after the timeout" {
	ctr create -t app "$NAME" --net none -- /bin/sh -c 'trap "" TERM; while :; do sleep 1; done'
	ctr start "$NAME"
	run --separate-stderr ctr stop -t 1 --format json "$NAME"
	# stopped, but not cleanly: a status of its own, a warning, and clean: false
	assert_status 3
	[[ $stderr == *warning*"$NAME"*"within 1 s"*SIGKILL* ]] || fail "no warning: $stderr"
	[ "$(jq -r .clean <<<"$output")" = false ] || fail "json: $output"
	[ "$(jq -r .exit_status <<<"$output")" = 137 ] || fail "json: $output"
	[ "$(state_of "$NAME")" = stopped ]
	# it took the SIGKILL
	run ctr info --format json "$NAME"
	[ "$(jq -r .last_exit <<<"$output")" = 137 ] || fail "not killed: $output"
}

@test "a clean stop exits 0, silent, and says clean: true in json" {
	ctr create -t busybox "$NAME" --net none
	ctr start "$NAME"
	run --separate-stderr ctr stop -t 30 --format json "$NAME"
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	[ "$(jq -r .clean <<<"$output")" = true ] || fail "json: $output"
	# with the host's last monitor, ctr's shared parent goes too (unless another runs)
	if [ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/ctr.monitor/*" ! -name .exit 2>/dev/null)" ]; then
		[ -z "$(find /sys/fs/cgroup -maxdepth 2 -type d -name ctr.monitor)" ] ||
			fail "ctr.monitor left: $(find /sys/fs/cgroup -maxdepth 3 -type d -path '*ctr.monitor*')"
	fi
}

# The kernel drops a signal with the default action sent to a namespace's init: a stop
# right after start must wait for init to take its stop signal, not lose it and kill.
@test "a stop right after start reaches an init that takes its stop signal late" {
	ctr create -t busybox "$NAME" --net none
	rm "$CTR_STORE/$NAME/rootfs/sbin/init"
	printf '%s\n' '#!/bin/sh' 'sleep 1' "trap 'exit 0' PWR" 'while :; do sleep 0.1; done' \
		>"$CTR_STORE/$NAME/rootfs/sbin/init"
	chmod 0755 "$CTR_STORE/$NAME/rootfs/sbin/init"
	ctr start "$NAME"
	run --separate-stderr ctr stop -t 20 --format json "$NAME"
	assert_success
	[ "$(jq -r .clean <<<"$output")" = true ] || fail "json: $output; stderr: $stderr"
	run ctr info --format json "$NAME"
	[ "$(jq -r .last_exit <<<"$output")" = 0 ] || fail "init did not exit by itself: $output"
}

state_is() {
	[ "$(state_of "$NAME")" = "$1" ]
}

info_field() {
	ctr info --format json "$NAME" | jq -r ".$1"
}

# In its own pid namespace, init's reboot(2) ends it with SIGHUP (restart) or SIGINT
# (power-off, halt): the monitor boots it again, or records a clean stop.
# bats test_tags=v2
@test "a guest's reboot boots it again with a new init; its poweroff stops it with exit 0" {
	local pid addr fifo=$BATS_TEST_TMPDIR/console.in out=$BATS_TEST_TMPDIR/console.out cpid
	ctr network create ctrtmon --subnet 10.211.9.0/24
	ctr create -t busybox "$NAME" --net ctrtmon
	ctr start "$NAME"
	pid=$(info_field pid)
	addr=$(info_field 'addresses[0]')
	# a console client of the first run
	mkfifo "$fifo"
	exec 7<>"$fifo"
	ctr console "$NAME" <"$fifo" >"$out" 2>&1 3>&- &
	cpid=$!
	wait_until sh -c "'$CTR' --root '$STATE_ROOT' attach '$NAME' -- sh -c 'echo first-boot-\$((6*7)) >/dev/console'; grep -q first-boot-42 '$out'"
	# reboot -f: reboot(2) at once
	ctr attach "$NAME" -- reboot -f
	wait_until rebooted_from "$NAME" "$pid"
	[ "$(info_field restarts)" = 1 ]
	[ "$(state_of "$NAME")" = running ]
	# the network again, on the same address
	[ "$(info_field 'addresses[0]')" = "$addr" ] || fail "address: $addr, now $(info_field 'addresses[0]')"
	run ctr attach "$NAME" -- ip -4 addr show eth0
	assert_output_contains "${addr%/*}"
	# the console client of the first run sees the second
	ctr attach "$NAME" -- sh -c 'echo second-boot-$((6*7)) >/dev/console'
	wait_until grep -q second-boot-42 "$out"
	# plain reboot: busybox init shuts down and then calls reboot(2)
	pid=$(info_field pid)
	ctr attach "$NAME" -- reboot
	wait_until rebooted_from "$NAME" "$pid"
	[ "$(info_field restarts)" = 2 ]
	grep -q "init rebooted: starting it again" "$CTR_STORE/$NAME/monitor.log"
	# poweroff -f: a clean stop, which ends the console client too
	ctr attach "$NAME" -- poweroff -f
	wait_until state_is stopped
	[ "$(info_field last_exit)" = 0 ] || fail "$(ctr info --format json "$NAME")"
	wait "$cpid" || true
	exec 7>&-
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left: $(ls -A "$STATE_ROOT")"
	[ -z "$(monitor_cgroups)" ] || fail "monitor cgroup left: $(monitor_cgroups)"
	# halt, through init: a clean stop as well
	ctr start "$NAME"
	ctr attach "$NAME" -- halt
	wait_until state_is stopped
	[ "$(info_field last_exit)" = 0 ] || fail "$(ctr info --format json "$NAME")"
	ctr destroy "$NAME"
	[ -z "$(monitor_cgroups)" ] || fail "monitor cgroup left: $(monitor_cgroups)"
}

@test "a guest that reboots in a loop is left stopped, with a message in its log" {
	ctr create -t busybox "$NAME" --net none
	rm "$CTR_STORE/$NAME/rootfs/sbin/init"
	printf '%s\n' '#!/bin/sh' 'sleep 0.2' 'reboot -f' 'sleep 10' >"$CTR_STORE/$NAME/rootfs/sbin/init"
	chmod 0755 "$CTR_STORE/$NAME/rootfs/sbin/init"
	run ctr start "$NAME"
	wait_until state_is stopped
	run cat "$CTR_STORE/$NAME/monitor.log"
	assert_output_contains "rebooted more than 5 times within 60 s: left stopped"
	[ "$(grep -c "init rebooted: starting it again" "$CTR_STORE/$NAME/monitor.log")" = 5 ]
	# it ended on its reboot: 128 + SIGHUP, not a clean stop
	[ "$(info_field last_exit)" = 129 ] || fail "$(ctr info --format json "$NAME")"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left: $(ls -A "$STATE_ROOT")"
	ctr destroy "$NAME"
}
