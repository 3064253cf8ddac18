#!/usr/bin/env bats
# compat_seccomp.bats: runc compatibility, seccomp: ENOSYS for syscalls newer than the profile, when the filter is loaded, --cap.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

@test "exec --cap with an unknown name names the flag" {
	requires_ctr
	make_bundle
	run_detached
	run ctr exec --cap CAP_FOO "$(cid)" true
	assert_status 255
	[ "$output" = "ctr: --cap: unknown capability \`CAP_FOO\`" ] || fail "$output"
	ctr delete -f "$(cid)"
}

# runc 1.1's libcontainer/seccomp/patchbpf: above the largest syscall the profile names (per
# architecture) the filter answers ENOSYS, so that libc falls back as on an older kernel
seccomp_enosys() {
	run ctr run --bundle "$BUNDLE" "$(cid enosys)"
	assert_success
	[ "$output" = "ENOSYS
EPERM" ] || fail "syscall 1000, then perf_event_open: $output"
}

@test "seccomp: a syscall newer than the profile fails with ENOSYS, a known one with the default errno" {
	# ctr spec's profile: SCMP_ACT_ERRNO with defaultErrnoRet 1 for x86_64, x86 and x32
	make_bundle sh -c "$TH syscall 1000 2>/dev/null; $TH syscall perf_event_open 2>/dev/null; true"
	also_runc seccomp_enosys
}

# runc 1.1's standard_init_linux.go: the filter is loaded before the wait for `start` and
# before the startContainer hooks, with or without noNewPrivileges
start_hook_confined() {
	rm -rf "$BUNDLE/rootfs/tmp/hookdir"
	run ctr run --bundle "$BUNDLE" "$(cid starthook)"
	assert_failure
	[[ $output == *"Operation not permitted"* ]] || fail "$output"
	[[ $output != *started* ]] || fail "the process ran: $output"
	[ ! -e "$BUNDLE/rootfs/tmp/hookdir" ] || fail "the hook made its directory"
}

@test "startContainer hooks run under the container's seccomp filter" {
	make_bundle echo started
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}
		| .hooks = {startContainer: [{path: "/bin/mkdir", args: ["mkdir", "/tmp/hookdir"]}]}'
	also_runc start_hook_confined
	update_config '.process.noNewPrivileges = false'
	also_runc start_hook_confined
}
