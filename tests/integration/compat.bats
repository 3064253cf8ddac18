#!/usr/bin/env bats
# compat.bats: behaviours engines rely on where runc and ctr must agree (docs/runc-compat.md).
# Each check runs against ctr, then against runc where it is installed: the output says
# whether runc agrees, and flags a behaviour only ctr has.

# shellcheck disable=SC2016
load helpers

# also_runc CHECK [ARGS...]: CHECK must pass for ctr; it then runs for runc (in a state root
# of its own) and its result is reported, never failed: runc is the reference, not the test.
# Neither run sits in an `if` or `||`, where bash would ignore the failed assertions inside.
also_runc() {
	"$@"
	local runc
	runc=$(command -v runc) || return 0
	(
		CTR=$runc CTR_NAME=runc STATE_ROOT=$(mktemp -d "$BATS_TEST_TMPDIR/runc.XXXXXX")
		"$@"
	) >/dev/null 2>&1 &
	if wait $!; then
		echo "# runc agrees" >&3
	else
		echo "# ctr-only behaviour: runc does not pass this check" >&3
	fi
	local r id
	for r in "$BATS_TEST_TMPDIR"/runc.*; do
		[ -d "$r" ] || continue
		for id in $("$runc" --root "$r" list -q 2>/dev/null); do
			"$runc" --root "$r" delete -f "$id" >/dev/null 2>&1
		done
	done
}

lo_is_up() {
	run ctr run --bundle "$BUNDLE" "$(cid lo)"
	assert_success
	[[ $output == *"<LOOPBACK,UP"* ]] || fail "lo: $output"
}

@test "the loopback interface is up in a new network namespace" {
	make_bundle ip link show lo
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
	also_runc lo_is_up
}

delete_created() {
	create_container
	local pid
	pid=$(state_field "$(cid)" pid)
	run ctr delete "$(cid)"
	assert_success
	wait_until process_gone "$pid"
	run ctr state "$(cid)"
	assert_failure
}

@test "delete of a created container deletes it without --force" {
	make_bundle
	also_runc delete_created
}

hostname_sysctl_refused() {
	run ctr run --bundle "$BUNDLE" "$(cid sysctl)"
	assert_failure
	ctr delete -f "$(cid sysctl)" >/dev/null 2>&1 || true
	[[ $output == *kernel.hostname* ]] || fail "$output"
}

@test "linux.sysctl kernel.hostname is refused: the hostname field sets it" {
	make_bundle true
	update_config '.linux.sysctl = {"kernel.hostname": "other"} | .hostname = "c"'
	also_runc hostname_sysctl_refused
	requires_ctr
	assert_output_contains "linux.sysctl: \`kernel.hostname\` is not allowed"
}

# the runtime-spec: a failing poststart or poststop hook is a warning, the rest still run
hooks_go_on() {
	local out=$BATS_TEST_TMPDIR/hooks.$CTR_NAME
	rm -f "$out"
	update_config '.hooks = {poststart: [{path: "/bin/false"},
			{path: "/bin/sh", args: ["sh", "-c", "echo poststart >> " + $o]}],
		poststop: [{path: "/bin/false"},
			{path: "/bin/sh", args: ["sh", "-c", "echo poststop >> " + $o]}]}' \
		--arg o "$out"
	run ctr run --bundle "$BUNDLE" "$(cid hooks)"
	ctr delete -f "$(cid hooks)" >/dev/null 2>&1 || true
	[ "$(cat "$out" 2>/dev/null)" = "poststart
poststop" ] || fail "hooks that ran after the failing ones: $(cat "$out" 2>/dev/null)"
}

@test "after a failing poststart or poststop hook the remaining hooks still run" {
	make_bundle true
	also_runc hooks_go_on
}

kill_zero() {
	run_detached
	run ctr kill "$(cid)" 0
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete -f "$(cid)"
	run ctr kill "$(cid)" 0
	assert_failure
}

@test "kill ID 0 checks that the container exists and signals nothing" {
	make_bundle
	also_runc kill_zero
}

cwd_made() {
	rm -rf "$BUNDLE/rootfs/made"
	run ctr run --bundle "$BUNDLE" "$(cid cwd)"
	assert_success
	[ "$output" = /made/here ] || fail "$output"
	[ -d "$BUNDLE/rootfs/made/here" ]
}

@test "a missing process.cwd is created, also under a read-only root" {
	make_bundle pwd
	update_config '.process.cwd = "/made/here" | .root.readonly = true'
	also_runc cwd_made
}

exec_fails_255() {
	run_detached
	run ctr exec "$(cid)" /no/such/program
	assert_status 255
	run ctr exec --pid-file /no/such/dir/pid "$(cid)" true
	assert_status 255
	ctr pause "$(cid)"
	run ctr exec "$(cid)" true
	assert_status 255
	ctr resume "$(cid)"
	# the process's own 1 stays 1
	run ctr exec "$(cid)" sh -c 'exit 1'
	assert_status 1
	ctr delete -f "$(cid)"
}

@test "exec that fails before its process runs exits 255, apart from the process's own status" {
	make_bundle
	also_runc exec_fails_255
}

device_trailing_slash() {
	run ctr run --bundle "$BUNDLE" "$(cid dev)"
	assert_success
	[[ $output == c*" 1,"*" 3 "*/dev/nul2 ]] || fail "$output"
}

@test "linux.devices[].path with a trailing slash names the device" {
	make_bundle ls -l /dev/nul2
	update_config '.linux.devices = [{path: "/dev/nul2/", type: "c", major: 1, minor: 3}]'
	also_runc device_trailing_slash
}

proc_symlink_refused() {
	run ctr run --bundle "$BUNDLE" "$(cid proc)"
	assert_failure
	ctr delete -f "$(cid proc)" >/dev/null 2>&1 || true
	[[ $output == *proc* ]] || fail "$output"
}

@test "a /proc that is a symlink in the rootfs is refused" {
	make_bundle true
	rm -rf "$BUNDLE/rootfs/proc"
	mkdir "$BUNDLE/rootfs/elsewhere"
	ln -s elsewhere "$BUNDLE/rootfs/proc"
	also_runc proc_symlink_refused
	requires_ctr
	assert_output_contains "a proc mount needs an ordinary directory, and \`/proc\` is not"
}

list_json_keys() {
	run_detached
	run ctr list --format json
	assert_success
	ctr delete -f "$(cid)"
	[ "$(jq -c '.[0] | keys_unsorted' <<<"$output")" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","owner"]' ] ||
		fail "keys: $output"
	[ "$(jq -r '.[0].rootfs' <<<"$output")" = "$BUNDLE/rootfs" ] || fail "rootfs: $output"
}

@test "list --format json has runc's keys in runc's order, ociVersion and rootfs among them" {
	make_bundle
	also_runc list_json_keys
}

shared_cgroup_warns() {
	run_detached
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid second)"
	local second_status=$status second_output=$output
	ctr delete -f "$(cid second)"
	ctr delete -f "$(cid)"
	[ "$second_status" = 0 ] || fail "second container: $second_output"
	[[ $second_output == *"already has 1 process(es)"* ]] || fail "no warning: $second_output"
}

@test "a container whose cgroup already holds processes starts with a warning" {
	requires_ctr
	make_bundle
	update_config '.linux.cgroupsPath = $p' --arg p "/$MARKER-shared"
	shared_cgroup_warns
}

# stdin a terminal (script's), stdout a file: what the program wrote, newlines as they were
tty_newlines() {
	local out=$BATS_TEST_TMPDIR/tty.$CTR_NAME
	CTR_TEST_MARKER=$MARKER script -qec "$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid tty) >$out" /dev/null
	# (runc's pty echoes a NUL it writes as "^@" first: not what this checks)
	[ "$(sed '1s/^\^@//' "$out" | od -An -c | tr -d ' \n')" = 'a\nb\n' ] || fail "output: $(od -c "$out")"
}

@test "a terminal run whose stdout is a file passes newlines through, no carriage returns" {
	command -v script >/dev/null || skip "script not installed (util-linux)"
	make_bundle sh -c 'echo a; echo b'
	update_config '.process.terminal = true'
	also_runc tty_newlines
}

pty_owner() {
	local out=$BATS_TEST_TMPDIR/pty.$CTR_NAME
	CTR_TEST_MARKER=$MARKER script -qec "$CTR --root $STATE_ROOT run --bundle $BUNDLE $(cid pty) >$out" /dev/null
	grep -q 'crw--w---- *1 1000 *5 ' "$out" || fail "run: $(cat "$out")"
	cp "$BUNDLE/config.json" "$BUNDLE/config.pty"
	update_config '.process.terminal = false | .process.user = {uid: 0, gid: 0} | .process.args = ["sleep", "100"]'
	run_detached
	CTR_TEST_MARKER=$MARKER script -qec "$CTR --root $STATE_ROOT exec -t --user 1000:1000 $(cid) sh -c 'ls -ln \$(tty)' >$out" /dev/null
	ctr delete -f "$(cid)"
	mv "$BUNDLE/config.pty" "$BUNDLE/config.json"
	grep -q 'crw--w---- *1 1000 *5 ' "$out" || fail "exec: $(cat "$out")"
}

@test "a terminal's pty belongs to the process's user, for run and for exec -t --user" {
	command -v script >/dev/null || skip "script not installed (util-linux)"
	make_bundle sh -c 'ls -ln $(tty)'
	update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	also_runc pty_owner
}

ns_path_empty() {
	run ctr run --bundle "$BUNDLE" "$(cid ns)"
	assert_success
	[ "$output" != "$(readlink /proc/self/ns/ipc)" ] || fail "the host's ipc namespace: $output"
}

@test "a namespace whose path is empty is a new one" {
	make_bundle readlink /proc/self/ns/ipc
	update_config '.linux.namespaces |= map(if .type == "ipc" then .path = "" else . end)'
	also_runc ns_path_empty
}

@test "exec --cap with an unknown name names the flag" {
	requires_ctr
	make_bundle
	run_detached
	run ctr exec --cap CAP_FOO "$(cid)" true
	assert_status 255
	[ "$output" = "ctr: --cap: unknown capability \`CAP_FOO\`" ] || fail "$output"
	ctr delete -f "$(cid)"
}

exec_console_size() {
	run_detached
	local proc=$BATS_TEST_TMPDIR/process.json out=$BATS_TEST_TMPDIR/size.$CTR_NAME
	jq '.process | .terminal = true | .args = ["stty", "size"] | .consoleSize = {height: 33, width: 77}' \
		"$BUNDLE/config.json" >"$proc"
	CTR_TEST_MARKER=$MARKER script -qec "$CTR --root $STATE_ROOT exec -t -p $proc $(cid) >$out" /dev/null
	ctr delete -f "$(cid)"
	grep -q '^\(\^@\)\{0,1\}33 77' "$out" || fail "size: $(cat "$out")"
}

@test "exec -t honours process.consoleSize" {
	command -v script >/dev/null || skip "script not installed (util-linux)"
	make_bundle
	also_runc exec_console_size
}

options_after_id() {
	local pidf=$BATS_TEST_TMPDIR/pid.$CTR_NAME
	run_logged ctr create --bundle "$BUNDLE" "$(cid)" --pid-file "$pidf"
	assert_success
	[ "$(cat "$pidf")" = "$(state_field "$(cid)" pid)" ] || fail "pid file: $(cat "$pidf")"
	ctr start "$(cid)"
	run ctr update "$(cid)" --pids-limit 50
	assert_success
	run ctr kill "$(cid)" KILL --all
	assert_success
	run ctr delete "$(cid)" --force
	assert_success
}

@test "options after the container id are accepted (create, update, kill, delete)" {
	make_bundle
	also_runc options_after_id
}

run_keep() {
	run ctr run --keep --bundle "$BUNDLE" "$(cid keep)"
	assert_status 3
	[ "$(state_field "$(cid keep)" status)" = stopped ]
	run ctr delete "$(cid keep)"
	assert_success
	run ctr state "$(cid keep)"
	assert_failure
}

@test "run --keep leaves the stopped container for delete" {
	make_bundle sh -c 'exit 3'
	also_runc run_keep
}

exec_ignore_paused() {
	run_detached
	ctr pause "$(cid)"
	run ctr exec "$(cid)" true
	assert_failure
	(ctr exec --ignore-paused "$(cid)" sh -c 'echo ran >/tmp/ran') &
	local bgpid=$!
	sleep 0.5
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ] || fail "ran while paused"
	ctr resume "$(cid)"
	wait "$bgpid" || fail "exec --ignore-paused failed"
	[ "$(cat "$BUNDLE/rootfs/tmp/ran")" = ran ]
	rm -f "$BUNDLE/rootfs/tmp/ran"
	ctr delete -f "$(cid)"
}

@test "exec --ignore-paused runs in a paused container once it is resumed" {
	make_bundle
	update_config '.root.readonly = false'
	mkdir -p "$BUNDLE/rootfs/tmp"
	also_runc exec_ignore_paused
}

exec_sub_cgroup() {
	run_detached
	local d dirs
	dirs=$(find /sys/fs/cgroup -mindepth 1 -type d -name "$(cid)" 2>/dev/null)
	[ -n "$dirs" ] || fail "no cgroup of $(cid)"
	for d in $dirs; do
		mkdir "$d/sub"
		# a new v1 cpuset has no cpus or mems until it is given some
		if [ -e "$d/sub/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	run ctr exec --cgroup sub "$(cid)" cat /proc/self/cgroup
	for d in $dirs; do rmdir "$d/sub" 2>/dev/null || true; done
	ctr delete -f "$(cid)"
	assert_success
	grep -q '/sub$' <<<"$output" || fail "not in sub: $output"
}

@test "exec --cgroup runs the process in an existing sub-cgroup of the container's" {
	make_bundle
	update_config 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	also_runc exec_sub_cgroup
}

update_reservation() {
	run_detached
	run ctr update --memory-reservation 32m "$(cid)"
	assert_success
	ctr delete -f "$(cid)"
}

@test "update --memory-reservation, and Intel RDT refused with the reason" {
	make_bundle
	also_runc update_reservation
	requires_ctr
	run_detached
	run ctr update --l3-cache-schema "L3:0=f" "$(cid)"
	assert_failure
	assert_output_contains "Intel RDT"
	ctr delete -f "$(cid)"
}

@test "every flag of runc's --help is one of ctr's (checkpoint and restore apart)" {
	requires_ctr
	command -v runc >/dev/null || skip "runc not installed (Debian package runc)"
	local v missing=
	for v in create start run exec state list ps kill pause resume update events delete spec features; do
		for f in $(runc "$v" --help | grep -oE '^ +--[a-z0-9-]+' | tr -d ' '); do
			"$CTR" "$v" --help | grep -qE -- "(^| )$f( |,|$)" || missing+=" $v $f"
		done
	done
	[ -z "$missing" ] || fail "missing:$missing"
}

hook_env_and_fds() {
	# startContainer hooks run in the container: they write into its root
	local out=$BUNDLE/rootfs/hook.out
	rm -f "$out" "$out.fds"
	update_config '.root.readonly = false | .hooks = {startContainer: [{path: "/bin/sh",
		args: ["sh", "-c", "ls /proc/self/fd > /hook.out.fds; echo env=$CTR_COMPAT_HOOK > /hook.out"]}]}'
	# fd 7 open in the caller, without CLOEXEC
	CTR_COMPAT_HOOK=inherited run_logged ctr run --bundle "$BUNDLE" "$(cid hook)" 7</etc/hostname
	assert_success
	[ "$(cat "$out")" = env=inherited ] || fail "hook env: $(cat "$out")"
	! grep -qx 7 "$out.fds" || fail "fd 7 reached the hook: $(tr '\n' ' ' <"$out.fds")"
	rm -f "$out" "$out.fds"
}

@test "a hook without env gets the runtime's environment, and no fd its caller left open" {
	make_bundle true
	also_runc hook_env_and_fds
}

@test "run -d into a frozen cgroup returns at once, refused, and leaves nothing" {
	requires_ctr
	make_bundle
	update_config '.linux.cgroupsPath = $p' --arg p "/$MARKER-frozen"
	run_detached
	ctr pause "$(cid)"
	# the helper's timeout turns a hang into a failure (124)
	CTR_TIMEOUT=10 run_logged ctr run -d --bundle "$BUNDLE" "$(cid second)"
	assert_status 1
	assert_output_contains "cgroup /$MARKER-frozen is frozen"
	run ctr state "$(cid second)"
	assert_failure
	ctr resume "$(cid)"
	ctr delete -f "$(cid)"
}

dev_readonly() {
	run ctr run --bundle "$BUNDLE" "$(cid devro)"
	assert_success
	[[ ${lines[0]} == "tmpfs /dev tmpfs ro,"* ]] || fail "/dev: $output"
	[[ $output == *"Read-only file system"* ]] || fail "/dev writable: $output"
	[[ $output == *"null ok"* ]] || fail "/dev/null: $output"
}

@test "a read-only /dev keeps the default devices and mounts, and ends read-only" {
	make_bundle sh -c 'grep " /dev " /proc/self/mounts; touch /dev/x 2>&1; echo x >/dev/null && echo null ok'
	update_config '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
	also_runc dev_readonly
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
