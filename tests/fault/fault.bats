#!/usr/bin/env bats
# fault.bats: kill -9 of ctr at each step of a verb, then the normal cleanup verb, then
# nothing of the container may remain (state, cgroups in every hierarchy, mounts,
# processes). A step is one system call of ctr's own process: strace kills it (SIGKILL) on
# the Nth call of one syscall, so every point between two syscalls is reachable without a
# test build. FAULT_STEPS=N caps the steps per verb (evenly spread over the trace); the
# default, 0, tries every one. A summary line per verb goes to fd 3.
# shellcheck disable=SC2154

load ../integration/helpers

FAULT_STEPS=${FAULT_STEPS:-0}

setup_file() {
	command -v strace >/dev/null || skip "strace not installed (apt-get install strace)"
}

# ctr_traced OUT CMD...: runs ctr under strace, its own process's syscalls in OUT.
ctr_traced() {
	local out=$1
	shift
	CTR_TEST_MARKER=$MARKER timeout -k 5 60 strace -qq -o "$out" \
		"$CTR" --root "$STATE_ROOT" "$@" </dev/null >/dev/null 2>&1
}

# ctr_killed_at NAME N CMD...: runs ctr, killed (SIGKILL) at its Nth NAME syscall.
ctr_killed_at() {
	local name=$1 n=$2
	shift 2
	# a subshell: the shell's "Killed" notice goes to the log too
	(CTR_TEST_MARKER=$MARKER timeout -k 5 60 strace -qq -o /dev/null -e trace="$name" \
		-e inject="$name:signal=KILL:when=$n" \
		"$CTR" --root "$STATE_ROOT" "$@" </dev/null) >>"$BATS_TEST_TMPDIR/trial.log" 2>&1
}

# steps_of TRACE: "name occurrence" per syscall of the trace, in order; at most
# FAULT_STEPS of them, spread evenly.
steps_of() {
	awk -v max="$FAULT_STEPS" '
		match($0, /^[a-z_0-9]+\(/) { name = substr($0, 1, RLENGTH - 1); seen[name]++
			step[n++] = name " " seen[name] }
		END { stride = (max > 0 && n > max) ? n / max : 1
			for (i = 0; i < n; i += stride) print step[int(i)] }' "$1"
}

# fault_verb LABEL PREPARE CLEANUP CMD...: traces CMD once (after PREPARE), then for each
# step: PREPARE, CMD killed at that step, CLEANUP, and the leak check. Fails on the first
# trial that leaves anything, naming the step.
fault_verb() {
	local label=$1 prepare=$2 cleanup=$3 trace=$BATS_TEST_TMPDIR/trace
	shift 3
	$prepare || fail "$label: prepare failed" || return 1
	ctr_traced "$trace" "$@" || fail "$label: the untraced-kill run failed: $(tail -3 "$trace")" || return 1
	$cleanup || fail "$label: cleanup after the full run failed" || return 1
	check_no_leaks || fail "$label: leaks after the full run" || return 1
	local steps trials=0 name n
	steps=$(steps_of "$trace")
	[ -n "$steps" ] || fail "$label: no syscalls traced" || return 1
	while read -r name n; do
		trials=$((trials + 1))
		$prepare || fail "$label: prepare failed before step $name #$n" || return 1
		ctr_killed_at "$name" "$n" "$@" || true
		if ! $cleanup; then
			fail "$label: killed at $name #$n: the cleanup verb failed: $(tail -3 "$BATS_TEST_TMPDIR/trial.log")"
			return 1
		fi
		check_no_leaks || fail "$label: killed at $name #$n: leftovers after cleanup" || return 1
	done <<<"$steps"
	echo "# fault: $label: $trials trials (of $(grep -c '^[a-z_0-9]*(' "$trace") syscalls), 0 leftovers" >&3
}

# Not failed on purpose: the C library's start-up and memory management (ctr's allocator
# stops with a message on ENOMEM by design), the exec of ctr itself, the last call, and
# close (an injected error skips the call, so the fd would stay open, which Linux never
# does: its close releases the fd even when it reports an error).
NOT_FAILED='^(execve 1|brk|mmap|munmap|mprotect|mremap|madvise|arch_prctl|set_tid_address|set_robust_list|rseq|prlimit64 1|exit_group|exit|close) '

# fault_errors LABEL ERRNO CMD...: each syscall of CMD made to fail with ERRNO in turn. A
# create that fails must leave nothing, without any cleanup verb; one that goes on anyway
# must still be removable by delete --force.
# With PREPARE (FAULT_PREPARE=fn), CMD acts on an existing container: a failure must only
# leave something delete --force removes.
fault_errors() {
	local label=$1 errno=$2 trace=$BATS_TEST_TMPDIR/trace trials=0 failed=0 name n rc
	local prepare=${FAULT_PREPARE:-nothing}
	shift 2
	$prepare || fail "$label: prepare failed" || return 1
	ctr_traced "$trace" "$@" || fail "$label: the plain run failed" || return 1
	delete_force || return 1
	while read -r name n; do
		trials=$((trials + 1))
		$prepare || fail "$label: prepare failed before $name #$n" || return 1
		rc=0
		(CTR_TEST_MARKER=$MARKER timeout -k 5 30 strace -qq -o /dev/null -e trace="$name" \
			-e inject="$name:error=$errno:when=$n" \
			"$CTR" --root "$STATE_ROOT" "$@" </dev/null) >"$BATS_TEST_TMPDIR/trial.log" 2>&1 || rc=$?
		[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] ||
			fail "$label: $name #$n failing with $errno: ctr hung or was killed" || return 1
		if [ "$rc" -ne 0 ]; then
			failed=$((failed + 1))
			[ -n "$(tr -d '\n' <"$BATS_TEST_TMPDIR/trial.log")" ] ||
				fail "$label: $name #$n failing with $errno: exit $rc without a word" || return 1
			[ "$prepare" != nothing ] || check_no_leaks ||
				fail "$label: $name #$n failing with $errno: exit $rc left this behind ($(cat "$BATS_TEST_TMPDIR/trial.log"))" ||
				return 1
		fi
		delete_force || fail "$label: $name #$n failing with $errno: delete --force failed" || return 1
		check_no_leaks || fail "$label: $name #$n failing with $errno: leftovers after delete --force" || return 1
	done < <(steps_of "$trace" | grep -Ev "$NOT_FAILED")
	echo "# fault: $label, each syscall failing with $errno: $trials trials, $failed refused, 0 leftovers" >&3
}

nothing() { :; }
delete_force() { ctr delete --force "$(cid)" >>"$BATS_TEST_TMPDIR/trial.log" 2>&1; }
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
