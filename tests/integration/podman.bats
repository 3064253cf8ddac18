#!/usr/bin/env bats
# podman.bats: ctr as podman's OCI runtime, on a private podman storage, config and network.

load helpers
load podman-helpers

setup_file() { podman_setup_file; }
teardown_file() { podman_teardown_file; }
setup() { podman_setup; }
teardown() { podman_teardown; }

@test "podman: ctr is the OCI runtime podman uses" {
	run pm info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'
	assert_success
	[ "$output" = "ctr $CTR_PATH" ] || fail "podman info says runtime '$output', expected 'ctr $CTR_PATH'"

	run pm create --name rt "$IMAGE" true
	assert_success
	run pm inspect --format '{{.OCIRuntime}}' rt
	assert_success
	[ "$output" = ctr ] || fail "podman inspect says runtime '$output'"
}

@test "podman: run --rm prints the container's output" {
	run pm run --rm "$IMAGE" echo hi
	assert_success
	[ "$output" = hi ] || fail "expected 'hi', got: $output"
}

@test "podman: run propagates the exit code" {
	run pm run --rm "$IMAGE" sh -c 'exit 7'
	assert_status 7
}

@test "podman: the container joins podman's network namespace" {
	run pm run --rm "$IMAGE" ip -4 addr show eth0
	assert_success
	assert_output_contains "inet ${PODMAN_SUBNET%.0/24}."
}

@test "podman: run -d, exec, ps, stop, rm" {
	run pm run -d "$IMAGE" sleep 100
	assert_success
	id=${lines[-1]}
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "expected a container id, got: $output"

	# the runtime itself knows the container, in its default state root where podman keeps it
	run "$CTR_PATH" state "$id"
	assert_success
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state: $output"

	run pm exec "$id" echo in
	assert_success
	[ "$output" = in ] || fail "exec printed: $output"

	run pm exec "$id" sh -c 'exit 5'
	assert_status 5

	run pm ps --no-trunc --format '{{.ID}} {{.Status}}'
	assert_success
	assert_output_contains "$id Up"

	# sleep is pid 1 without a SIGTERM handler: podman escalates to SIGKILL after 1 second
	run pm stop -t 1 "$id"
	assert_success
	run pm ps -a --no-trunc --filter "id=$id" --format '{{.Status}}'
	assert_success
	assert_output_contains "Exited"

	run pm rm "$id"
	assert_success
	run pm ps -aq --no-trunc --filter "id=$id"
	assert_success
	[ -z "$output" ] || fail "container still listed after rm: $output"
	run "$CTR_PATH" state "$id"
	assert_failure
}

@test "podman: pause, unpause, kill and wait" {
	run pm run -d "$IMAGE" sleep 100
	assert_success
	id=${lines[-1]}
	run pm pause "$id"
	assert_success
	run pm inspect --format '{{.State.Status}}' "$id"
	[ "$output" = paused ] || fail "after pause: $output"
	run pm unpause "$id"
	assert_success
	run pm inspect --format '{{.State.Status}}' "$id"
	[ "$output" = running ] || fail "after unpause: $output"
	run pm kill "$id"
	assert_success
	run pm wait "$id"
	assert_success
	[ "${lines[-1]}" = 137 ] || fail "podman wait after SIGKILL: $output"
	run pm rm "$id"
	assert_success
}

@test "podman: --memory and --pids-limit reach the container's cgroup" {
	# cgroup v1 (this host: hybrid) names the files differently from v2
	run pm run --rm --memory 64m --pids-limit 50 "$IMAGE" sh -c '
		if [ -e /sys/fs/cgroup/memory.max ]; then
			cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max
		else
			cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
		fi'
	assert_success
	[ "${lines[0]}" = 67108864 ] && [ "${lines[1]}" = 50 ] || fail "cgroup limits: $output"
}

@test "podman: run -it gives the container a terminal" {
	command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
	# script's stdin must not reach end of file: at EOF it sends ^D into the pty, and podman
	# may end the session before the container's output arrives. A fifo we hold open never ends.
	mkfifo "$BATS_TEST_TMPDIR/stdin"
	exec {keep}<>"$BATS_TEST_TMPDIR/stdin" # not fd 3: bats reports through it
	run script -qec "$PM/podman run -it --rm $IMAGE tty" /dev/null <"$BATS_TEST_TMPDIR/stdin"
	exec {keep}>&-
	assert_success
	[[ $output == *"/dev/pts/0"* || $output == *"/dev/console"* ]] ||
		fail "expected /dev/pts/0 or /dev/console, got: $output"
}

@test "podman: ps -a shows the exit status of a stopped container" {
	run pm run --name exited "$IMAGE" sh -c 'exit 3'
	assert_status 3
	run pm ps -a --filter name=exited --format '{{.Names}} {{.Status}}'
	assert_success
	assert_output_contains "exited Exited (3)"
	run pm inspect --format '{{.State.ExitCode}}' exited
	assert_success
	[ "$output" = 3 ] || fail "inspect ExitCode: $output"
}
