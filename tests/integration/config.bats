#!/usr/bin/env bats
# config.bats: every config.json section is honoured inside the container.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# run_container: foreground `run` of $BUNDLE, output in $output.
# run_container: foreground `run` of $BUNDLE; the container's stdout in $output, stderr
# in $stderr.
run_container() {
	run --separate-stderr ctr run --bundle "$BUNDLE" "$(cid)"
}

@test "process.args and process.env" {
	make_bundle "$TH" env
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY=", "CTR_TEST_MARKER=" + $m]' --arg m "$MARKER"
	HOST_ONLY=1 run_container
	assert_success
	grep -qx "FOO=bar baz" <<<"$output" || fail "$output"
	assert_output_contains "EMPTY=" "PATH=/bin"
	assert_output_not_contains HOST_ONLY
	assert_output_not_contains BATS_
}

@test "process.args[0] is looked up in the container's PATH" {
	make_bundle ctr-testhelper exit 4
	update_config '.process.env = ["PATH=/nowhere:/bin"]'
	run_container
	assert_status 4
}

@test "process.cwd" {
	make_bundle "$TH" cwd
	mkdir -p "$BUNDLE/rootfs/srv/work"
	update_config '.process.cwd = "/srv/work"'
	run_container
	assert_success
	[ "$output" = /srv/work ]
}

@test "process.user uid, gid and additionalGids" {
	make_bundle "$TH" id
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20]}'
	run_container
	assert_success
	[ "$output" = "uid=1000 gid=1001 groups=10,20" ] || fail "$output"
}

@test "process.user without additionalGids has no supplementary groups" {
	make_bundle "$TH" id
	update_config '.process.user = {uid: 65534, gid: 65534}'
	run_container
	assert_success
	[ "$output" = "uid=65534 gid=65534 groups=" ] || fail "$output"
}

@test "process.user.umask" {
	make_bundle "$TH" umask
	update_config '.process.user.umask = 63' # 0077
	run_container
	assert_success
	[ "$output" = 0077 ]
	make_bundle "$TH" umask
	run_container
	assert_success
	[ "$output" = 0022 ] # the default
}

@test "process.rlimits" {
	make_bundle sh -c "$TH rlimit NOFILE; $TH rlimit CORE; $TH rlimit NPROC"
	update_config '.process.rlimits = [
		{type: "RLIMIT_NOFILE", soft: 123, hard: 456},
		{type: "RLIMIT_CORE", soft: 0, hard: 1024},
		{type: "RLIMIT_NPROC", soft: 77, hard: 77}]'
	run_container
	assert_success
	[ "${lines[0]}" = "123 456" ]
	[ "${lines[1]}" = "0 1024" ]
	[ "${lines[2]}" = "77 77" ]
}

@test "process.noNewPrivileges" {
	make_bundle "$TH" nnp
	update_config '.process.noNewPrivileges = true'
	run_container
	assert_success
	[ "$output" = 1 ]
	update_config '.process.noNewPrivileges = false'
	run_container
	assert_success
	[ "$output" = 0 ]
}

@test "process.capabilities for root" {
	make_bundle "$TH" caps
	update_config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_KILL"], permitted: ["CAP_CHOWN", "CAP_KILL"],
		inheritable: [], ambient: []}'
	run_container
	assert_success
	assert_output_contains "CapBnd 0000000000000421 CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE" \
		"CapEff 0000000000000021 CAP_CHOWN,CAP_KILL" "CapPrm 0000000000000021 " \
		"CapInh 0000000000000000 -" "CapAmb 0000000000000000 -"
}

# ctr with the signals SIGS (numbers) ignored, as a shell's `trap ''` or an engine may leave
# them; glibc's own 32 and 33 too, which only the raw system call sets (the test helper)
ctr_ignoring() {
	local sigs=$1
	shift
	# shellcheck disable=SC2086 # one number per word
	CTR_TEST_MARKER=$MARKER timeout --foreground -k 5 30 "$HOST_TH" ignore-exec $sigs -- \
		"$CTR" --root "$STATE_ROOT" "$@"
}

@test "the process starts with every signal at its default, whatever ctr's caller ignored" {
	make_bundle cat /proc/self/status
	run ctr_ignoring "1 2 3 13 10 15 28 32 33 34" run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains "$(printf 'SigIgn:\t0000000000000000')"
	update_config '.process.args = ["sleep", "100"]'
	run_detached
	run ctr_ignoring "1 13 12 32 33" exec "$(cid)" cat /proc/self/status
	assert_success
	assert_output_contains "$(printf 'SigIgn:\t0000000000000000')"
	# the check itself: the helper does leave them ignored (HUP, USR2, PIPE, 32, 33)
	run "$HOST_TH" ignore-exec 1 13 12 32 33 -- grep SigIgn /proc/self/status
	assert_output_contains "$(printf 'SigIgn:\t0000000180001801')"
	ctr delete -f "$(cid)"
}

@test "process.capabilities: ambient capabilities of a non-root user" {
	make_bundle "$TH" caps
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
			effective: ["CAP_NET_BIND_SERVICE"], permitted: ["CAP_NET_BIND_SERVICE"],
			inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
	run_container
	assert_success
	assert_output_contains "CapEff 0000000000000400 CAP_NET_BIND_SERVICE" \
		"CapAmb 0000000000000400 CAP_NET_BIND_SERVICE" \
		"CapBnd 0000000000000420 CAP_KILL,CAP_NET_BIND_SERVICE"
}

@test "no capabilities at all" {
	make_bundle "$TH" caps
	update_config 'del(.process.capabilities)'
	run_container
	assert_success
	assert_output_contains "CapEff 0000000000000000 -" "CapBnd 0000000000000000 -"
}

@test "process.oomScoreAdj" {
	make_bundle "$TH" oom
	update_config '.process.oomScoreAdj = 123'
	run_container
	assert_success
	[ "$output" = 123 ]
}

@test "hostname" {
	make_bundle "$TH" hostname
	update_config '.hostname = "ctr-box"'
	run_container
	assert_success
	[ "$output" = ctr-box ]
	[ "$(hostname)" != ctr-box ]
}

@test "domainname" {
	[ "$CTR_NAME" != runc ] || skip "runc 1.1 ignores domainname"
	make_bundle "$TH" domainname
	update_config '.domainname = "example.test"'
	run_container
	assert_success
	[ "$output" = example.test ]
}

@test "root.readonly" {
	make_bundle sh -c "$TH write /file; $TH write /dev/shm/file"
	update_config '.root.readonly = true'
	run_container
	[ "${lines[0]}" = EROFS ] || fail "$output"
	[ "${lines[1]}" = ok ] || fail "$output"
	[ ! -e "$BUNDLE/rootfs/file" ]
}

@test "a writable root" {
	make_bundle "$TH" write /file hello
	update_config '.root.readonly = false'
	run_container
	assert_success
	[ "$(cat "$BUNDLE/rootfs/file")" = hello ]
}

@test "mounts: read-only bind mount" {
	mkdir -p "$BATS_TEST_TMPDIR/data"
	echo host-data >"$BATS_TEST_TMPDIR/data/f"
	make_bundle sh -c "$TH read /data/f; $TH write /data/g"
	update_config '.mounts += [{destination: "/data", type: "bind", source: $s,
		options: ["bind", "ro"]}]' --arg s "$BATS_TEST_TMPDIR/data"
	run_container
	[ "${lines[0]}" = host-data ] || fail "$output"
	[ "${lines[1]}" = EROFS ] || fail "$output"
	[ ! -e "$BATS_TEST_TMPDIR/data/g" ]
}

@test "mounts: read-write bind mount of a file onto a created target" {
	echo one >"$BATS_TEST_TMPDIR/file"
	make_bundle "$TH" write /etc/deep/dir/file two
	update_config '.mounts += [{destination: "/etc/deep/dir/file", type: "bind", source: $s,
		options: ["rbind", "rw"]}]' --arg s "$BATS_TEST_TMPDIR/file"
	run_container
	assert_success
	[ "$(cat "$BATS_TEST_TMPDIR/file")" = two ]
}

@test "mounts: tmpfs with options" {
	make_bundle sh -c "$TH stat /scratch; grep ' /scratch ' /proc/self/mountinfo"
	update_config '.mounts += [{destination: "/scratch", type: "tmpfs", source: "tmpfs",
		options: ["nosuid", "nodev", "noexec", "size=1m", "mode=1770"]}]'
	run_container
	assert_success
	[[ ${lines[0]} == "dir "*" 1770 "* ]] || fail "$output"
	[[ ${lines[1]} == *nosuid*nodev*noexec*" - tmpfs "*size=1024k* ]] || fail "$output"
}

@test "mounts: proc and sysfs" {
	make_bundle sh -c "grep -E ' /(proc|sys) ' /proc/self/mountinfo; $TH read /proc/1/comm"
	run_container
	assert_success
	assert_output_contains " - proc " " - sysfs " ctr-testhelper
}

@test "mounts are made in the order given" {
	mkdir -p "$BATS_TEST_TMPDIR/outer" "$BATS_TEST_TMPDIR/inner"
	echo inner >"$BATS_TEST_TMPDIR/inner/f"
	make_bundle "$TH" read /a/b/f
	update_config '.mounts += [
		{destination: "/a", type: "bind", source: $o, options: ["bind"]},
		{destination: "/a/b", type: "bind", source: $i, options: ["bind"]}]' \
		--arg o "$BATS_TEST_TMPDIR/outer" --arg i "$BATS_TEST_TMPDIR/inner"
	run_container
	assert_success
	[ "$output" = inner ]
}

@test "namespaces: new ones differ from the host's" {
	make_bundle sh -c 'for n in net uts ipc mnt pid; do readlink /proc/self/ns/$n; done'
	run_container
	assert_success
	for n in net uts ipc mnt pid; do
		assert_output_not_contains "$(readlink /proc/self/ns/$n)"
	done
}

@test "namespaces: a namespace omitted from the config is the host's" {
	make_bundle readlink /proc/self/ns/net
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	run_container
	assert_success
	[ "$output" = "$(readlink /proc/self/ns/net)" ]
}

@test "namespaces: joined by path" {
	make_bundle
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid a)"
	assert_success
	pid=$(state_field "$(cid a)" pid)
	update_config '.linux.namespaces |= map(if .type == "network" or .type == "uts" or .type == "ipc"
		then .path = "/proc/\($p)/ns/" + ({network: "net", uts: "uts", ipc: "ipc"}[.type]) else . end)
		| .process.args = ["sh", "-c", "for n in net uts ipc mnt; do readlink /proc/self/ns/$n; done"]
		| .hostname = null' --arg p "$pid"
	run ctr run --bundle "$BUNDLE" "$(cid b)"
	assert_success
	[ "${lines[0]}" = "$(readlink "/proc/$pid/ns/net")" ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/uts")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$pid/ns/ipc")" ]
	[ "${lines[3]}" != "$(readlink "/proc/$pid/ns/mnt")" ]
	ctr delete --force "$(cid a)"
}

@test "namespaces: joining a namespace held by another process" {
	unshare --uts --mount-proc --fork --pid sh -c 'hostname held-elsewhere; exec sleep 60' &
	BG_PIDS+=($!)
	wait_until pgrep -P $! sleep
	holder=$(pgrep -P $! sleep)
	make_bundle "$TH" hostname
	update_config '.linux.namespaces |= map(if .type == "uts" then .path = $p else . end) | .hostname = null' \
		--arg p "/proc/$holder/ns/uts"
	run_container
	assert_success
	[ "$output" = held-elsewhere ]
}

@test "namespaces: user namespace with id mappings" {
	requires_namespace user
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	make_bundle sh -c "$TH uidmap; $TH id"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))'
	run_container
	assert_success
	[[ ${lines[0]} =~ ^\ +0\ +100000\ +65536$ ]] || fail "$output"
	[[ ${lines[1]} =~ ^\ +0\ +200000\ +65536$ ]] || fail "$output"
	[ "${lines[2]}" = "uid=0 gid=0 groups=" ]
}

@test "namespaces: a new user namespace together with a joined network namespace" {
	# the slow path: the child joins first, then unshares, and asks for the id maps
	requires_namespace user
	command -v ip >/dev/null || skip "ip (iproute2) not installed"
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	local ns="ctr-test-$BATS_TEST_NUMBER-$$"
	ip netns add "$ns"
	make_bundle sh -c "$TH uidmap; readlink /proc/self/ns/net; $TH pid"
	update_config '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
			+ [{type: "user"}, {type: "network", path: $p}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))' \
		--arg p "/run/netns/$ns"
	run_container
	local want="net:[$(stat -L -c %i "/run/netns/$ns")]"
	ip netns del "$ns"
	assert_success
	[[ ${lines[0]} =~ ^\ +0\ +100000\ +65536$ ]] || fail "$output"
	[ "${lines[2]}" = "$want" ] || fail "not in the joined netns $want: $output"
	[ "${lines[3]}" = 1 ] || fail "not pid 1: $output"
}

@test "linux.devices: a device node is created" {
	make_bundle sh -c "$TH stat /dev/ctr-zero; $TH read /dev/ctr-zero | head -c 4 | od -An -tx1"
	update_config '.linux.devices = [{path: "/dev/ctr-zero", type: "c", major: 1, minor: 5,
		fileMode: 432, uid: 0, gid: 0}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 5, access: "rwm"}]'
	run_container
	assert_success
	[ "${lines[0]}" = "char 1:5 0660 0:0" ] || fail "$output"
	[[ ${lines[1]} == *"00 00 00 00"* ]] || fail "$output"
}

@test "default devices are present and usable" {
	make_bundle sh -c "for d in null zero full random urandom tty; do $TH stat /dev/\$d; done; echo x > /dev/null && echo null-ok; for l in fd stdin ptmx; do readlink /dev/\$l; done"
	run_container
	assert_success
	assert_output_contains "char 1:3 0666" "char 1:5 0666" "char 1:7 0666" "char 1:8 0666" \
		"char 1:9 0666" "char 5:0 0666" null-ok /proc/self/fd pts/ptmx
}

@test "devices not allowed are not usable" {
	make_bundle sh -c "mknod /dev/sda-ctr b 8 0 && $TH open /dev/sda-ctr"
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	run_container
	assert_failure
	assert_output_not_contains ok
}

@test "linux.maskedPaths" {
	# the default list; which of its files exist depends on the kernel
	for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug ""; do
		[ -e "$f" ] && break
	done
	[ -n "$f" ] || skip "none of the masked /proc files exists on this kernel"
	make_bundle sh -c "wc -c < $f; ls /sys/firmware | wc -l; $TH stat $f"
	run_container
	assert_success
	[ "${lines[0]}" = 0 ] || fail "$output"
	[ "${lines[1]}" = 0 ] || fail "$output"
	[[ ${lines[2]} == "char 1:3 "* ]] || fail "$output"
}

@test "linux.maskedPaths from the config" {
	make_bundle sh -c "$TH read /etc/secret; ls /srv/secret-dir | wc -l"
	echo secret >"$BUNDLE/rootfs/etc/secret"
	mkdir -p "$BUNDLE/rootfs/srv/secret-dir"
	touch "$BUNDLE/rootfs/srv/secret-dir/a"
	update_config '.linux.maskedPaths = ["/etc/secret", "/srv/secret-dir"]'
	run_container
	assert_success
	assert_output_not_contains secret
	[ "${lines[-1]}" = 0 ]
}

@test "linux.readonlyPaths" {
	make_bundle sh -c "$TH write /proc/sys/kernel/domainname x; $TH write /srv/ro/f"
	mkdir -p "$BUNDLE/rootfs/srv/ro"
	update_config '.linux.readonlyPaths += ["/srv/ro"]'
	run_container
	[ "${lines[0]}" = EROFS ] || fail "$output"
	[ "${lines[1]}" = EROFS ] || fail "$output"
}

@test "linux.sysctl in a new network namespace" {
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	make_bundle "$TH" read /proc/sys/net/ipv4/ip_forward
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	run_container
	assert_success
	[ "$output" = 1 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
}

@test "linux.sysctl of a host namespace is refused" {
	make_bundle "$TH" exit 0
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .linux.namespaces |= map(select(.type != "network"))'
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	run_container
	assert_failure
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
}

@test "linux.seccomp: a denied syscall fails with the configured errno" {
	make_bundle sh -c "$TH seccomp; mkdir /newdir && echo made"
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	run_container
	[ "${lines[0]}" = 2 ] || fail "$output"
	[[ $stderr == *"Operation not permitted"* ]] || fail "stderr: $stderr"
	assert_output_not_contains made
	[ ! -e "$BUNDLE/rootfs/newdir" ]
}

@test "without linux.seccomp there is no filter" {
	make_bundle "$TH" seccomp
	update_config 'del(.linux.seccomp)'
	run_container
	assert_success
	[ "$output" = 0 ]
}

@test "annotations appear in state" {
	make_bundle
	update_config '.annotations = {"org.example.key": "value", "org.example.other": "x y"}'
	create_container
	run ctr state "$(cid)"
	assert_success
	[ "$(jq -r '.annotations["org.example.key"]' <<<"$output")" = value ]
	[ "$(jq -r '.annotations["org.example.other"]' <<<"$output")" = "x y" ]
	ctr delete --force "$(cid)"
}

# hook STAGE: a hook that saves its state JSON as $HOOKS/STAGE.json (a host path).
hook() {
	jq -nc --arg s "$HOOKS/$1.json" '{path: "/bin/sh", args: ["sh", "-c", "cat > \"$0\"", $s]}'
}

@test "hooks run at each stage with the state on stdin" {
	HOOKS=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$HOOKS"
	make_bundle
	update_config ".hooks = {prestart: [$(hook prestart)], createRuntime: [$(hook createRuntime)],
		createContainer: [$(hook createContainer)], poststart: [$(hook poststart)],
		poststop: [$(hook poststop)],
		startContainer: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"cat > /startContainer.json\"]}]}"
	create_container
	for stage in prestart createRuntime createContainer; do
		[ -s "$HOOKS/$stage.json" ] || fail "$stage hook did not run at create"
		[ "$(jq -r .id "$HOOKS/$stage.json")" = "$(cid)" ]
		[ "$(jq -r .bundle "$HOOKS/$stage.json")" = "$BUNDLE" ]
	done
	[ "$(jq -r .pid "$HOOKS/createRuntime.json")" = "$(state_field "$(cid)" pid)" ]
	# runc 1.1 runs poststart hooks at create
	[ "$CTR_NAME" = runc ] || [ ! -e "$HOOKS/poststart.json" ]
	[ ! -e "$BUNDLE/rootfs/startContainer.json" ]

	run ctr start "$(cid)"
	assert_success
	wait_for_file "$HOOKS/poststart.json"
	wait_for_file "$BUNDLE/rootfs/startContainer.json"
	[ "$(jq -r .id "$BUNDLE/rootfs/startContainer.json")" = "$(cid)" ]
	[ "$(jq -r .id "$HOOKS/poststart.json")" = "$(cid)" ]
	[ ! -e "$HOOKS/poststop.json" ]

	ctr kill "$(cid)" KILL
	wait_for_state "$(cid)" stopped
	run ctr delete "$(cid)"
	assert_success
	[ "$(jq -r .id "$HOOKS/poststop.json")" = "$(cid)" ]
	# as runc writes it: the runtime-spec State, compact, on one line; the status of each
	# stage; no pid once stopped
	local f want
	for f in "$HOOKS"/*.json "$BUNDLE/rootfs/startContainer.json"; do
		[ "$(wc -l <"$f")" -le 1 ] && ! grep -q '": ' "$f" || fail "not compact: $(cat "$f")"
		jq -e 'keys - ["ociVersion", "id", "status", "pid", "bundle", "annotations"] == []' "$f" >/dev/null ||
			fail "$f: keys beyond the spec's State: $(cat "$f")"
	done
	# (runc 1.1 runs poststart hooks at create: "created" there)
	for f in prestart:creating createRuntime:creating createContainer:creating \
		"poststart:$([ "$CTR_NAME" = runc ] && echo created || echo running)" poststop:stopped; do
		want=${f#*:}
		[ "$(jq -r .status "$HOOKS/${f%%:*}.json")" = "$want" ] || fail "${f%%:*}: $(cat "$HOOKS/${f%%:*}.json")"
	done
	[ "$(jq -r .status "$BUNDLE/rootfs/startContainer.json")" = created ]
	[ "$(jq -r 'has("pid")' "$HOOKS/poststop.json")" = false ]
}

@test "createContainer hooks run with the container's root as their working directory" {
	make_bundle
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "pwd > hook.cwd"]}]'
	create_container
	[ -s "$BUNDLE/rootfs/hook.cwd" ] || fail "no hook.cwd in the rootfs"
	[ "$(cat "$BUNDLE/rootfs/hook.cwd")" = "$BUNDLE/rootfs" ]
	ctr delete --force "$(cid)"
}

@test "hooks get their args and env" {
	make_bundle "$TH" exit 0
	update_config '.hooks.createRuntime = [{path: "/bin/sh",
		args: ["sh", "-c", "echo \"$0 $HOOK_VAR\" > \"$1\"", "first", $out], env: ["HOOK_VAR=set"]}]' \
		--arg out "$BATS_TEST_TMPDIR/hook.out"
	run_container
	assert_success
	[ "$(cat "$BATS_TEST_TMPDIR/hook.out")" = "first set" ]
}

@test "a failing prestart hook fails create and leaves nothing behind" {
	make_bundle
	update_config '.hooks.prestart = [{path: "/bin/false"}]'
	run_logged ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	run ctr state "$(cid)"
	assert_failure
	check_no_leaks
}

@test "a failing createRuntime hook fails run and leaves nothing behind" {
	make_bundle "$TH" exit 0
	update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "exit 7"]}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	check_no_leaks
}

@test "a hook that exceeds its timeout fails create" {
	make_bundle
	# the marker in its environment lets check_no_leaks see a hook left running
	update_config '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1,
		env: ["CTR_TEST_MARKER=" + $m]}]' --arg m "$MARKER"
	SECONDS=0
	run_logged ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	[ "$SECONDS" -lt 10 ]
	check_no_leaks
}

@test "linux.personality LINUX32" {
	[ "$CTR_NAME" != runc ] || skip "runc 1.1 ignores linux.personality"
	make_bundle uname -m
	update_config '.linux.personality = {domain: "LINUX32"}'
	run_container
	assert_success
	[ "$output" = i686 ]
}

@test "time namespace offsets" {
	requires_namespace time
	make_bundle cat /proc/uptime
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 31536000, nanosecs: 0},
			boottime: {secs: 31536000, nanosecs: 0}}'
	run_container
	assert_success
	up=${output%%.*}
	[ "$up" -ge 31536000 ] || fail "uptime $output"
}
