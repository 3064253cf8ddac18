#!/usr/bin/env bats
# security_binary_overwrite.bats: a container cannot reach the host's ctr binary through
# /proc/PID/exe of a ctr process that joined it (CVE-2019-5736, security rule 1): ctr's
# setup processes are not dumpable, `ctr exec` sets up outside the container's pid
# namespace, and every container program is executed by ctr-stub from a sealed memfd.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# probe_during_execs [CAPS FILTER]: the container runs `exe-probe` while ctr execs into it
# again and again, then prints the probe's findings in $output. The probe runs until it is
# told to stop (SIGTERM), however long the execs take on a busy machine.
probe_during_execs() {
	make_bundle "$TH" exe-probe 600
	[ -z "${1:-}" ] || update_config "$1"
	run_detached
	local log=$LOG i
	for i in $(seq 40); do
		ctr exec "$(cid)" "$TH" exit 0 || fail "exec $i failed"
	done
	ctr kill "$(cid)" TERM
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

# The CVE's own trick: a program whose interpreter is /proc/self/exe makes the kernel run
# whatever binary execve()d it, as a container process. That must be ctr-stub from a
# sealed memfd (which refuses to do anything), never the host's ctr.
self_exe_program() {
	printf '#!/proc/self/exe\n' >"$BUNDLE/rootfs/self-exe"
	chmod 755 "$BUNDLE/rootfs/self-exe"
}

@test "a container whose program is #!/proc/self/exe runs the sealed ctr-stub, not ctr" {
	make_bundle /self-exe
	self_exe_program
	run -127 ctr run --bundle "$BUNDLE" "$(cid)"
	[[ $output == *"ctr-stub: a part of ctr, not a command"* ]] || fail "$output"
}

@test "ctr exec of a #!/proc/self/exe program runs the sealed ctr-stub, not ctr" {
	make_bundle "$TH" sleep 3600
	self_exe_program
	run_detached
	run -127 ctr exec "$(cid)" /self-exe
	[[ $output == *"ctr-stub: a part of ctr, not a command"* ]] || fail "$output"
}
