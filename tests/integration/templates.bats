#!/usr/bin/env bats
# templates.bats: the templates (templates/ctr-*) and ctr-init, run into bundles by hand.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

TEMPLATES=${SRCDIR:-$BATS_TEST_DIRNAME/../..}/templates
CTR_INIT=${BUILD_DIR:-$(dirname "$CTR")/..}/src/init/ctr-init
export CTR_INIT

# template NAME [ARGS...]: runs ctr-NAME into a fresh $BUNDLE (stderr kept apart).
template() {
	local name=$1
	shift
	BUNDLE=$BATS_TEST_TMPDIR/b
	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE/rootfs"
	run --separate-stderr "$TEMPLATES/ctr-$name" --name "$(cid)" --path "$BUNDLE" \
		--rootfs "$BUNDLE/rootfs" "$@"
}

# conf KEY: the values of KEY in template.conf, one per line.
conf() {
	sed -n "s/^$1=//p" "$BUNDLE/template.conf"
}

# to_bundle: template.conf into config.json, as ctr create -t will do (test-only glue). A
# system container may halt itself: CAP_SYS_BOOT and reboot(2), which in a PID namespace
# only ends that namespace's init.
to_bundle() {
	local args env user
	args=$(conf arg | jq -R . | jq -sc .)
	env=$(conf env | jq -R . | jq -sc .)
	user=$(conf user)
	(cd "$BUNDLE" && "$CTR" spec) || return 1
	update_config '.process.args = $a | .process.env = $e + ["CTR_TEST_MARKER=" + $m]
		| .process.cwd = $c | .process.terminal = ($t == "true")
		| .process.user = {uid: ($u | split(":")[0] | tonumber), gid: ($u | split(":")[1] | tonumber)}
		| .root.readonly = false | .hostname = $h' \
		--argjson a "$args" --argjson e "$env" --arg m "$MARKER" --arg c "$(conf cwd)" \
		--arg t "$(conf terminal)" --arg u "${user:-0:0}" --arg h "$(cid)"
	if [ "$(conf kind)" = system ]; then
		update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_BOOT", "CAP_CHOWN",
			"CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID", "CAP_SYS_CHROOT"])
			| if .linux.seccomp then .linux.seccomp.syscalls += [{names: ["reboot"],
			action: "SCMP_ACT_ALLOW"}] else . end'
	fi
}

# run_with_console [hold]: `run -d` of the bundle, its console pty read into $CONSOLE.
# With hold, the test keeps the console open itself (fd $CONSOLE_FD) from create on: an
# init that closes its console (sysvinit) must not hang it up for good, as the reader
# stops at the first hang-up.
run_with_console() {
	local sock=$BATS_TEST_TMPDIR/console.sock
	CONSOLE=$BATS_TEST_TMPDIR/console.out
	build_template # for $HOST_TH
	bg "$HOST_TH" recvtty "$sock" >"$CONSOLE" 2>&1
	wait_until test -S "$sock"
	if [ "${1:-}" != hold ]; then
		run_detached --console-socket "$sock"
		return
	fi
	create_container --console-socket "$sock"
	exec {CONSOLE_FD}<>"/proc/$(state_field "$(cid)" pid)/fd/0"
	run_logged ctr start "$(cid)"
	assert_success
}

# stops_within SECONDS SIGNAL: SIGNAL to the container's init ends it in time.
stops_within() {
	ctr kill "$(cid)" "$2"
	local tries=$(($1 * 10))
	until [ "$(ctr state "$(cid)" 2>/dev/null | jq -r .status)" = stopped ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "still running $1 s after $2" || return 1
		sleep 0.1
	done
}

# in_container CMD...: exec in the running container.
in_container() {
	run ctr exec "$(cid)" "$@"
}

@test "templates: --describe prints one line, --help the options" {
	local t
	for t in busybox app oci debian; do
		run "$TEMPLATES/ctr-$t" --describe
		assert_success
		[ "${#lines[@]}" -eq 1 ] && [ -n "${lines[0]}" ] || fail "ctr-$t --describe: $output"
		run "$TEMPLATES/ctr-$t" --help
		assert_success
		assert_output_contains "--name" "--path"
	done
}

@test "templates: an unknown option or a missing --name is a one-line usage error" {
	local t
	for t in busybox app oci debian; do
		template "$t" --bogus
		assert_status 2
		[ "$stderr" = "ctr-$t: unknown option --bogus (see ctr-$t --help)" ] || fail "ctr-$t: $stderr"
		run --separate-stderr "$TEMPLATES/ctr-$t" --path "$BATS_TEST_TMPDIR"
		assert_status 2
		[[ $stderr == "ctr-$t: --name is required"* ]] || fail "ctr-$t: $stderr"
	done
}

@test "busybox: the rootfs has init, a shell and the files a machine has" {
	requires_init
	template busybox
	assert_success
	local f
	for f in bin/busybox bin/sh sbin/init etc/inittab etc/passwd etc/group etc/hostname \
		etc/hosts etc/profile root tmp proc sys dev run var; do
		[ -e "$BUNDLE/rootfs/$f" ] || [ -L "$BUNDLE/rootfs/$f" ] || fail "missing /$f"
	done
	[ "$(cat "$BUNDLE/rootfs/etc/hostname")" = "$(cid)" ]
	[ "$(stat -c %a "$BUNDLE/rootfs/tmp")" = 1777 ]
	[ "$(conf stop_signal)" = SIGPWR ] && [ "$(conf kind)" = system ] && [ "$(conf terminal)" = true ]
}

@test "busybox: boots busybox init as PID 1 with a shell on the console; SIGPWR stops it" {
	requires_init
	template busybox
	assert_success
	to_bundle
	run_with_console
	wait_until grep -q '# ' "$CONSOLE"
	in_container /bin/ps -o pid,args
	assert_success
	[[ ${lines[1]} =~ ^\ *1\ +(/sbin/)?init ]] || fail "$output"
	assert_output_contains "-/bin/sh"
	# the console is the shell's controlling terminal (job control), no longer init's
	in_container /bin/ps -o tty,args
	assert_success
	[[ $output =~ $'\n'(136|pts)[^$'\n']*-/bin/sh ]] || fail "shell without a terminal: $output"
	[[ $output =~ $'\n'\?\ +init ]] || fail "init keeps the terminal: $output"
	in_container /bin/hostname
	[ "$output" = "$(cid)" ]
	stops_within 10 SIGPWR
	grep -q "shutting down" "$CONSOLE" || fail "no shutdown action on the console: $(cat "$CONSOLE")"
}

@test "busybox: a busybox that is not static is refused" {
	template busybox --busybox /usr/bin/env
	assert_failure
	[ "$stderr" = "ctr-busybox: /usr/bin/env is not statically linked: apt-get install busybox-static" ] ||
		fail "$stderr"
}

@test "busybox: --mapped-uid/--mapped-gid own the tree" {
	requires_init
	template busybox --mapped-uid 100000 --mapped-gid 100000
	assert_success
	[ -z "$(find "$BUNDLE/rootfs" \( ! -uid 100000 -o ! -gid 100000 \) -print -quit)" ]
}

@test "app: a dynamically linked host program runs; its status comes back through ctr-init" {
	requires_init
	template app -- env
	assert_success
	[ "$(conf arg | tr '\n' ' ')" = "/sbin/ctr-init -- /usr/bin/env " ] || fail "$(cat "$BUNDLE/template.conf")"
	[ -x "$BUNDLE/rootfs/usr/bin/env" ] && [ -x "$BUNDLE/rootfs/sbin/ctr-init" ]
	[ -e "$BUNDLE/rootfs/lib64/ld-linux-x86-64.so.2" ] || [ "$(uname -m)" != x86_64 ]
	to_bundle
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains "CTR_TEST_MARKER=$MARKER"

	template app -- sh -c 'exit 7'
	assert_success
	to_bundle
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 7
}

@test "app: ctr-init forwards signals and reports death by signal as 128+N" {
	requires_init
	template app --copy /bin/sleep -- sh -c 'trap "exit 9" USR1; while :; do sleep 0.05; done'
	assert_success
	to_bundle
	local rc=$BATS_TEST_TMPDIR/rc
	bg bash -c "CTR_TEST_MARKER=$MARKER '$CTR' --root '$STATE_ROOT' run --bundle '$BUNDLE' '$(cid)' </dev/null >/dev/null 2>&1; echo \$? >'$rc'"
	wait_for_state "$(cid)" running
	sleep 0.3 # the trap is set
	ctr kill "$(cid)" USR1
	wait_for_file "$rc"
	[ "$(cat "$rc")" = 9 ] || fail "status $(cat "$rc")"

	rm -f "$rc"
	template app -- sh -c 'while :; do :; done'
	to_bundle
	bg bash -c "CTR_TEST_MARKER=$MARKER '$CTR' --root '$STATE_ROOT' run --bundle '$BUNDLE' '$(cid)' </dev/null >/dev/null 2>&1; echo \$? >'$rc'"
	wait_for_state "$(cid)" running
	ctr kill "$(cid)" TERM
	wait_for_file "$rc"
	[ "$(cat "$rc")" = 143 ] || fail "status $(cat "$rc")"
}

@test "app: ctr-init reaps orphaned zombies" {
	requires_init
	template app --copy /bin/sleep -- sh -c '(sleep 0.1 &); (sleep 0.1 &); exec sleep 100'
	assert_success
	to_bundle
	run_detached
	local init
	init=$(state_field "$(cid)" pid)
	sleep 1
	# the orphans went to ctr-init, which reaped them: only the app is left
	run ps --ppid "$init" -o stat=,args=
	[ "${#lines[@]}" -eq 1 ] && [[ ${lines[0]} == S*"sleep 100" ]] || fail "children of init: $output"
	[[ "$(tr '\0' ' ' <"/proc/$init/cmdline")" == "/sbin/ctr-init -- "* ]]
}

@test "app: a program that does not exist is a clear error" {
	template app -- /nonexistent/prog
	assert_failure
	[ "$stderr" = "ctr-app: /nonexistent/prog: no such file" ] || fail "$stderr"
	template app -- no-such-program-here
	assert_failure
	[ "$stderr" = "ctr-app: no-such-program-here: program not found in PATH" ] || fail "$stderr"
	template app
	assert_status 2
}

@test "ctr-init: exec failure is 127 with the program named" {
	requires_init
	run -127 --separate-stderr "$CTR_INIT" /nonexistent/prog
	[ "$stderr" = "ctr-init: exec /nonexistent/prog: No such file or directory" ] || fail "$stderr"
	run "$CTR_INIT" -- sh -c 'kill -KILL $$'
	assert_status 137
	run "$CTR_INIT"
	assert_status 2
}

@test "oci: an image layout made with umoci runs with its entrypoint" {
	requires_tools umoci jq
	make_image "$BATS_TEST_TMPDIR/layout"
	template oci --image "$BATS_TEST_TMPDIR/layout:v1"
	assert_success
	[ "$(conf cwd)" = /work ] && [ "$(conf kind)" = application ]
	to_bundle
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 3
	assert_output_contains "image says hello in /work"
	# without a tag: the layout's only one
	template oci --image "$BATS_TEST_TMPDIR/layout" --init -- 'exit 5'
	assert_success
	to_bundle
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 5
}

@test "oci: an oci-archive made by skopeo runs with its entrypoint" {
	requires_tools umoci jq skopeo
	make_image "$BATS_TEST_TMPDIR/layout"
	skopeo --insecure-policy copy --quiet "oci:$BATS_TEST_TMPDIR/layout:v1" \
		"oci-archive:$BATS_TEST_TMPDIR/image.tar:v1"
	template oci --image "$BATS_TEST_TMPDIR/image.tar"
	assert_success
	to_bundle
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 3
	assert_output_contains "image says hello in /work"
	[ -z "$(find "$BUNDLE" -maxdepth 1 -name '.oci.*')" ] || fail "work directory left behind"
}

@test "oci: missing --image, a missing file, a missing tag are clear errors" {
	requires_tools umoci jq
	template oci
	assert_status 2
	[ "$stderr" = "ctr-oci: --image is required (see ctr-oci --help)" ] || fail "$stderr"
	template oci --image "$BATS_TEST_TMPDIR/nothing"
	assert_failure
	[ "$stderr" = "ctr-oci: --image $BATS_TEST_TMPDIR/nothing: no such file or directory" ] || fail "$stderr"
	make_image "$BATS_TEST_TMPDIR/layout"
	template oci --image "$BATS_TEST_TMPDIR/layout:v2"
	assert_failure
	[ "$stderr" = "ctr-oci: --image $BATS_TEST_TMPDIR/layout:v2: no image tagged 'v2'" ] || fail "$stderr"
}

@test "debian: a missing debootstrap and an unknown release are clear errors" {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	run --separate-stderr env PATH="$bin" "$TEMPLATES/ctr-debian" --name "$(cid)" \
		--path "$BATS_TEST_TMPDIR"
	assert_failure
	[ "$stderr" = "ctr-debian: debootstrap not found: apt-get install debootstrap" ] || fail "$stderr"
	requires_tools debootstrap
	template debian --release no-such-release
	assert_failure
	[ "$stderr" = "ctr-debian: unknown release no-such-release (debootstrap has no script for it)" ] ||
		fail "$stderr"
}

@test "debian: a real debootstrap boots sysvinit; SIGPWR halts it (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools debootstrap
	requires_init
	template debian
	assert_success
	[[ $stderr == *"ctr-debian: done"* ]] || fail "$stderr"
	[ "$(conf stop_signal)" = SIGPWR ]
	# a sysvinit halt takes about 12 s here: lxc-stop's 60 s, not ctr's default 10
	[ "$(conf stop_timeout)" = 60 ]
	to_bundle
	run_with_console hold
	# booted: runlevel 2, root logged in on the console
	wait_until ctr exec "$(cid)" /bin/sh -c 'runlevel | grep -q " 2$"'
	wait_until grep -q "root@$(cid)" "$CONSOLE"
	in_container /bin/hostname
	[ "$output" = "$(cid)" ]
	stops_within 30 SIGPWR
	exec {CONSOLE_FD}>&-
	grep -q "Will now halt" "$CONSOLE" || fail "no halt on the console: $(cat "$CONSOLE")"
	# the second create comes from the cache
	template debian
	assert_success
	[[ $stderr == *"unpacking /var/cache/ctr/debian/"* ]] || fail "$stderr"
}
