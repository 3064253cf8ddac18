#!/usr/bin/env bats
# security_terminal.bats: a container never gets the caller's terminal to type into
# (CVE-2016-9962 and the TIOCSTI injection class, security rule 7): with process.terminal
# it has its own pty in a new session; without one it cannot push input into the
# caller's tty either.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

requires_script() {
	command -v script >/dev/null || skip "script (util-linux) not installed"
}

# in_pty SHELL_STRING: runs it with a fresh pty as its stdio (the caller's terminal).
# script's own stdin stays open without data: at end of file script would pass an EOF to
# the pty, which a `read` there could take instead of injected input.
in_pty() {
	local idle
	exec 8< <(exec sleep 60)
	idle=$!
	run script -qec "$1" /dev/null <&8
	exec 8<&-
	kill "$idle" 2>/dev/null || true
	output=${output//$'\r'/}
	output=${output//^@/} # the echo of a NUL some runtimes write to the pty
	mapfile -t lines <<<"$output"
}

# What the caller's shell reads from its terminal right after COMMAND: an injected line
# would be there (and a real shell would run it).
after_reading() {
	echo "$1; read -t 1 l; echo \"caller-read:\$l\""
}

# The injected text: a command that would leave a file on the host if a shell ran it.
payload() {
	PWNED=$BATS_TEST_TMPDIR/pwned
	PAYLOAD="touch $PWNED"$'\n'
}

# The detection works on this machine: injecting from the caller's own session reaches
# its shell. Without it (dev.tty.legacy_tiocsti=0, or no TIOCSTI at all) no test here
# could fail, so skip.
requires_tiocsti() {
	requires_script
	build_template
	payload
	if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 0 ]; then
		skip "TIOCSTI is disabled globally (dev.tty.legacy_tiocsti=0)"
	fi
	in_pty "$(after_reading "$(printf '%q ' "$HOST_TH" tiocsti "control$PAYLOAD")")"
	[[ $output == *"caller-read:control"* ]] || skip "TIOCSTI does not reach the caller here: $output"
}

ctr_cmd() {
	printf '%q ' "$CTR" --root "$STATE_ROOT" "$@"
}

@test "a terminal container injecting with TIOCSTI never reaches the caller's terminal" {
	requires_tiocsti
	make_bundle "$TH" tiocsti "$PAYLOAD"
	update_config '.process.terminal = true'
	in_pty "$(after_reading "$(ctr_cmd run --bundle "$BUNDLE" "$(cid)")")"
	grep -qx 'caller-read:' <<<"$output" || fail "the caller read injected input: $output"
	[ ! -e "$PWNED" ] || fail "injected command ran"
}

@test "a container without a terminal cannot inject into the caller's tty it inherits" {
	requires_tiocsti
	make_bundle "$TH" tiocsti "$PAYLOAD"
	update_config '.process.terminal = false'
	in_pty "$(after_reading "$(ctr_cmd run --bundle "$BUNDLE" "$(cid)")")"
	grep -qx 'caller-read:' <<<"$output" || fail "the caller read injected input: $output"
	assert_output_not_contains injected
}

@test "exec -t cannot inject into the caller's terminal" {
	requires_tiocsti
	make_bundle
	run_detached
	in_pty "$(after_reading "$(ctr_cmd exec -t "$(cid)" "$TH" tiocsti "$PAYLOAD")")"
	grep -qx 'caller-read:' <<<"$output" || fail "exec -t: the caller read injected input: $output"
	[ ! -e "$PWNED" ] || fail "injected command ran"
	ctr delete --force "$(cid)"
}

@test "exec without a terminal cannot inject into the caller's terminal" {
	requires_tiocsti
	make_bundle
	run_detached
	in_pty "$(after_reading "$(ctr_cmd exec "$(cid)" "$TH" tiocsti "$PAYLOAD")")"
	grep -qx 'caller-read:' <<<"$output" || fail "exec: the caller read injected input: $output"
	assert_output_not_contains injected
	ctr delete --force "$(cid)"
}

@test "a terminal container gets its own pty, not the caller's" {
	requires_script
	make_bundle "$TH" session 0
	update_config '.process.terminal = true'
	in_pty "$HOST_TH session 0; $(ctr_cmd run --bundle "$BUNDLE" "$(cid)")"
	assert_success
	local caller container
	caller=$(grep -o 'fd=[^ ]*' <<<"${lines[0]}")
	container=$(grep -o 'fd=[^ ]*' <<<"${lines[1]}")
	[ -n "$caller" ] && [ -n "$container" ] || fail "$output"
	[ "$caller" != "$container" ] || fail "the container has the caller's terminal: $output"
	[[ ${lines[1]} == *" rdev=136:"* ]] || fail "container stdin is not a pty: $output"
}

@test "a terminal container runs in a new session" {
	requires_script
	make_bundle "$TH" session 0
	update_config '.process.terminal = true'
	in_pty "$(ctr_cmd run --bundle "$BUNDLE" "$(cid)")"
	assert_success
	[[ ${lines[0]} =~ ^pid=([0-9]+)\ sid=([0-9]+) ]] || fail "$output"
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "not a session leader: $output"
}

@test "exec -t gets a new pty and session too" {
	requires_script
	make_bundle
	run_detached
	in_pty "$HOST_TH session 0; $(ctr_cmd exec -t "$(cid)" "$TH" session 0)"
	assert_success
	local caller container
	caller=$(grep -o 'fd=[^ ]*' <<<"${lines[0]}")
	container=$(grep -o 'fd=[^ ]*' <<<"${lines[1]}")
	[ "$caller" != "$container" ] || fail "exec -t has the caller's terminal: $output"
	[[ ${lines[1]} =~ ^pid=([0-9]+)\ sid=([0-9]+) ]] || fail "$output"
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "not a session leader: $output"
	ctr delete --force "$(cid)"
}

@test "a container without a terminal is still not in the caller's session" {
	requires_script
	make_bundle "$TH" session 0
	update_config '.process.terminal = false'
	in_pty "$HOST_TH session 0; $(ctr_cmd run --bundle "$BUNDLE" "$(cid)")"
	assert_success
	[[ ${lines[1]} =~ ^pid=([0-9]+)\ sid=([0-9]+) ]] || fail "$output"
	# in its pid namespace: a session of its own is sid == pid; the caller's would be 0
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "container in another session: $output"
}

@test "/dev/console of a terminal container is its own pty" {
	requires_script
	make_bundle sh -c "$TH stat /dev/console; $TH session 0"
	update_config '.process.terminal = true'
	in_pty "$(ctr_cmd run --bundle "$BUNDLE" "$(cid)")"
	assert_success
	local rdev
	rdev=$(grep -o 'rdev=[0-9:]*' <<<"${lines[1]}")
	[[ ${lines[0]} == "char ${rdev#rdev=} "* ]] || fail "/dev/console is not the pty: $output"
	[[ ${lines[0]} != "char 5:1 "* ]] || fail "/dev/console is the host console: $output"
}
