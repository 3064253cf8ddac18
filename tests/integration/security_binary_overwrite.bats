#!/usr/bin/env bats
# security_binary_overwrite.bats: a container cannot reach the host's ctr binary through
# /proc/PID/exe of a ctr process that joined it (CVE-2019-5736, security rule 1): ctr's
# setup processes are not dumpable, and `ctr exec` runs from a sealed memfd copy.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# probe_during_execs [CAPS FILTER]: the container runs `exe-probe` while ctr execs into it
# again and again, then prints the probe's findings in $output.
probe_during_execs() {
	make_bundle "$TH" exe-probe 4
	[ -z "${1:-}" ] || update_config "$1"
	run_detached
	local log=$LOG i
	for i in $(seq 40); do
		ctr exec "$(cid)" "$TH" exit 0 || fail "exec $i failed"
	done
	wait_for_state "$(cid)" stopped 15
	output=$(cat "$log")
}

@test "a container process cannot open ctr's /proc/PID/exe while ctr joins it" {
	probe_during_execs
	[[ $output == *"vulnerable=0"* ]] || fail "$output"
	# the probe did see ctr processes: the race was really run
	[[ $output != *"seen=0 "* ]] || fail "the probe never saw a ctr process: $output"
}

@test "with CAP_SYS_PTRACE (not dumpable is no wall) exec still exposes only a sealed copy" {
	probe_during_execs '.process.capabilities |= with_entries(.value += ["CAP_SYS_PTRACE"])'
	[[ $output == *"vulnerable=0"* ]] || fail "$output"
	[[ $output != *"seen=0 "* ]] || fail "the probe never saw a ctr process: $output"
}

# The `ctr exec ... sleep 30` process itself, not the timeout wrapper around it.
ctr_exec_pid() {
	local pid
	for pid in $(pgrep -f "exec $(cid) $TH sleep 30"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = timeout ] || echo "$pid"
	done | head -1
}

@test "ctr exec runs from a sealed in-memory copy, not from the binary on disk" {
	requires_ctr
	make_bundle "$TH" sleep 3600
	run_detached
	ctr exec "$(cid)" "$TH" sleep 30 &
	local exec_pid=$! exe="" pid
	wait_until test -n "$(ctr_exec_pid)"
	exe=$(readlink "/proc/$(ctr_exec_pid)/exe")
	kill "$exec_pid" 2>/dev/null || true
	wait "$exec_pid" 2>/dev/null || true
	[[ $exe == /memfd:ctr* ]] || fail "ctr exec runs from $exe"
}
