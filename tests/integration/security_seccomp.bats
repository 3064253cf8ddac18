#!/usr/bin/env bats
# security_seccomp.bats: the default seccomp profile of `ctr spec`, and linux.seccomp profiles
# applied to run and exec processes (denied calls, errnoRet, kill actions, flags, errors).

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# seccomp_mode: the Seccomp field of /proc/self/status the helper printed last (2 = filter).
seccomp_mode() {
	awk '{print $NF}' <<<"$output" | tail -n 1
}

# set_profile JSON: linux.seccomp of $BUNDLE.
set_profile() {
	update_config '.linux.seccomp = $p' --argjson p "$1"
}

add_sys_admin() {
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
}

@test "spec: writes the default seccomp profile, the same one with --rootless" {
	cd "$BATS_TEST_TMPDIR"
	run "$CTR" spec
	assert_success
	jq -e '.linux.seccomp | .defaultAction == "SCMP_ACT_ERRNO" and .defaultErrnoRet == 1
		and (.architectures | index("SCMP_ARCH_X86_64") or index("SCMP_ARCH_AARCH64"))' \
		config.json >/dev/null || fail "$(jq .linux.seccomp config.json)"
	allowed=$(jq -r '[.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW"
		and (.args // []) == []) | .names[]] | join(" ")' config.json)
	for s in read write openat execve exit_group rt_sigaction wait4 futex; do
		[[ " $allowed " == *" $s "* ]] || fail "$s is not allowed: $allowed"
	done
	for s in mount umount2 pivot_root keyctl add_key request_key unshare setns bpf ptrace \
		kexec_load init_module finit_module delete_module perf_event_open userfaultfd \
		open_by_handle_at reboot swapon settimeofday clock_settime clone clone3 personality; do
		[[ " $allowed " != *" $s "* ]] || fail "$s is allowed unconditionally"
	done
	jq -e '.linux.seccomp.syscalls[] | select(.names == ["clone"]) | .args[0]
		| .op == "SCMP_CMP_MASKED_EQ" and .value == 2114060288 and .valueTwo == 0' \
		config.json >/dev/null || fail "no namespace-flag rule for clone"
	jq -e '.linux.seccomp.syscalls[] | select(.names == ["clone3"])
		| .action == "SCMP_ACT_ERRNO" and .errnoRet == 38' config.json >/dev/null ||
		fail "clone3 does not return ENOSYS"
	mkdir rl && cd rl
	run "$CTR" spec --rootless
	assert_success
	[ "$(jq -S .linux.seccomp config.json)" = "$(jq -S .linux.seccomp ../config.json)" ] ||
		fail "the rootless profile differs"
}

@test "default profile: the process runs in filter mode and ordinary programs work" {
	make_bundle sh -c "$TH seccomp; ls / | sort | wc -l; echo a >/tmp/f && cat /tmp/f \
		&& mkdir /tmp/d && rm -r /tmp/d && date >/dev/null && ps >/dev/null && echo ok"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains ok
	[ "$(head -n 1 <<<"$output" | awk '{print $NF}')" = 2 ] || fail "not in filter mode: $output"
}

# busybox mount reports EPERM as "permission denied (are you root?)".
@test "default profile: mount fails with EPERM even with CAP_SYS_ADMIN" {
	make_bundle mount -t tmpfs x /tmp
	add_sys_admin
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "permission denied"
	# the same container without the profile can mount: seccomp refused, not capabilities
	update_config 'del(.linux.seccomp)'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
}

@test "default profile: unshare of a user namespace fails with EPERM" {
	make_bundle unshare -U true
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "Operation not permitted"
	update_config 'del(.linux.seccomp)'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
}

@test "errnoRet: an explicit ERRNO 38 on mkdir gives ENOSYS" {
	make_bundle mkdir /tmp/x
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],
		"action":"SCMP_ACT_ERRNO","errnoRet":38}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "Function not implemented"
	[ ! -e "$BUNDLE/rootfs/tmp/x" ] || fail "mkdir succeeded"
}

# ctr-stub (security rule 1) is executed with execveat; a profile that denies it (fileless
# execution) but allows execve still runs the container's programs.
@test "a profile that denies execveat still runs the program, through run and exec" {
	make_bundle "$TH" seccomp
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execveat"],
		"action":"SCMP_ACT_ERRNO"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "not in filter mode: $output"
	make_bundle "$TH" sleep 3600
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execveat"],
		"action":"SCMP_ACT_ERRNO"}]}'
	run_detached
	run ctr exec "$(cid)" "$TH" seccomp
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "exec process not in filter mode: $output"
	ctr delete --force "$(cid)"
}

# In exec the stub also forks; refused that, ctr starts over from a sealed copy of itself.
@test "exec with a profile that denies clone still runs the process" {
	make_bundle "$TH" sleep 3600
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["clone"],
		"action":"SCMP_ACT_ERRNO"}]}'
	run_detached
	run ctr exec "$(cid)" "$TH" seccomp
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "exec process not in filter mode: $output"
	ctr delete --force "$(cid)"
}

@test "a profile that denies every way to execute is refused with the reason" {
	make_bundle "$TH" seccomp
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execveat","execve"],
		"action":"SCMP_ACT_ERRNO"}]}'
	run -127 ctr run --bundle "$BUNDLE" "$(cid)"
	assert_output_contains "the seccomp profile must allow execveat or execve"
}

@test "unknown syscall names are skipped, the rest of the rule applies" {
	make_bundle mkdir /tmp/x
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":
		["no_such_syscall_xyz","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "Operation not permitted"
	assert_output_not_contains "no_such_syscall_xyz"
	set_args "$TH" seccomp
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "$output"
}

@test "an unknown action or operator is refused with its JSON path" {
	make_bundle true
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],
		"action":"SCMP_ACT_BOGUS"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "linux.seccomp.syscalls[0].action" SCMP_ACT_BOGUS
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],
		"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_BOGUS"}]}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "linux.seccomp.syscalls[0].args[0].op" SCMP_CMP_BOGUS
}

@test "exec: the process gets the container's filter" {
	make_bundle
	add_sys_admin
	run_detached
	run ctr exec "$(cid)" "$TH" seccomp
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "exec process not in filter mode: $output"
	run ctr exec "$(cid)" mount -t tmpfs x /tmp
	assert_failure
	assert_output_contains "permission denied"
	run ctr exec "$(cid)" unshare -U true
	assert_failure
	assert_output_contains "Operation not permitted"
	ctr delete --force "$(cid)"
}

@test "SCMP_ACT_KILL_PROCESS kills the process with SIGSYS" {
	make_bundle mkdir /tmp/x
	set_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],
		"action":"SCMP_ACT_KILL_PROCESS"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 159
	[ ! -e "$BUNDLE/rootfs/tmp/x" ] || fail "mkdir succeeded"
}

@test "flags: SECCOMP_FILTER_FLAG_LOG is accepted, an unknown flag is refused" {
	make_bundle "$TH" seccomp
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(seccomp_mode)" = 2 ] || fail "$output"
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "linux.seccomp.flags[1]" SECCOMP_FILTER_FLAG_BOGUS
}

# runc's ENOSYS rule (docs/runc-compat.md): a syscall above the largest the profile names
# gets ENOSYS whatever defaultErrnoRet says; the compiled filter in the cache keeps it.
@test "a syscall newer than the profile gets ENOSYS, not defaultErrnoRet, compiled or cached" {
	make_bundle sh -c "$TH syscall 1000 2>/dev/null; $TH syscall perf_event_open 2>/dev/null; true"
	# a name of its own makes the profile new to the cache: compiled first, then cached
	update_config '.linux.seccomp.defaultErrnoRet = 13
		| .linux.seccomp.syscalls += [{names: [$t], action: "SCMP_ACT_ERRNO"}]' \
		--arg t "ctr-test-$BATS_TEST_NUMBER-$$-$RANDOM"
	for i in 1 2; do
		run ctr run --bundle "$BUNDLE" "$(cid)"
		assert_success
		[ "$output" = "ENOSYS
EACCES" ] || fail "run $i: syscall 1000, then perf_event_open: $output"
	done
	# a default that kills: the new syscall still returns ENOSYS, the known one kills
	update_config '.linux.seccomp.defaultAction = "SCMP_ACT_KILL_PROCESS" | del(.linux.seccomp.defaultErrnoRet)'
	set_args sh -c "$TH syscall 1000 2>/dev/null; $TH syscall perf_event_open; echo status=\$?"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "${lines[0]}" = ENOSYS ] && [ "${lines[-1]}" = status=159 ] || fail "kill default: $output"
}

# As runc, the filter is in place before `start`: a startContainer hook runs confined, and
# a failing one fails `start`. Without noNewPrivileges ctr still loads it after setting the
# user (runc before, so that this profile, which denies setgroups, fails runc's setup).
@test "create loads the filter before start: startContainer hooks run confined" {
	make_bundle echo started
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat", "setgroups", "setresuid", "setresgid"],
			action: "SCMP_ACT_ERRNO"}]}
		| .hooks = {startContainer: [{path: "/bin/mkdir", args: ["mkdir", "/tmp/hookdir"]}]}
		| .process.noNewPrivileges = false | .process.user = {uid: 1000, gid: 1000}'
	create_container
	local log=$LOG
	run ctr start "$(cid)"
	assert_failure
	assert_output_contains "startContainer hook #0 \`/bin/mkdir\`: exited with status 1"
	# the hook writes to the container's stderr, the one create was given
	grep -q "mkdir: can't create directory '/tmp/hookdir': Operation not permitted" "$log" ||
		fail "the hook's stderr: $(cat "$log")"
	[ ! -e "$BUNDLE/rootfs/tmp/hookdir" ] || fail "the hook made its directory"
	ctr delete -f "$(cid)"
	# the same without the hook: the process runs as the user under the filter
	update_config 'del(.hooks) | .process.args = ["sh", "-c", "id -u; mkdir /tmp/d"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 1000 "Operation not permitted"
}

# cache_entries: the compiled-filter cache files, newest first.
cache_entries() {
	ls -t /run/ctr-cache/seccomp/ 2>/dev/null | grep -v '\.' || true
}

@test "a cached filter is used only for the very profile it was compiled from" {
	requires_ctr
	requires_root
	# B denies mkdir, A allows it; each profile is unique to this test run
	local tag="ctr-test-$BATS_TEST_NUMBER-$$" a b
	make_bundle sh -c 'rmdir /tmp/d 2>/dev/null; mkdir /tmp/d && echo made'
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1},
			{names: [$t], action: "SCMP_ACT_ERRNO"}]}' --arg t "$tag-b"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[[ $output != *made* ]] || fail "B's profile did not deny mkdir: $output"
	b=$(cache_entries | head -1)
	update_config '.linux.seccomp.syscalls = [{names: [$t], action: "SCMP_ACT_ERRNO"}]' --arg t "$tag-a"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	a=$(cache_entries | head -1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || fail "cache entries a=$a b=$b"
	# plant B's compiled filter under A's name, as a colliding file name would
	cp "/run/ctr-cache/seccomp/$b" "/run/ctr-cache/seccomp/$a"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[[ $output == *made* ]] || fail "A ran with B's cached filter: $output"
}

# start_agent SOCK OUT N: a minimal seccomp agent, as runc's and crun's protocol has it:
# per connection one message with the containerProcessState JSON and the listener fd,
# written to OUT as a line; closing the fd answers every notified syscall with ENOSYS.
start_agent() {
	python3 - "$@" <<'PY' &
import array, json, os, socket, sys
path, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(n)
srv.settimeout(20)  # a runtime that never connects fails the test instead of hanging it
with open(out, "w") as f:
    for _ in range(n):
        conn, _ = srv.accept()
        msg, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(4))
        fds = array.array("i")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % 4])
        st = json.loads(msg)
        link = os.readlink("/proc/self/fd/%d" % fds[0]) if fds else "no-fd"
        f.write("%s|%s|%s|%s|%s\n" % (",".join(st["fds"]), st["metadata"], st["state"]["id"],
                                      st["pid"] == st["state"]["pid"], link))
        f.flush()
        for fd in fds:
            os.close(fd)
PY
	AGENT=$!
	wait_until test -S "$1"
}

@test "seccomp notify: the listener fd and the container's state reach listenerPath" {
	command -v python3 >/dev/null || skip "python3 not installed"
	local sock="$BATS_TEST_TMPDIR/agent.sock" got="$BATS_TEST_TMPDIR/agent.out"
	start_agent "$sock" "$got" 1
	make_bundle sh -c 'mkdir /tmp/notified; echo "rc=$?"'
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64"], listenerPath: $p, listenerMetadata: "meta-1",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' --arg p "$sock"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	wait "$AGENT" || fail "agent failed"
	assert_success
	[[ $output == *"rc=1"* ]] || fail "the notified mkdir did not fail: $output"
	[ "$(cat "$got")" = "seccompFd|meta-1|$(cid)|True|anon_inode:seccomp notify" ] ||
		fail "agent got: $(cat "$got")"
}

@test "seccomp notify: an exec'd process's listener fd reaches listenerPath with its own pid" {
	command -v python3 >/dev/null || skip "python3 not installed"
	local sock="$BATS_TEST_TMPDIR/agent.sock" got="$BATS_TEST_TMPDIR/agent.out"
	start_agent "$sock" "$got" 2
	make_bundle sleep 3600
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64"], listenerPath: $p, listenerMetadata: "meta-2",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' --arg p "$sock"
	run_detached
	run ctr exec "$(cid)" sh -c 'mkdir /tmp/notified; echo "rc=$?"'
	wait "$AGENT" || fail "agent failed"
	assert_success
	[[ $output == *"rc=1"* ]] || fail "the notified mkdir in exec did not fail: $output"
	# the init's filter first, then the exec'd process's: a listener of its own, its own pid
	[ "$(sed -n 2p "$got")" = "seccompFd|meta-2|$(cid)|False|anon_inode:seccomp notify" ] ||
		fail "agent got: $(cat "$got")"
}
