#!/usr/bin/env bats
# errors.bats: bad bundles and configs fail with a message naming the fault, leaving nothing.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# create_fails: `create` of $BUNDLE must fail and leave no state, cgroup, mount or process.
create_fails() {
	run_logged ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	[ "$status" -eq 1 ] || ! is_ctr || fail "expected exit 1, got $status: $output"
	run_logged_output=$output
	check_no_leaks
	run ctr state "$(cid)"
	assert_failure
	output=$run_logged_output
}

@test "malformed JSON" {
	make_bundle
	echo '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
	create_fails
	assert_ctr_output_contains config.json
}

@test "config.json that is not an object" {
	make_bundle
	echo '[1, 2]' >"$BUNDLE/config.json"
	create_fails
}

@test "a wrong type names the key" {
	make_bundle
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 10, hard: "lots"}]'
	create_fails
	assert_ctr_output_contains "process.rlimits[0].hard"
}

@test "a wrong type for process.args names the key" {
	make_bundle
	update_config '.process.args = "not a list"'
	create_fails
	assert_ctr_output_contains process.args
}

@test "an unknown rlimit is refused" {
	make_bundle
	update_config '.process.rlimits = [{type: "RLIMIT_FROBNICATE", soft: 1, hard: 1}]'
	create_fails
	assert_ctr_output_contains RLIMIT_FROBNICATE
}

@test "an unknown capability name is refused, naming the key and the name" {
	requires_ctr # runc (and the runtime spec) only warn about capabilities it cannot grant
	make_bundle "$TH" exit 0
	update_config '.process.capabilities.bounding += ["CAP_FROBNICATE"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "process.capabilities.bounding[3]"
	assert_output_contains CAP_FROBNICATE
}

@test "an unknown namespace type is refused" {
	make_bundle
	update_config '.linux.namespaces += [{type: "frobnicate"}]'
	create_fails
	assert_ctr_output_contains frobnicate
}

@test "a missing rootfs" {
	make_bundle
	update_config '.root.path = "no-such-rootfs"'
	create_fails
	assert_ctr_output_contains no-such-rootfs
}

@test "a missing config.json" {
	make_bundle
	rm "$BUNDLE/config.json"
	create_fails
	assert_ctr_output_contains config.json
}

@test "a missing bundle directory" {
	make_bundle
	run_logged ctr create --bundle "$BATS_TEST_TMPDIR/no-such-bundle" "$(cid)"
	assert_failure
	assert_ctr_output_contains no-such-bundle
	check_no_leaks
}

@test "args[0] not found in PATH" {
	make_bundle no-such-program
	create_fails
	assert_ctr_output_contains no-such-program "not found"
}

@test "args[0] in PATH is a link to itself: the error names the loop" {
	make_bundle loopy
	# what a busybox recipe makes when its loop links busybox to itself
	mkdir -p "$BUNDLE/rootfs/usr/bin"
	ln -s loopy "$BUNDLE/rootfs/usr/bin/loopy"
	update_config '.process.env = ["PATH=/usr/bin:/bin"]'
	create_fails
	assert_ctr_output_contains "\`loopy\` not found in \$PATH; \`/usr/bin/loopy\`" "symbolic links"
}

@test "args[0] not found by absolute path" {
	make_bundle /bin/no-such-program
	create_fails
	assert_ctr_output_contains /bin/no-such-program
}

@test "args[0] not executable" {
	make_bundle /etc/passwd
	create_fails
	assert_ctr_output_contains /etc/passwd
}

@test "empty args" {
	make_bundle
	update_config '.process.args = []'
	create_fails
	assert_ctr_output_contains process.args
}

@test "a relative cwd" {
	make_bundle
	update_config '.process.cwd = "relative/dir"'
	create_fails
	assert_ctr_output_contains relative/dir
}

@test "a cwd that is a file" {
	make_bundle
	update_config '.process.cwd = "/etc/passwd"'
	create_fails
	assert_ctr_output_contains /etc/passwd
}

@test "a bind mount of a missing source undoes the mounts before it" {
	mkdir -p "$BATS_TEST_TMPDIR/src"
	make_bundle
	update_config '.mounts += [{destination: "/first", type: "bind", source: $s, options: ["bind"]},
		{destination: "/second", type: "bind", source: $m, options: ["bind"]}]' \
		--arg s "$BATS_TEST_TMPDIR/src" --arg m "$BATS_TEST_TMPDIR/missing"
	create_fails
	assert_ctr_output_contains "$BATS_TEST_TMPDIR/missing"
}

@test "a failure after the cgroup exists removes the cgroup" {
	make_bundle no-such-program
	update_config '.linux.resources.pids.limit = 20 | .linux.resources.memory.limit = 67108864'
	create_fails
}

@test "a failing foreground run leaves nothing behind" {
	make_bundle no-such-program
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	check_no_leaks
}

@test "a failing run -d leaves nothing behind" {
	make_bundle no-such-program
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid)"
	assert_failure
	check_no_leaks
}

@test "an invalid sysctl is refused" {
	make_bundle
	update_config '.linux.sysctl = {"net.no.such.key": "1"}'
	create_fails
	assert_ctr_output_contains net.no.such.key
}

@test "an invalid hostname without a uts namespace is refused" {
	make_bundle
	update_config '.hostname = "other" | .linux.namespaces |= map(select(.type != "uts"))'
	create_fails
	[ "$(hostname)" != other ]
}

@test "a config.json over the size cap is refused" {
	requires_ctr
	make_bundle
	head -c 5M /dev/zero | tr '\0' ' ' >>"$BUNDLE/config.json"
	create_fails
	assert_output_contains config.json
}

@test "a --console-socket that does not exist is refused at create, naming it" {
	make_bundle
	update_config '.process.terminal = true'
	run_logged ctr create --console-socket "$BATS_TEST_TMPDIR/no-such.sock" --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains "--console-socket \`$BATS_TEST_TMPDIR/no-such.sock\`" "No such file"
	check_no_leaks
	run ctr state "$(cid)"
	assert_failure
}

@test "a --console-socket that is not a socket is refused at create, naming it" {
	make_bundle
	update_config '.process.terminal = true'
	touch "$BATS_TEST_TMPDIR/plain-file"
	run_logged ctr create --console-socket "$BATS_TEST_TMPDIR/plain-file" --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains "--console-socket \`$BATS_TEST_TMPDIR/plain-file\`" "not a socket"
	check_no_leaks
	run_logged ctr run -d --console-socket "$BATS_TEST_TMPDIR/plain-file" --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains "not a socket"
	check_no_leaks
}

@test "a root.path that is the host's / is refused at create, naming root.path" {
	make_bundle
	update_config '.root.path = "/"'
	create_fails
	assert_ctr_output_contains "root.path: \`/\`" "host's root"
	ln -s / "$BUNDLE/hostroot"
	update_config '.root.path = "hostroot"'
	create_fails
	assert_ctr_output_contains "root.path: \`hostroot\`" "host's root"
}

@test "a namespace path that is not a namespace is refused at create, naming the key" {
	make_bundle
	update_config '.linux.namespaces |= map(if .type == "pid" then .path = "/etc/hostname" else . end)'
	create_fails
	local idx
	idx=$(jq '.linux.namespaces | map(.type) | index("pid")' "$BUNDLE/config.json")
	assert_ctr_output_contains "linux.namespaces[$idx].path" "/etc/hostname" "is not a namespace"
	update_config '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/self/fd" else . end)'
	create_fails
	assert_ctr_output_contains "linux.namespaces[$idx].path" "/proc/self/fd" "is not a namespace"
}

@test "a namespace path of the wrong type is refused at create, naming both types" {
	make_bundle
	update_config '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)' \
		--arg p "/proc/$$/ns/net"
	create_fails
	local idx
	idx=$(jq '.linux.namespaces | map(.type) | index("pid")' "$BUNDLE/config.json")
	assert_ctr_output_contains "linux.namespaces[$idx].path" "/proc/$$/ns/net" "is a network namespace, not pid"
}

@test "a key twice in one object of config.json is refused, naming its path" {
	make_bundle
	# jq cannot write a duplicate key: splice one into the text
	sed -i 's/"process": {/"process": {"env": ["FIRST=1"],/' "$BUNDLE/config.json"
	grep -q '"env": \["FIRST=1"\]' "$BUNDLE/config.json" || fail "no duplicate made"
	create_fails
	assert_ctr_output_contains "config.json: process.env: duplicate key \`env\`"
}

@test "an environment variable over execve's limit for one string is refused at create" {
	make_bundle
	# 200 KiB: over MAX_ARG_STRLEN (32 pages)
	update_config '.process.env += ["BIG=" + ("x" * 204800)]'
	create_fails
	assert_ctr_output_contains "process.env[" "\`BIG\`" "bytes"
	assert_output_not_contains xxxxxxxx
}

# with_stack_8m CMD...: CMD under an 8 MiB stack limit (the usual default), in a subshell.
with_stack_8m() (
	ulimit -s 8192 && "$@"
)

@test "an environment too large for execve in total is refused at create" {
	make_bundle
	# 30 variables of 100 KiB: each fits, together over a quarter of the 8 MiB stack
	update_config '.process.env += [range(30) | "V\(.)=" + ("y" * 102400)]'
	run_logged with_stack_8m ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains "process.env (" "process.args (" "the 2097152 bytes execve() takes"
	assert_output_not_contains yyyyyyyy
	check_no_leaks
}

@test "a stack rlimit that leaves too little room for the environment is refused at create" {
	make_bundle
	# a quarter of a 1 MiB stack is 256 KiB: three 100 KiB variables do not fit
	update_config '.process.rlimits += [{type: "RLIMIT_STACK", soft: 1048576, hard: 1048576}]
		| .process.env += [range(3) | "V\(.)=" + ("z" * 102400)]'
	create_fails
	assert_ctr_output_contains "process.env (" "the 262144 bytes execve() takes"
}

@test "an environment just within execve's limits runs" {
	make_bundle "$TH" exit 0
	update_config '.process.env += [range(10) | "V\(.)=" + ("w" * 102400)]'
	run_logged with_stack_8m ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
}

@test "start fails when the program can no longer be executed" {
	make_bundle /bin/prog-gone-at-start
	cp "$BUNDLE/rootfs$TH" "$BUNDLE/rootfs/bin/prog-gone-at-start"
	create_container
	# found at create (args[0] is resolved then), gone before start
	rm "$BUNDLE/rootfs/bin/prog-gone-at-start"
	run_logged ctr start "$(cid)"
	assert_failure
	assert_ctr_output_contains "/bin/prog-gone-at-start" "No such file or directory"
	wait_for_state "$(cid)" stopped
	ctr delete "$(cid)"
}

@test "start fails when a startContainer hook fails" {
	make_bundle
	update_config '.hooks.startContainer = [{path: "/bin/false"}]'
	create_container
	run_logged ctr start "$(cid)"
	assert_failure
	assert_ctr_output_contains startContainer
	wait_for_state "$(cid)" stopped
	ctr delete "$(cid)"
}
