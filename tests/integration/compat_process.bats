#!/usr/bin/env bats
# compat_process.bats: runc compatibility, the container process: cwd, terminal and pty, capabilities at execve.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

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
