#!/usr/bin/env bats
# compat_hooks.bats: runc compatibility, hooks: the ones after a failing one, their environment, cwd, fds and stdin.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

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

hook_cwd() {
	rm -f "$BUNDLE/rootfs/hook.cwd"
	create_container
	ctr delete -f "$(cid)"
	[ "$(cat "$BUNDLE/rootfs/hook.cwd")" = "$BUNDLE/rootfs" ] || fail "cwd: $(cat "$BUNDLE/rootfs/hook.cwd")"
}

@test "createContainer hooks run with the container's root as their working directory" {
	make_bundle
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "pwd > hook.cwd"]}]'
	also_runc hook_cwd
}

# The state a prestart hook reads on stdin, saved per runtime: one compact line, the
# runtime-spec State's keys in its order
prestart_state() {
	local out=$BATS_TEST_TMPDIR/prestart.$CTR_NAME
	rm -f "$out"
	update_config '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "cat > \"$0\"", $o]}]' \
		--arg o "$out"
	create_container
	ctr delete -f "$(cid)"
	[ "$(wc -l <"$out")" -le 1 ] && ! grep -q '": ' "$out" || fail "not compact: $(cat "$out")"
	jq -e --arg id "$(cid)" --arg b "$BUNDLE" '(keys_unsorted == ["ociVersion", "id", "status",
		"pid", "bundle", "annotations"]) and .id == $id and .status == "creating"
		and .pid > 0 and .bundle == $b and .annotations == {"org.example.k": "v"}' "$out" \
		>/dev/null || fail "state: $(cat "$out")"
}

@test "the state on a prestart hook's stdin is as runc writes it" {
	make_bundle
	update_config '.annotations = {"org.example.k": "v"}'
	also_runc prestart_state
	# the very same document but for the values that name the runtime and the process
	local r=$BATS_TEST_TMPDIR/prestart.runc norm='del(.ociVersion, .pid) | .id = "ID"'
	[ ! -e "$r" ] || [ "$(jq -c "$norm" "$r")" = "$(jq -c "$norm" "$BATS_TEST_TMPDIR/prestart.ctr")" ] ||
		fail "runc: $(cat "$r"); ctr: $(cat "$BATS_TEST_TMPDIR/prestart.ctr")"
}
