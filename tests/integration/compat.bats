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
	# (script writes a NUL into the pty when its input ends, which the pty echoes as "^@"
	# wherever it falls, for either runtime: not what this checks)
	[ "$(sed 's/\^@//g' "$out" | od -An -c | tr -d ' \n')" = 'a\nb\n' ] || fail "output: $(od -c "$out")"
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

@test "every flag of runc's --help is one of ctr's" {
	requires_ctr
	command -v runc >/dev/null || skip "runc not installed (Debian package runc)"
	local v missing=
	for v in create start run exec state list ps kill pause resume update events delete spec features \
		checkpoint restore; do
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

# runtime-spec 1.3: linux.memoryPolicy is set_mempolicy(2) in the container process (runc 1.3
# and crun do the same; runc 1.1 ignores the key, so runc here does not agree)
memory_policy_bind() {
	run ctr run --bundle "$BUNDLE" "$(cid mpol)"
	assert_success
	[ "${lines[0]}" = "bind:0" ] || fail "$output"
}

@test "linux.memoryPolicy MPOL_BIND on node 0 is the container process's policy" {
	[ -e /sys/devices/system/node/node0 ] || skip "no NUMA node 0 on this host"
	make_bundle sh -c 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0"}'
	also_runc memory_policy_bind
	update_config '.linux.memoryPolicy = {mode: "MPOL_INTERLEAVE", nodes: "0",
		flags: ["MPOL_F_STATIC_NODES"]}'
	run ctr run --bundle "$BUNDLE" "$(cid mpol2)"
	assert_success
	[ "${lines[0]}" = "interleave=static:0" ] || fail "$output"
}

@test "linux.memoryPolicy: an unknown mode or a node the host lacks fails create, naming the value" {
	[ -e /sys/devices/system/node/node0 ] || skip "no NUMA node 0 on this host"
	requires_ctr
	make_bundle true
	update_config '.linux.memoryPolicy = {mode: "MPOL_FOO", nodes: "0"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'config.json: linux.memoryPolicy.mode: unknown mode "MPOL_FOO"'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0,99"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'config.json: linux.memoryPolicy.nodes: node 99 of "0,99" is not on this host'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_NOPE"]}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'linux.memoryPolicy.flags[0]: unknown flag "MPOL_F_NOPE"'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'linux.memoryPolicy.nodes: required with mode MPOL_BIND'
	run ctr list -q
	[ -z "$output" ] || fail "left: $output"
	run ctr features
	jq -e '.linux.memoryPolicy.modes | index("MPOL_WEIGHTED_INTERLEAVE")' <<<"$output" >/dev/null ||
		fail "features: $output"
}

# runtime-spec 1.2: an idmapped bind mount (runc 1.2 and crun do it; runc 1.1 refuses or
# ignores the mappings)
idmapped_bind() {
	run ctr run --bundle "$BUNDLE" "$(cid idm)"
	assert_success
	[ "$output" = "0:0" ] || fail "$output"
}

@test "an idmapped bind mount shows the source's uid 1000 as the mapped root" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	touch "$src/owned"
	chown -R 1000:1000 "$src"
	make_bundle stat -c %u:%g /data/owned
	update_config '.mounts += [{destination: "/data", type: "bind", source: $s,
		options: ["bind", "idmap"],
		uidMappings: [{containerID: 1000, hostID: 0, size: 1}],
		gidMappings: [{containerID: 1000, hostID: 0, size: 1}]}]' --arg s "$src"
	also_runc idmapped_bind
}

# The capability lines (/proc/self/status, through the helper) of a program that a
# non-root process executes: a copy of the helper, root's, mode 0744 (no execute bit for
# the process) or setuid root (4755).
prepare_program_caps() {
	make_bundle /opt/th caps
	mkdir -p "$BUNDLE/rootfs/opt"
	cp "$BUNDLE/rootfs$TH" "$BUNDLE/rootfs/opt/th"
	cp "$BUNDLE/rootfs$TH" "$BUNDLE/rootfs/opt/suid"
	chown 0:0 "$BUNDLE/rootfs/opt/th" "$BUNDLE/rootfs/opt/suid"
	chmod 0744 "$BUNDLE/rootfs/opt/th"
	chmod 4755 "$BUNDLE/rootfs/opt/suid"
	update_config '.process.user = {uid: 1000, gid: 1000}'
}

program_caps() {
	run ctr run --bundle "$BUNDLE" "$(cid caps)"
	assert_success || return 1
	grep '^Cap' <<<"$output"
}

# same_caps_as_runc: prints ctr's program_caps, having failed unless runc (when installed)
# gives the very same sets for the same config.
same_caps_as_runc() {
	local mine theirs runc
	mine=$(program_caps) || return 1
	if runc=$(command -v runc); then
		theirs=$(
			CTR=$runc CTR_NAME=runc STATE_ROOT=$(mktemp -d "$BATS_TEST_TMPDIR/runc.XXXXXX")
			program_caps
		) || fail "runc failed: $theirs" || return 1
		[ "$mine" = "$theirs" ] ||
			fail "$(jq -c .process.capabilities "$BUNDLE/config.json"): ctr: $mine; runc: $theirs" ||
			return 1
	fi
	echo "$mine"
}

# caps_are SET NAMES: in $output (program_caps lines), SET holds exactly NAMES.
caps_are() {
	[ "$(awk -v s="$1" '$1 == s {print $3}' <<<"$output")" = "$2" ] ||
		fail "$1: expected $2; got: $output"
}

@test "a non-root process with CAP_DAC_OVERRIDE effective, not ambient, executes a 0744 program of root's, with runc's sets" {
	prepare_program_caps
	update_config '.process.capabilities = {bounding: ["CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_CHOWN"],
		permitted: ["CAP_DAC_OVERRIDE", "CAP_KILL"], effective: ["CAP_DAC_OVERRIDE"]}'
	output=$(same_caps_as_runc)
	caps_are CapBnd CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_KILL
	# the kernel's rule for a non-root execve: only the ambient set survives
	for set in CapInh CapPrm CapEff CapAmb; do caps_are $set -; done
	update_config '.process.noNewPrivileges = false'
	output=$(same_caps_as_runc)
	for set in CapInh CapPrm CapEff CapAmb; do caps_are $set -; done
	# ambient capabilities of its own, and an inheritable one that is not ambient
	update_config '.process.capabilities += {inheritable: ["CAP_DAC_OVERRIDE", "CAP_KILL"],
		ambient: ["CAP_KILL"]}'
	output=$(same_caps_as_runc)
	caps_are CapInh CAP_DAC_OVERRIDE,CAP_KILL
	caps_are CapAmb CAP_KILL
	caps_are CapPrm CAP_KILL
	caps_are CapEff CAP_KILL
	update_config '.process.noNewPrivileges = true'
	output=$(same_caps_as_runc)
	caps_are CapAmb CAP_KILL
	caps_are CapEff CAP_KILL
}

@test "a non-root process's setuid-root and file-capability programs get runc's sets, with and without no_new_privs" {
	command -v setcap >/dev/null || skip "setcap not installed (apt-get install libcap2-bin)"
	prepare_program_caps
	cp "$BUNDLE/rootfs$TH" "$BUNDLE/rootfs/opt/fcap"
	setcap cap_kill,cap_chown+ep "$BUNDLE/rootfs/opt/fcap"
	set_args /opt/suid caps
	update_config '.process.capabilities = {bounding: ["CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_CHOWN"],
		permitted: ["CAP_DAC_OVERRIDE", "CAP_KILL"], effective: ["CAP_DAC_OVERRIDE"]}
		| .process.noNewPrivileges = false'
	output=$(same_caps_as_runc)
	caps_are CapPrm CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_KILL
	set_args /opt/fcap caps
	output=$(same_caps_as_runc)
	caps_are CapPrm CAP_CHOWN,CAP_KILL
	# no_new_privs: the setuid bit is ignored, and file capabilities give no more than the
	# process was permitted before its execve
	update_config '.process.noNewPrivileges = true'
	output=$(same_caps_as_runc)
	caps_are CapPrm CAP_KILL
	caps_are CapEff CAP_KILL
	set_args /opt/suid caps
	output=$(same_caps_as_runc)
	caps_are CapPrm -
	caps_are CapBnd CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_KILL
}

no_effective_no_exec() {
	run ctr run --bundle "$BUNDLE" "$(cid caps)"
	ctr delete -f "$(cid caps)" >/dev/null 2>&1 || true
	assert_failure
	[[ $output == *"ermission denied"* ]] || fail "$output"
}

@test "a non-root process with CAP_DAC_OVERRIDE ambient but not effective cannot execute a 0744 program of root's" {
	prepare_program_caps
	update_config '.process.capabilities = {bounding: ["CAP_DAC_OVERRIDE"],
		permitted: ["CAP_DAC_OVERRIDE"], inheritable: ["CAP_DAC_OVERRIDE"],
		ambient: ["CAP_DAC_OVERRIDE"], effective: []}'
	also_runc no_effective_no_exec
}

exec_dac_override() {
	run_detached
	run ctr exec --user 1000:1000 --cap CAP_DAC_OVERRIDE "$(cid)" /opt/th caps
	ctr delete -f "$(cid)"
	assert_success
	grep '^Cap' <<<"$output" >"$BATS_TEST_TMPDIR/exec-caps.$CTR_NAME"
}

@test "exec --user 1000 --cap CAP_DAC_OVERRIDE executes a 0744 program of root's, with runc's sets" {
	prepare_program_caps
	set_args "$TH" sleep 3600
	update_config '.process.user = {uid: 0, gid: 0}'
	also_runc exec_dac_override
	output=$(cat "$BATS_TEST_TMPDIR/exec-caps.ctr")
	for set in CapInh CapPrm CapEff CapAmb; do caps_are $set -; done
	if [ -e "$BATS_TEST_TMPDIR/exec-caps.runc" ]; then
		diff "$BATS_TEST_TMPDIR/exec-caps.ctr" "$BATS_TEST_TMPDIR/exec-caps.runc" ||
			fail "runc's sets differ"
	fi
}

# Runs in a mount namespace of its own (unshare -m), which is "the caller's" for the
# runtime: runc would otherwise make the host's "/" rslave and leave its mounts there.
shares_callers_mount_ns() {
	run unshare -m --propagation unchanged sh -c 'readlink /proc/self/ns/mnt
		"$1" --root "$2" run --bundle "$3" "$4"' sh "$CTR" "$STATE_ROOT" "$BUNDLE" "$(cid shared)"
	assert_success
	[ "${lines[0]}" = "${lines[1]}" ] || fail "not the caller's mount namespace: $output"
	[ "${lines[2]}" = "$TH" ] || fail "not chrooted into the rootfs: $output"
	[ "${lines[3]}" = "/dev/null" ] || fail "no /dev of its own: $output"
}

@test "without a mount namespace the container shares the caller's, chrooted into its root" {
	make_bundle sh -c "readlink /proc/self/ns/mnt; ls $TH; ls /dev/null"
	update_config '.linux.namespaces |= map(select(.type != "mount"))
		| del(.linux.maskedPaths) | del(.linux.readonlyPaths)'
	also_runc shares_callers_mount_ns
	requires_ctr
	# in the host's namespace: its mounts live in the container's state, gone with it
	run_detached
	grep -qF "$STATE_ROOT/$(cid)/root " /proc/self/mountinfo || fail "no root in the state"
	ctr delete -f "$(cid)"
	run grep -F "$STATE_ROOT" /proc/self/mountinfo
	assert_failure
	# nothing can be masked in a namespace that is not the container's (runc refuses too)
	update_config '.linux.maskedPaths = ["/proc/kcore"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "linux.maskedPaths: needs a mount namespace"
}

own_mount_ns() {
	[ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

# A namespace of its own for each runtime: both set the container up in it, pivot_root
# included, which moves the holder's root too.
joins_mount_ns() {
	local holder
	bg unshare -m --propagation private sleep 600
	holder=${BG_PIDS[-1]}
	wait_until own_mount_ns "$holder"
	update_config '.linux.namespaces |= map(if .type == "mount" then .path = $p else . end)' \
		--arg p "/proc/$holder/ns/mnt"
	local want
	want=$(readlink "/proc/$holder/ns/mnt")
	run ctr run --bundle "$BUNDLE" "$(cid join)"
	kill "$holder"
	assert_success
	[ "$output" = "$want" ] || fail "$output"
}

@test "a mount namespace is joined by path" {
	make_bundle readlink /proc/self/ns/mnt
	also_runc joins_mount_ns
}

joins_userns_without_maps() {
	run ctr run --bundle "$BUNDLE" "$(cid userns)"
	assert_success
	[ "$(echo "${lines[0]}" | tr -s ' ')" = " 0 100000 65536" ] || fail "$output"
	[ "${lines[1]}" = 0 ] || fail "$output"
}

@test "a user namespace joined by path needs no uid/gid mappings in the config" {
	requires_namespace user
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	make_bundle
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))'
	run_detached
	local pid
	pid=$(state_field "$(cid)" pid)
	make_bundle sh -c 'cat /proc/self/uid_map; id -u'
	update_config '.linux.namespaces += [{type: "user", path: $p}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))' \
		--arg p "/proc/$pid/ns/user"
	# runc 1.1 refuses ("no uid mappings found"); runc 1.2 and crun read the joined maps
	also_runc joins_userns_without_maps
}

bind_source_of_host_root() {
	run ctr run --bundle "$BUNDLE" "$(cid bind)"
	assert_success
	[ "$output" = private ] || fail "$output"
}

@test "a bind source the container's mapped root cannot reach is opened by the host" {
	requires_namespace user
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	make_bundle cat /data/f
	mkdir "$BUNDLE/rootfs/data"
	mkdir -p "$BATS_TEST_TMPDIR/secret/data"
	echo private >"$BATS_TEST_TMPDIR/secret/data/f"
	chmod 0700 "$BATS_TEST_TMPDIR/secret"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))
		| .mounts += [{destination: "/data", type: "bind", source: $s, options: ["rbind", "ro"]}]' \
		--arg s "$BATS_TEST_TMPDIR/secret/data"
	also_runc bind_source_of_host_root
}

mount_onto_root() {
	run ctr run --bundle "$BUNDLE" "$(cid root)"
	assert_success
	[ "${lines[0]}" = other ] || fail "$output"
	assert_output_contains "Read-only file system"
}

@test "a mount onto / becomes the container's root" {
	make_bundle sh -c 'cat /marker; touch /x 2>&1; ls /proc/self/ns >/dev/null && echo proc'
	cp -a "$BUNDLE/rootfs" "$BATS_TEST_TMPDIR/other"
	echo other >"$BATS_TEST_TMPDIR/other/marker"
	# first in the list: the later mounts (/proc, /dev ...) go into the new root
	update_config '.mounts = [{destination: "/", type: "bind", source: $s,
		options: ["rbind", "ro"]}] + .mounts' --arg s "$BATS_TEST_TMPDIR/other"
	also_runc mount_onto_root
	assert_output_contains proc
}

no_pivot_private_refused() {
	run ctr run --no-pivot --bundle "$BUNDLE" "$(cid nopivot)"
	assert_failure
	run ctr run --no-pivot --bundle "$BUNDLE.ok" "$(cid nopivot)"
	assert_success
	[ "$output" = "mounted
unshared" ] || fail "$output"
}

@test "--no-pivot refuses a private rootfsPropagation, and gives a working mount namespace" {
	make_bundle sh -c 'mount -t tmpfs t /mnt && echo mounted; unshare -m true && echo unshared'
	mkdir -p "$BUNDLE/rootfs/mnt"
	update_config '.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"]) | del(.linux.seccomp)'
	mkdir "$BUNDLE.ok"
	jq '.root.path = $r' --arg r "$BUNDLE/rootfs" "$BUNDLE/config.json" >"$BUNDLE.ok/config.json"
	update_config '.linux.rootfsPropagation = "rprivate"'
	also_runc no_pivot_private_refused
	requires_ctr
	run ctr run --no-pivot --bundle "$BUNDLE" "$(cid nopivot)"
	assert_output_contains "linux.rootfsPropagation: \`rprivate\` is not safe with --no-pivot"
}

device_access_sets() {
	local a
	for a in rwm mrw rrrw wwwwr; do
		update_config '.linux.resources.devices[1].access = $a' --arg a "$a"
		run ctr run --bundle "$BUNDLE" "$(cid dev)"
		assert_success
		[ "$output" = "w-ok r-ok" ] || fail "access $a: $output"
	done
	update_config '.linux.resources.devices[1].access = "wm"'
	run ctr run --bundle "$BUNDLE" "$(cid dev)"
	[ "$output" = "w-ok r-denied" ] || fail "access wm: $output"
	for a in '""' null; do
		update_config ".linux.resources.devices[1].access = $a"
		run ctr run --bundle "$BUNDLE" "$(cid dev)"
		assert_failure
		ctr delete -f "$(cid dev)" >/dev/null 2>&1 || true
	done
}

@test "device access letters in any order and repeated name their set; an empty access is refused" {
	make_bundle sh -c '(: >/dev/loop-control) 2>/dev/null && echo -n w-ok || echo -n w-denied
		(: </dev/loop-control) 2>/dev/null && echo " r-ok" || echo " r-denied"'
	update_config '.linux.devices = [{path: "/dev/loop-control", type: "c", major: 10, minor: 237}]
		| .linux.resources.devices = [{allow: false, access: "rwm"},
			{allow: true, type: "c", major: 10, minor: 237, access: "rwm"}]'
	also_runc device_access_sets
	requires_ctr
	assert_output_contains "linux.resources.devices[1].access: required, and must not be empty"
}

# Which parts of a writable /sys/fs/cgroup the container may write: NAME:rw or NAME:ro for
# each hierarchy (a sub-cgroup made and removed), and the tmpfs above them on v1.
cgroup_rw_probe() {
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	local expected
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		# cgroup2: the namespace's root is the container's own cgroup; the kernel guards its
		# limits (cgroup.max.depth is not delegatable) only when the host mounted cgroup2
		# with nsdelegate (systemd does)
		if grep -qE '^cgroup2 /sys/fs/cgroup cgroup2 .*nsdelegate' /proc/mounts; then
			expected="/:rw limits:ro"
		else
			expected="/:rw limits:rw"
		fi
	else
		expected=$(for d in /sys/fs/cgroup/*/; do
			d=$(basename "$d")
			[ -L "/sys/fs/cgroup/$d" ] && continue
			case $d in systemd | unified) echo "$d:rw" ;; *) echo "$d:ro" ;; esac
		done | sort | tr '\n' ' ')"tmpfs:ro"
	fi
	[ "$output" = "$expected" ] || fail "expected: $expected; got: $output"
}

@test "a writable cgroup mount in a cgroup namespace: the own subtree writable, v1 controllers not" {
	make_bundle /bin/sh -c '
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			mkdir /sys/fs/cgroup/probe 2>/dev/null && rmdir /sys/fs/cgroup/probe && r=rw || r=ro
			echo 0 2>/dev/null >/sys/fs/cgroup/cgroup.max.depth && l=rw || l=ro
			echo "/:$r limits:$l"; exit 0
		fi
		for d in /sys/fs/cgroup/*/; do
			[ -L "${d%/}" ] && continue
			n=$(basename "$d")
			mkdir "$d/probe" 2>/dev/null && rmdir "$d/probe" && echo "$n:rw" || echo "$n:ro"
		done | sort | tr "\n" " "
		mkdir /sys/fs/cgroup/probe 2>/dev/null && rmdir /sys/fs/cgroup/probe && echo tmpfs:rw || echo tmpfs:ro'
	update_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{type: "cgroup"}])
		| (.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= (map(select(. != "ro")) + ["rw"])'
	also_runc cgroup_rw_probe
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

# `update` changes the cgroup only: the bundle is the engine's, and a restart starts from it
# (ctr keeps new limits only for its own system containers: system_config.bats)
update_leaves_bundle() {
	local before
	before=$(sha256sum "$BUNDLE/config.json")
	run_detached
	run ctr update --memory 64M --pids-limit 20 "$(cid)"
	assert_success
	[ "$before" = "$(sha256sum "$BUNDLE/config.json")" ] || fail "update rewrote config.json"
	ctr delete -f "$(cid)" >/dev/null 2>&1
}

@test "update of an OCI container leaves its bundle's config.json as it was" {
	make_bundle sleep 100
	also_runc update_leaves_bundle
}
