#!/usr/bin/env bats
# fault.bats: kill -9 of ctr at each step of a verb, then the normal cleanup verb, then
# nothing of the container may remain (state, cgroups in every hierarchy, mounts,
# processes). A step is one system call of ctr's own process: strace kills it (SIGKILL) on
# the Nth call of one syscall, so every point between two syscalls is reachable without a
# test build. FAULT_STEPS=N caps the steps per verb (evenly spread over the trace); the
# default, 0, tries every one that can make a difference (fault-helpers.bash: steps_of),
# FAULT_ALL=1 every one. A summary line per verb goes to fd 3.
# shellcheck disable=SC2154

load fault-helpers

created() { ctr create --bundle "$BUNDLE" "$(cid)" </dev/null >/dev/null 2>&1; }
running() { ctr run -d --bundle "$BUNDLE" "$(cid)" </dev/null >/dev/null 2>&1; }

@test "fault: kill -9 at each step of create, then delete --force: nothing left" {
	make_bundle
	fault_verb create nothing delete_force create --bundle "$BUNDLE" "$(cid)"
}

@test "fault: kill -9 at each step of run -d, then delete --force: nothing left" {
	make_bundle
	fault_verb "run -d" nothing delete_force run -d --bundle "$BUNDLE" "$(cid)"
}

@test "fault: kill -9 at each step of a foreground run, then delete --force: nothing left" {
	make_bundle "$TH" exit 0
	fault_verb run nothing delete_force run --bundle "$BUNDLE" "$(cid)"
}

@test "fault: kill -9 at each step of start, then delete --force: nothing left" {
	make_bundle
	fault_verb start created delete_force start "$(cid)"
}

@test "fault: kill -9 at each step of exec, then delete --force: nothing left" {
	make_bundle
	fault_verb exec running delete_force exec "$(cid)" "$TH" exit 0
}

@test "fault: kill -9 at each step of delete, then delete --force: nothing left" {
	make_bundle
	fault_verb delete running delete_force delete --force "$(cid)"
}

@test "fault: kill -9 at each step of kill, then delete --force: nothing left" {
	make_bundle
	fault_verb kill running delete_force kill "$(cid)" KILL
}

@test "leftovers: an empty cpuset cgroup left by a killed create does not block the id" {
	[ -d /sys/fs/cgroup/cpuset ] || skip "no v1 cpuset hierarchy"
	make_bundle
	# what a create killed between its mkdir and the cpuset copy left
	mkdir -p "/sys/fs/cgroup/cpuset/ctr/$(cid)"
	[ -z "$(cat "/sys/fs/cgroup/cpuset/ctr/$(cid)/cpuset.cpus")" ]
	run_detached
	[ -n "$(cat "/sys/fs/cgroup/cpuset/ctr/$(cid)/cpuset.cpus")" ]
	run ctr delete --force "$(cid)"
	assert_success
	# joined, not made: ctr leaves it to whoever made it
	rmdir "/sys/fs/cgroup/cpuset/ctr/$(cid)"
}

@test "leftovers: a state.json that does not parse is listed as unknown and delete --force removes it" {
	requires_ctr
	make_bundle
	run_detached
	local pid
	pid=$(ctr state "$(cid)" | jq -r .pid)
	printf '{"id": "half' >"$STATE_ROOT/$(cid)/state.json"
	run ctr list
	assert_success
	[[ $output == *"$(cid)"*unknown* ]] || fail "not listed as unknown: $output"
	[[ $output == *state.json* ]] || fail "no warning naming state.json: $output"
	run ctr delete "$(cid)"
	assert_failure
	assert_output_contains state.json "$(cid)"
	run ctr delete --force "$(cid)"
	assert_success
	wait_until process_gone "$pid"
	[ ! -e "$STATE_ROOT/$(cid)" ]
}

@test "leftovers: a create killed halfway is stopped once its creator is gone, and plain delete removes it" {
	requires_ctr
	make_bundle
	# killed at the first clone: the state and cgroup exist, no container process
	run ctr_killed_at clone3 1 create --bundle "$BUNDLE" "$(cid)"
	[ -d "$STATE_ROOT/$(cid)" ]
	run ctr state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = stopped ]
	[ -n "$(leaked_cgroups)" ]
	run ctr delete "$(cid)"
	assert_success
	[ -z "$(leaked_cgroups)" ]
}

@test "fault: each syscall of create failing in turn: a failed create leaves nothing" {
	make_bundle
	fault_errors create EIO create --bundle "$BUNDLE" "$(cid)"
}

@test "fault: each syscall of run -d failing in turn: a failed run leaves nothing" {
	make_bundle
	fault_errors "run -d" ENOSPC run -d --bundle "$BUNDLE" "$(cid)"
}

@test "fault: each syscall of start, exec and delete failing in turn: delete --force removes what is left" {
	make_bundle
	FAULT_PREPARE=created fault_errors start EIO start "$(cid)"
	FAULT_PREPARE=running fault_errors exec EIO exec "$(cid)" "$TH" exit 0
	FAULT_PREPARE=running fault_errors delete EIO delete --force "$(cid)"
}

@test "fault: the kill steps leave out only calls whose effect ends with ctr, and the middle of a run of like calls" {
	local trace=$BATS_TEST_TMPDIR/t steps
	{
		echo 'execve("/ctr", ["ctr"], 0x7ffd /* 3 vars */) = 0'
		echo 'newfstatat(AT_FDCWD, "/run/ctr/c1", 0x7ffd, 0) = -1 ENOENT (No such file or directory)'
		echo 'openat(AT_FDCWD, "/run/ctr", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 3'
		echo 'openat(AT_FDCWD, "/run/ctr/c1/exec.fifo", O_RDONLY|O_CLOEXEC) = 4'
		echo 'mkdirat(3, "c1", 0700)                 = 0'
		echo 'read(4, "0", 1)                        = 1'
		echo 'close(4)                               = 0'
		for f in a b c d e f g; do echo "unlinkat(5, \"$f\", 0)                  = 0"; done
		echo 'unlinkat(3, "c1", AT_REMOVEDIR)        = 0'
		echo 'fcntl(3, F_SETFD, FD_CLOEXEC)          = 0'
		echo 'exit_group(0)                          = ?'
	} >"$trace"
	steps=$(FAULT_SKIP=$KILL_SAME steps_of "$trace" | tr '\n' ,)
	[ "$steps" = "execve 1,openat 2,mkdirat 1,read 1,unlinkat 1,unlinkat 2,unlinkat 6,unlinkat 7,unlinkat 8,exit_group 1," ] ||
		fail "kill steps: $steps"
	# the error trials keep the calls that only look (a failing stat takes another path)
	steps=$(steps_of "$trace" | wc -l)
	[ "$steps" -eq 14 ] || fail "error steps: $steps"
	steps=$(FAULT_ALL=1 FAULT_SKIP=$KILL_SAME steps_of "$trace" | wc -l)
	[ "$steps" -eq 17 ] || fail "FAULT_ALL steps: $steps"
}
