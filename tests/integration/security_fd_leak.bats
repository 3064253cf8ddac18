#!/usr/bin/env bats
# security_fd_leak.bats: no fd of the caller or the runtime reaches the container, and the
# cwd stays inside the root (CVE-2024-21626, security rule 2).

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# fd_numbers: the fd numbers in a `ctr-testhelper fds` listing in $output, one line.
fd_numbers() {
	awk '/^[0-9]+ / {print $1}' <<<"$output" | sort -n | tr '\n' ' '
}

@test "run: the caller's extra fds do not reach the container" {
	make_bundle "$TH" fds
	exec 5</etc/passwd 6>"$BATS_TEST_TMPDIR/x"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	exec 5<&- 6>&-
	assert_success
	[ "$(fd_numbers)" = "0 1 2 " ] || fail "$output"
}

@test "create/start: the container process holds only stdio" {
	make_bundle "$TH" sleep 3600
	exec 5</etc/passwd 6>"$BATS_TEST_TMPDIR/x"
	create_container
	exec 5<&- 6>&-
	run ctr start "$(cid)"
	assert_success
	pid=$(state_field "$(cid)" pid)
	wait_until eval 'test "$(cat "/proc/$pid/comm")" = ctr-testhelper'
	run ls "/proc/$pid/fd"
	[ "$(tr '\n' ' ' <<<"$output")" = "0 1 2 " ] || fail "fds of the container process: $output"
	ctr delete --force "$(cid)"
}

@test "exec: the caller's extra fds do not reach the process" {
	make_bundle
	run_detached
	exec 5</etc/passwd 6>"$BATS_TEST_TMPDIR/x"
	run ctr exec "$(cid)" "$TH" fds
	exec 5<&- 6>&-
	assert_success
	[ "$(fd_numbers)" = "0 1 2 " ] || fail "$output"
	ctr delete --force "$(cid)"
}

@test "--preserve-fds 1 passes fd 3 and nothing above it" {
	make_bundle "$TH" fds
	echo preserved >"$BATS_TEST_TMPDIR/three"
	status=0
	output=$(
		exec 3<"$BATS_TEST_TMPDIR/three" 4</etc/passwd 5</etc/passwd
		ctr run --preserve-fds 1 --bundle "$BUNDLE" "$(cid)" 2>&1
	) || status=$?
	assert_success
	[ "$(fd_numbers)" = "0 1 2 3 " ] || fail "$output"
	assert_output_contains "3 /"
	assert_output_contains three
}

@test "exec --preserve-fds 1 passes fd 3" {
	make_bundle
	run_detached
	status=0
	output=$(
		exec 3</etc/passwd 4</etc/passwd
		ctr exec --preserve-fds 1 "$(cid)" "$TH" fds 2>&1
	) || status=$?
	assert_success
	[ "$(fd_numbers)" = "0 1 2 3 " ] || fail "$output"
	ctr delete --force "$(cid)"
}

# A host file the container must never reach through a cwd outside its root.
make_canary() {
	CANARY=$BATS_TEST_TMPDIR/canary
	echo host-canary-content >"$CANARY"
	ESCAPE=$(printf '../%.0s' {1..20})${CANARY#/}
}

@test "process.cwd under /proc/self/fd never lands outside the root" {
	make_canary
	make_bundle
	for fd in 3 4 5 6 7 8 9 10; do
		set_args sh -c "$TH cwd; $TH read $ESCAPE"
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$fd"
		run ctr run --bundle "$BUNDLE" "$(cid)"
		assert_output_not_contains host-canary-content
		if [ "$status" -eq 0 ]; then
			[[ ${lines[0]} == /* ]] || fail "cwd /proc/self/fd/$fd: $output"
		fi
	done
}

@test "exec --cwd under /proc/self/fd never lands outside the root" {
	make_canary
	make_bundle
	run_detached
	for fd in 3 4 5 6 7 8 9 10; do
		run ctr exec --cwd "/proc/self/fd/$fd" "$(cid)" sh -c "$TH cwd; $TH read $ESCAPE"
		assert_output_not_contains host-canary-content
		if [ "$status" -eq 0 ]; then
			[[ ${lines[0]} == /* ]] || fail "cwd /proc/self/fd/$fd: $output"
		fi
	done
	ctr delete --force "$(cid)"
}

@test "a cwd with .. stays inside the root" {
	make_canary
	make_bundle sh -c "$TH cwd; $TH read $ESCAPE"
	update_config '.process.cwd = "/../../../../.."'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_output_not_contains host-canary-content
	[ "$status" -ne 0 ] || [ "${lines[0]}" = / ] || fail "$output"
}

@test "a cwd that is a symlink out of the root stays inside it" {
	make_canary
	make_bundle sh -c "$TH cwd; $TH read canary"
	ln -s "$BATS_TEST_TMPDIR" "$BUNDLE/rootfs/escape"
	update_config '.process.cwd = "/escape"'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_output_not_contains host-canary-content
}

@test "a mount destination that is a symlink out of the root stays inside it" {
	mkdir -p "$BATS_TEST_TMPDIR/outside" "$BATS_TEST_TMPDIR/src"
	make_bundle "$TH" exit 0
	ln -s "$BATS_TEST_TMPDIR/outside" "$BUNDLE/rootfs/link"
	update_config '.mounts += [{destination: "/link/x", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	# whatever the runtime does, the host directory must not receive the mount point
	[ ! -e "$BATS_TEST_TMPDIR/outside/x" ] || fail "mount target created outside the root"
}
