#!/usr/bin/env bats
# system_checkpoint.bats: `ctr checkpoint NAME` and `ctr restore NAME` of system containers
# through criu(8): the flag and error cases anywhere (a stand-in criu that fails as criu
# does), the real dump and restore where `criu check` passes (the cgroup v2 guest: a counter
# loop's memory, its pid, the address, MAC and limits come back under a new monitor).

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=ck-${BATS_SUITE_TEST_NUMBER}-$$
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	ctr network rm ctrtck >/dev/null 2>&1 || true
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

state_of() {
	ctr ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# no_terminal: init without a console pty (leads its own session: no shell job for criu).
no_terminal() {
	local cfg=$CTR_STORE/$NAME/config.json
	jq '.process.terminal = false' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
}

# A criu that fails its dump as criu does: an error line in the log of its --work-dir.
fake_criu() {
	FAKE=$BATS_TEST_TMPDIR/criu
	cat >"$FAKE" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --work-dir ] && dir=$2; shift; done
echo "(00.001) Error (criu/cr-dump.c:1): stand-in criu: cannot dump" >"$dir/dump.log"
exit 1
SH
	chmod +x "$FAKE"
}

@test "system checkpoint and restore: errors name the container, the directory or the flag" {
	ctr create -t busybox "$NAME" --net none >/dev/null
	run ctr checkpoint "$NAME"
	assert_failure
	assert_output_contains "container \`$NAME\` is not running"
	[ ! -e "$CTR_STORE/$NAME/checkpoint" ] || fail "a checkpoint directory was left"
	[ ! -e "$CTR_STORE/$NAME/checkpoint.new" ] || fail "a staging directory was left"
	run ctr restore "$NAME"
	assert_failure
	assert_output_contains "container \`$NAME\` has no checkpoint"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run ctr restore "$NAME" "$BATS_TEST_TMPDIR/empty"
	assert_failure
	assert_output_contains "is not a checkpoint of a system container"
	run ctr checkpoint --leave-running "$NAME"
	assert_usage_error
	assert_output_contains "--leave-running: not for a system container"
	run ctr restore --bundle /tmp "$NAME"
	assert_usage_error
	assert_output_contains "--bundle: not for a system container"
	run ctr checkpoint --stop nosuch-$$
	assert_usage_error
	assert_output_contains "--stop: only for a named system container"
	run ctr checkpoint "$NAME" a b
	assert_usage_error
	run ctr checkpoint nosuch-$$
	assert_failure
	[ "$(state_of "$NAME")" = stopped ]
}

@test "system checkpoint: criu's error with its log kept; the container runs on, no image left" {
	fake_criu
	ctr create -t busybox "$NAME" --net none >/dev/null
	ctr start "$NAME"
	# busybox's console shell holds /dev/tty, which criu 3.17 cannot dump: said before criu runs
	wait_until sh -c "'$CTR' --root '$STATE_ROOT' console --log '$NAME' | grep -q '# '"
	run ctr --criu "$FAKE" checkpoint "$NAME"
	assert_failure
	assert_output_contains "container \`$NAME\`: process "
	assert_output_contains " (sh) has the console open as /dev/tty"
	[ ! -e "$CTR_STORE/$NAME/criu/dump.log" ] || fail "criu ran"
	[ "$(state_of "$NAME")" = running ]
	ctr stop "$NAME" >/dev/null
	no_terminal
	ctr start "$NAME"
	# unprivileged (the default): criu runs, unless its rootfs is an idmapped mount (kernels
	# whose filesystem has them), which criu 3.17 cannot restore: said before criu runs
	run ctr --criu "$FAKE" checkpoint "$NAME"
	assert_failure
	if ctr config "$NAME" get idmap | grep -q shifted; then
		assert_output_contains "stand-in criu: cannot dump"
		rm "$CTR_STORE/$NAME/criu/dump.log"
	else
		assert_output_contains "container \`$NAME\`: its root filesystem is an idmapped mount"
		[ ! -e "$CTR_STORE/$NAME/criu/dump.log" ] || fail "criu ran"
	fi
	[ ! -e "$CTR_STORE/$NAME/checkpoint.new" ] || fail "the staging directory was left"
	[ "$(state_of "$NAME")" = running ]
	ctr stop "$NAME" >/dev/null
	ctr config "$NAME" set privileged true >/dev/null
	ctr start "$NAME"
	run ctr --criu "$FAKE" checkpoint --stop "$NAME"
	assert_failure
	assert_output_contains "criu dump failed: Error (criu/cr-dump.c:1): stand-in criu: cannot dump (log: $CTR_STORE/$NAME/criu/dump.log)"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail "more than one line: $output"
	[ -f "$CTR_STORE/$NAME/criu/dump.log" ] || fail "the log is gone"
	[ ! -e "$CTR_STORE/$NAME/checkpoint.new" ] || fail "the staging directory was left"
	[ "$(state_of "$NAME")" = running ]
	run ctr --criu "$FAKE" checkpoint "$NAME" "$BATS_TEST_TMPDIR/img"
	assert_failure
	[ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "the named image directory was left"
	run ctr --criu "$BATS_TEST_TMPDIR/no-criu" checkpoint "$NAME"
	assert_failure
	assert_output_contains "not found (install the Debian package criu)"
	mkdir "$BATS_TEST_TMPDIR/full" && touch "$BATS_TEST_TMPDIR/full/x"
	run ctr checkpoint "$NAME" "$BATS_TEST_TMPDIR/full"
	assert_failure
	assert_output_contains "checkpoint directory \`$BATS_TEST_TMPDIR/full\` is not empty"
	[ "$(state_of "$NAME")" = running ]
	run ctr restore "$NAME"
	assert_failure
	assert_output_contains "container \`$NAME\` is already running: \`ctr checkpoint --stop $NAME\` first"
	ctr stop "$NAME" >/dev/null
}

# in_ct CMD...: runs CMD in the container.
in_ct() {
	ctr attach "$NAME" -- "$@" </dev/null
}

count() {
	in_ct cat /dev/shm/count 2>/dev/null || echo 0
}

# wait_count_above N: the loop's counter passes N (a minute at most under emulation).
wait_count_above() {
	local tries=300 c
	until c=$(count) && [ "$c" -gt "$1" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the counter stays at $c, not above $1" || return 1
		sleep 0.2
	done
}

# criu dumps and restores in the cgroup v2 guest (its check fails on the host): these run there
# bats test_tags=v2
@test "system checkpoint and restore: memory, pid, address, MAC and limits come back under a new monitor that stops it" {
	requires_criu
	ctr network create ctrtck --subnet 10.211.77.0/24 >/dev/null
	# --privileged: the network namespace is ctr's, made before criu runs (the unprivileged
	# test below has criu make it)
	ctr create -t busybox "$NAME" --net ctrtck --privileged >/dev/null
	no_terminal
	# a counter whose value lives in the shell's memory, written out to a tmpfs
	echo "::once:/bin/sh -c 'echo \$\$ >/dev/shm/pid; i=0; while :; do i=\$((i+1)); echo \$i >/dev/shm/count; sleep 0.2; done'" \
		>>"$CTR_STORE/$NAME/rootfs/etc/inittab"
	ctr start "$NAME"
	ctr update "$NAME" --pids-limit 77 >/dev/null
	wait_count_above 2
	local pid mac addr mon c
	pid=$(in_ct cat /dev/shm/pid)
	mac=$(in_ct cat /sys/class/net/eth0/address)
	addr=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .addresses[0]')
	mon=$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")

	# kept running: the default image in the store
	ctr checkpoint "$NAME"
	[ -f "$CTR_STORE/$NAME/checkpoint/system.json" ] || fail "no image in the store"
	[ "$(state_of "$NAME")" = running ]
	c=$(count)
	wait_count_above "$c"

	# stopped into a named directory, then back from it
	ctr checkpoint --stop "$NAME" "$BATS_TEST_TMPDIR/img"
	[ "$(state_of "$NAME")" = stopped ]
	[ -f "$BATS_TEST_TMPDIR/img/system.json" ] || fail "no image in the named directory"
	ctr restore "$NAME" "$BATS_TEST_TMPDIR/img"
	[ "$(state_of "$NAME")" = running ]
	[ "$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")" != "$mon" ] || fail "the same monitor"
	c=$(count)
	[ "$c" -gt 2 ] || fail "the counter started again: $c"
	wait_count_above "$c"
	[ "$(in_ct cat /dev/shm/pid)" = "$pid" ]
	in_ct kill -0 "$pid" || fail "process $pid is gone"
	[ "$(in_ct cat /sys/class/net/eth0/address)" = "$mac" ]
	[ "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .addresses[0]')" = "$addr" ]
	# attached to its bridge again: the gateway answers
	in_ct ping -c 1 -W 10 10.211.77.1 >/dev/null || fail "no answer from the gateway"
	[ "$(in_ct cat /sys/fs/cgroup/pids.max)" = 77 ] || fail "pids.max is $(in_ct cat /sys/fs/cgroup/pids.max)"
	run ctr stop "$NAME"
	assert_success
	[ "$(state_of "$NAME")" = stopped ]
}

# uid_map_of NAME: the uid map of the container's init, seen from the host, one line.
uid_map_of() {
	local pid
	pid=$(jq -r .pid "$STATE_ROOT/$1/monitor.json")
	awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map"
}

# bats test_tags=v2
@test "system checkpoint and restore of an unprivileged container: its user namespace, memory, address and MAC come back" {
	requires_criu
	ctr network create ctrtck --subnet 10.211.77.0/24 >/dev/null
	# the default: a user namespace of its own, its 65536 ids from the store's ranges
	ctr create -t busybox "$NAME" --net ctrtck >/dev/null
	no_terminal
	echo "::once:/bin/sh -c 'echo \$\$ >/dev/shm/pid; i=0; while :; do i=\$((i+1)); echo \$i >/dev/shm/count; sleep 0.2; done'" \
		>>"$CTR_STORE/$NAME/rootfs/etc/inittab"
	ctr start "$NAME"
	wait_count_above 2
	local pid mac addr map range c
	range=$(ctr config "$NAME" get idmap)
	range=${range%%:*}
	map=$(uid_map_of "$NAME")
	[ "$map" = "0 $range 65536" ] || fail "uid_map before: $map (range $range)"
	pid=$(in_ct cat /dev/shm/pid)
	mac=$(in_ct cat /sys/class/net/eth0/address)
	addr=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .addresses[0]')

	ctr checkpoint --stop "$NAME"
	[ "$(state_of "$NAME")" = stopped ]
	ctr restore "$NAME"
	[ "$(state_of "$NAME")" = running ]
	[ "$(uid_map_of "$NAME")" = "$map" ] || fail "uid_map after: $(uid_map_of "$NAME"), before: $map"
	c=$(count)
	[ "$c" -gt 2 ] || fail "the counter started again: $c"
	wait_count_above "$c"
	[ "$(in_ct cat /dev/shm/pid)" = "$pid" ]
	in_ct kill -0 "$pid" || fail "process $pid is gone"
	# root inside is still not root outside: its files are the range's
	[ "$(in_ct id -u)" = 0 ]
	[ "$(stat -c %u "/proc/$(jq -r .pid "$STATE_ROOT/$NAME/monitor.json")")" = "$range" ] || fail "init is not owned by $range"
	[ "$(in_ct cat /sys/class/net/eth0/address)" = "$mac" ]
	[ "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .addresses[0]')" = "$addr" ]
	in_ct ping -c 1 -W 10 10.211.77.1 >/dev/null || fail "no answer from the gateway"
	# and a second round, from the running container's default image
	ctr checkpoint "$NAME"
	[ "$(state_of "$NAME")" = running ]
	run ctr stop "$NAME"
	assert_success
	[ "$(state_of "$NAME")" = stopped ]
}

# console_client OUT: a `ctr console` of $NAME writing to OUT, its input the fifo on fd 7.
console_client() {
	local fifo=$BATS_TEST_TMPDIR/console.in.$RANDOM
	mkfifo "$fifo"
	exec 7<>"$fifo"
	ctr console "$NAME" <"$fifo" >"$1" 2>&1 3>&- &
	CONSOLE_PID=$!
}

# console_say FILE: the console's shell writes its pid into /dev/shm/FILE.
console_say() {
	local tries=150
	until in_ct test -s "/dev/shm/$1"; do
		# said again until heard: the client may not be attached yet
		printf 'echo $$ >/dev/shm/%s\n' "$1" >&7
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the console's shell did not answer" || return 1
		sleep 0.4
	done
	in_ct cat "/dev/shm/$1"
}

# bats test_tags=v2
@test "system checkpoint and restore of a container with its console: the restored processes write to the new monitor's pty and read from it" {
	requires_criu
	ctr create -t busybox "$NAME" --net none >/dev/null
	[ "$(jq -r .process.terminal "$CTR_STORE/$NAME/config.json")" = true ]
	# (a shell on it is refused: the stand-in criu test above) the console activated on demand (askfirst), a counter writing to it
	sed -i 's|^console::respawn:-/bin/sh|console::askfirst:-/bin/sh|' "$CTR_STORE/$NAME/rootfs/etc/inittab"
	echo "::once:/bin/sh -c 'i=0; while :; do i=\$((i+1)); echo \$i >/dev/shm/count; sleep 0.2; done'" \
		>>"$CTR_STORE/$NAME/rootfs/etc/inittab"
	ctr start "$NAME"
	wait_count_above 2
	local pid c shell
	pid=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .pid')
	# init leads its own session (busybox init's setsid), as criu needs
	[ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f4)" = "$pid" ] || fail "init leads no session"

	ctr checkpoint --stop "$NAME"
	[ "$(state_of "$NAME")" = stopped ]
	ctr restore "$NAME"
	[ "$(state_of "$NAME")" = running ]
	c=$(count)
	[ "$c" -gt 2 ] || fail "the counter started again: $c"
	wait_count_above "$c"
	# the new monitor's pty is the console: what the container writes there reaches its
	# clients, and Enter on it activates the shell that busybox init's askfirst waits with
	console_client "$BATS_TEST_TMPDIR/console.out"
	# (written again until seen: a console client sees what comes after it attached)
	wait_until eval "ctr attach '$NAME' -- sh -c 'echo restored-\$((6*7)) >/dev/console' </dev/null; grep -q restored-42 '$BATS_TEST_TMPDIR/console.out'"
	printf '\n' >&7
	shell=$(console_say said) || return 1
	[ -n "$shell" ] || fail "no shell on the console"
	run ctr stop "$NAME"
	assert_success
	[ "$(state_of "$NAME")" = stopped ]
	wait "$CONSOLE_PID" || true
	exec 7>&-
}
