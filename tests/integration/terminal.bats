#!/usr/bin/env bats
# terminal.bats: process.terminal, the container's own pty and --console-socket.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

requires_script() {
	command -v script >/dev/null || skip "script (util-linux) not installed"
}

# run_in_pty COMMAND: runs COMMAND (a shell string) with a pty as its stdio.
run_in_pty() {
	run script -qec "$1" /dev/null
	output=${output//$'\r'/}
	output=${output//^@/} # the echo of a NUL some runtimes write to the pty
	mapfile -t lines <<<"$output"
}

@test "run with a terminal in a pty" {
	requires_script
	make_bundle sh -c "$TH tty; $TH fds"
	update_config '.process.terminal = true'
	run_in_pty "$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid)"
	assert_success
	[ "${lines[0]}" = /dev/pts/0 ] || fail "$output"
	# stdio is the container's own pty, nothing of the host's
	assert_output_contains "0 /dev/pts/0" "1 /dev/pts/0" "2 /dev/pts/0"
	[ "$(grep -c '^[0-9]' <<<"$output")" -eq 3 ] || fail "$output"
}

@test "the terminal process is a session leader with a controlling tty" {
	requires_script
	make_bundle "$TH" read /proc/self/stat
	update_config '.process.terminal = true'
	run_in_pty "$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid)"
	assert_success
	stat=${output##*) }
	read -r _state _ppid _pgrp session tty_nr _ <<<"$stat"
	[ "$session" = 1 ] || fail "session $session: $output"
	[ "$tty_nr" != 0 ] || fail "no controlling tty: $output"
}

@test "the exit code passes through a terminal run" {
	requires_script
	make_bundle sh -c 'exit 4'
	update_config '.process.terminal = true'
	run_in_pty "$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid)"
	assert_status 4
}

@test "input reaches a terminal container" {
	requires_script
	make_bundle sh -c 'read line; echo "got:$line"'
	update_config '.process.terminal = true'
	run bash -c "{ sleep 0.5; echo hello-input; sleep 1; } | script -qec '$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid)' /dev/null"
	assert_success
	assert_output_contains got:hello-input
}

@test "create --console-socket hands the pty master to the socket" {
	make_bundle sh -c "$TH tty; echo through-the-console"
	update_config '.process.terminal = true'
	sock=$BATS_TEST_TMPDIR/console.sock
	bg "$HOST_TH" recvtty "$sock" >"$BATS_TEST_TMPDIR/console.out" 2>&1
	wait_until test -S "$sock"
	create_container --console-socket "$sock"
	run ctr start "$(cid)"
	assert_success
	wait_for_state "$(cid)" stopped
	wait_until grep -q through-the-console "$BATS_TEST_TMPDIR/console.out"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/console.out")
	[ "${output%%$'\n'*}" = /dev/pts/0 ] || fail "$output"
	ctr delete "$(cid)"
}

@test "run -d --console-socket" {
	make_bundle "$TH" tty
	update_config '.process.terminal = true'
	sock=$BATS_TEST_TMPDIR/console.sock
	bg "$HOST_TH" recvtty "$sock" >"$BATS_TEST_TMPDIR/console.out" 2>&1
	wait_until test -S "$sock"
	run_detached --console-socket "$sock"
	wait_for_state "$(cid)" stopped
	wait_until grep -q /dev/pts/0 "$BATS_TEST_TMPDIR/console.out"
	ctr delete "$(cid)"
}

@test "create with a terminal but no console socket is refused" {
	make_bundle
	update_config '.process.terminal = true'
	run_logged ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	check_no_leaks
}

@test "a console socket that nobody listens on fails create" {
	make_bundle
	update_config '.process.terminal = true'
	run_logged ctr create --console-socket "$BATS_TEST_TMPDIR/nobody.sock" --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains nobody.sock
	check_no_leaks
}
