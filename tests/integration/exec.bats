#!/usr/bin/env bats
# exec.bats: running extra processes inside a running container.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# A running container from $BUNDLE (default config) to exec into.
start_container() {
	make_bundle "$@"
	run_detached
	INIT_PID=$(state_field "$(cid)" pid)
}

@test "exec passes output and the exit code through" {
	start_container
	run ctr exec "$(cid)" sh -c 'echo out; echo err >&2; exit 5'
	assert_status 5
	assert_output_contains out err
	run ctr exec "$(cid)" "$TH" exit 0
	assert_success
	ctr delete --force "$(cid)"
}

@test "exec: a process killed by a signal exits 128+signal" {
	start_container
	run ctr exec "$(cid)" "$TH" signal-exit TERM
	assert_status 143
	ctr delete --force "$(cid)"
}

@test "exec runs in the container's namespaces and cgroup" {
	start_container
	run_logged ctr exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$(cid)" "$TH" sleep 3600
	assert_success
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	[ "$(cat "/proc/$pid/comm")" = ctr-testhelper ]
	for ns in net pid mnt uts ipc; do
		[ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink "/proc/$INIT_PID/ns/$ns")" ] ||
			fail "exec'd process not in the container's $ns namespace"
	done
	[ "$(cat "/proc/$pid/cgroup")" = "$(cat "/proc/$INIT_PID/cgroup")" ]
	[ "$(readlink "/proc/$pid/root")" = "$(readlink "/proc/$INIT_PID/root")" ]
	run ctr exec "$(cid)" "$TH" pid
	assert_success
	[ "$output" -gt 1 ] # a pid of the container's pid namespace, not the host's
	[ "$output" -lt "$pid" ] || [ "$output" -lt 100 ]
	ctr delete --force "$(cid)"
	wait_until process_gone "$pid"
}

@test "exec uses the config's process settings" {
	make_bundle
	update_config '.process.user = {uid: 1000, gid: 1000, additionalGids: [7]}
		| .process.env += ["FROM_CONFIG=1"] | .process.cwd = "/tmp"'
	run_detached
	run ctr exec "$(cid)" sh -c "$TH id; $TH cwd; $TH env"
	assert_success
	[ "${lines[0]}" = "uid=1000 gid=1000 groups=7" ] || fail "$output"
	[ "${lines[1]}" = /tmp ] || fail "$output"
	grep -qx FROM_CONFIG=1 <<<"$output" || fail "$output"
	ctr delete --force "$(cid)"
}

@test "exec -e, -u and --cwd" {
	start_container
	run ctr exec -e FOO=bar -e PATH=/bin "$(cid)" "$TH" env
	assert_success
	grep -qx FOO=bar <<<"$output" || fail "$output"
	grep -qx PATH=/bin <<<"$output" || fail "$output"
	run ctr exec -u 1000:1001 "$(cid)" "$TH" id
	assert_success
	[ "$output" = "uid=1000 gid=1001 groups=" ] || fail "$output"
	run ctr exec -u 1000 "$(cid)" "$TH" id
	assert_success
	[[ $output == uid=1000\ gid=0* ]] || fail "$output"
	run ctr exec --cwd /tmp "$(cid)" "$TH" cwd
	assert_success
	[ "$output" = /tmp ]
	ctr delete --force "$(cid)"
}

@test "exec --process FILE" {
	start_container
	jq -n --arg th "$TH" '{args: [$th, "id"], cwd: "/tmp", env: ["PATH=/bin"],
		user: {uid: 1000, gid: 1000, additionalGids: [5]}, terminal: false}' \
		>"$BATS_TEST_TMPDIR/process.json"
	run ctr exec --process "$BATS_TEST_TMPDIR/process.json" "$(cid)"
	assert_success
	[ "$output" = "uid=1000 gid=1000 groups=5" ] || fail "$output"
	jq '.args = [$th, "exit", "6"]' --arg th "$TH" "$BATS_TEST_TMPDIR/process.json" >"$BATS_TEST_TMPDIR/p2.json"
	run ctr exec -p "$BATS_TEST_TMPDIR/p2.json" "$(cid)"
	assert_status 6
	ctr delete --force "$(cid)"
}

@test "exec --process with a malformed file fails" {
	start_container
	echo '{"args": [' >"$BATS_TEST_TMPDIR/process.json"
	run ctr exec --process "$BATS_TEST_TMPDIR/process.json" "$(cid)"
	assert_failure
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete --force "$(cid)"
}

@test "exec -d --pid-file" {
	start_container
	run_logged ctr exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$(cid)" "$TH" write /tmp/done yes
	assert_success
	[ -s "$BATS_TEST_TMPDIR/pid" ]
	wait_for_file "$BUNDLE/rootfs/tmp/done"
	ctr delete --force "$(cid)"
}

@test "exec -t gives the process a terminal" {
	command -v script >/dev/null || skip "script (util-linux) not installed"
	start_container
	run script -qec "$CTR --root $STATE_ROOT exec -t $(cid) $TH tty" /dev/null
	assert_success
	assert_output_contains /dev/pts/
	run ctr exec "$(cid)" "$TH" tty
	assert_success
	assert_output_contains "not a tty"
	ctr delete --force "$(cid)"
}

@test "exec of a missing program fails" {
	start_container
	run ctr exec "$(cid)" no-such-program
	assert_failure
	assert_ctr_output_contains no-such-program
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete --force "$(cid)"
}

@test "exec into a stopped container is refused" {
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr exec "$(cid)" "$TH" exit 0
	assert_failure
	ctr delete "$(cid)"
}

@test "exec processes die with the container" {
	start_container
	run_logged ctr exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$(cid)" "$TH" sleep 3600
	assert_success
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	ctr kill "$(cid)" KILL
	wait_for_state "$(cid)" stopped
	wait_until process_gone "$pid"
	ctr delete "$(cid)"
}
