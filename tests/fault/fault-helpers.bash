# fault-helpers.bash: kill ctr (strace, SIGKILL) or fail one of its syscalls at each step of
# a verb; see fault.bats. FAULT_STEPS=N caps the steps per verb (evenly spread over the
# trace); the default, 0, tries every one that can make a difference (steps_of).
# shellcheck shell=bash disable=SC2154

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
	# the shell's "Killed" notice goes to the log too
	{ (CTR_TEST_MARKER=$MARKER timeout -k 5 60 strace -qq -o /dev/null -e trace="$name" \
		-e inject="$name:signal=KILL:when=$n" \
		"$CTR" --root "$STATE_ROOT" "$@" </dev/null); } >>"$BATS_TEST_TMPDIR/trial.log" 2>&1
}

# Calls whose effect ends with ctr's process: a SIGKILL just before one of them leaves the
# world as a SIGKILL just before the next call does, so a kill trial there would repeat the
# next one. What they do is ctr's own (its memory, signal mask, fd table, a lock that its
# death drops) or nothing at all (a stat, a pread, a directory's open). Not among them:
# anything that waits (poll, wait4, a read, which may be a pipe's or a FIFO's): a kill before
# a wait finds a helper still at work, one after it finds the helper done. The error trials
# (fault_errors) try these too: a stat that fails takes another path.
KILL_SAME='^(newfstatat|fstat|stat|lstat|statx|fstatfs|statfs|getdents64|lseek|readlink|readlinkat|access|faccessat2?|getpid|getppid|gettid|getuid|geteuid|getgid|getegid|getresuid|getresgid|getgroups|getcwd|uname|brk|mmap|munmap|mprotect|mremap|madvise|rt_sigaction|rt_sigprocmask|sigaltstack|arch_prctl|set_tid_address|set_robust_list|rseq|getrandom|clock_gettime|gettimeofday|capget|getsockopt|getsockname|close)\(|^prlimit64\(0, [^,]*, NULL|^fcntl\([^,]*, F_(GETFD|SETFD|GETFL|DUPFD|DUPFD_CLOEXEC|GET_SEALS)|^pread64\(|^openat\([^)]*O_(DIRECTORY|PATH)'

# steps_of TRACE: "name occurrence" per syscall of the trace, in order; at most
# FAULT_STEPS of them, spread evenly. FAULT_FROM and FAULT_TO (extended regexes on the
# trace's lines) keep only the steps from the first line matching FROM to the next one
# matching TO. FAULT_ONLY (an extended regex) keeps only the steps whose line matches it.
# With FAULT_SKIP (an extended regex; fault_verb passes KILL_SAME), the matching steps are
# left out. Then a run of like calls (the same call with only its strings, numbers and
# paths different: an rm -rf's unlinks of one directory, a copy's writes) is tried at its
# first two and last two: the middle ones go through the same code with more of the same
# done. FAULT_ALL=1 keeps every step.
steps_of() {
	local skip=${FAULT_SKIP:-} runs=1
	[ "${FAULT_ALL:-0}" = 0 ] || skip='' runs=0
	awk -v max="$FAULT_STEPS" -v from="${FAULT_FROM:-}" -v to="${FAULT_TO:-}" -v only="${FAULT_ONLY:-}" \
		-v skip="$skip" -v runs="$runs" '
		function shape(line) {
			sub(/ *= [^=]*$/, "", line)
			gsub(/"([^"\\]|\\.)*"(\.\.\.)?/, "S", line)
			gsub(/<[^>]*>/, "", line)
			gsub(/[0-9]+/, "N", line)
			return line
		}
		# a run of like steps keeps its first two and last two
		function flush(   i) {
			for (i = 0; i < rn; i++)
				if (!runs || i < 2 || i >= rn - 2) step[n++] = rs[i]
			rn = 0
		}
		BEGIN { on = from == "" }
		!on && $0 ~ from { on = 1 }
		match($0, /^[a-z_0-9]+\(/) { name = substr($0, 1, RLENGTH - 1); seen[name]++
			if (on && !done && (only == "" || $0 ~ only) && (skip == "" || $0 !~ skip)) {
				sh = shape($0)
				if (rn > 0 && sh != last) flush()
				rs[rn++] = name " " seen[name]; last = sh
			}
		}
		on && to != "" && $0 ~ to { done = 1 }
		END { flush()
			stride = (max > 0 && n > max) ? n / max : 1
			for (i = 0; i < n; i += stride) print step[int(i)] }' "$1"
}

# fault_verb LABEL PREPARE CLEANUP CMD...: traces CMD once (after PREPARE), then for each
# step: PREPARE, CMD killed at that step, CLEANUP, and the leak check. Fails on the first
# trial that leaves anything, naming the step.
fault_verb() {
	local label=$1 prepare=$2 cleanup=$3 trace=$BATS_TEST_TMPDIR/trace check=${FAULT_CHECK:-check_no_leaks}
	shift 3
	$prepare || fail "$label: prepare failed" || return 1
	ctr_traced "$trace" "$@" || fail "$label: the untraced-kill run failed: $(tail -3 "$trace")" || return 1
	$cleanup || fail "$label: cleanup after the full run failed" || return 1
	$check || fail "$label: leaks after the full run" || return 1
	local steps trials=0 name n
	steps=$(FAULT_SKIP=$KILL_SAME steps_of "$trace")
	[ -n "$steps" ] || fail "$label: no syscalls traced" || return 1
	while read -r name n; do
		trials=$((trials + 1))
		$prepare || fail "$label: prepare failed before step $name #$n" || return 1
		ctr_killed_at "$name" "$n" "$@" || true
		if ! $cleanup; then
			fail "$label: killed at $name #$n: the cleanup verb failed: $(tail -3 "$BATS_TEST_TMPDIR/trial.log")"
			return 1
		fi
		$check || fail "$label: killed at $name #$n: leftovers after cleanup" || return 1
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
# must still be removable by the cleanup (FAULT_CLEANUP=fn, default delete --force), and
# FAULT_CHECK=fn (default check_no_leaks) finds nothing after either.
# With PREPARE (FAULT_PREPARE=fn), CMD acts on an existing container: a failure must only
# leave something delete --force removes.
fault_errors() {
	local label=$1 errno=$2 trace=$BATS_TEST_TMPDIR/trace trials=0 failed=0 name n rc
	local prepare=${FAULT_PREPARE:-nothing} cleanup=${FAULT_CLEANUP:-delete_force}
	local check=${FAULT_CHECK:-check_no_leaks}
	shift 2
	$prepare || fail "$label: prepare failed" || return 1
	ctr_traced "$trace" "$@" || fail "$label: the plain run failed" || return 1
	$cleanup || return 1
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
			[ "$prepare" != nothing ] || $check ||
				fail "$label: $name #$n failing with $errno: exit $rc left this behind ($(cat "$BATS_TEST_TMPDIR/trial.log"))" ||
				return 1
		fi
		$cleanup || fail "$label: $name #$n failing with $errno: the cleanup failed" || return 1
		$check || fail "$label: $name #$n failing with $errno: leftovers after the cleanup" || return 1
	done < <(steps_of "$trace" | grep -Ev "$NOT_FAILED")
	echo "# fault: $label, each syscall failing with $errno: $trials trials, $failed refused, 0 leftovers" >&3
}

nothing() { :; }
delete_force() { ctr delete --force "$(cid)" >>"$BATS_TEST_TMPDIR/trial.log" 2>&1; }
