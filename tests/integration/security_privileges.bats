#!/usr/bin/env bats
# security_privileges.bats: the container process holds exactly the privileges the config
# gives it (security rule 6): uid, gid and groups; the five capability sets (inheritable
# and ambient empty unless asked); no_new_privs; seccomp installed last.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# caps_line SET: the mask of one set in a `ctr-testhelper caps` $output.
caps_line() {
	awk -v s="$1" '$1 == s {print $3}' <<<"$output"
}

# assert_caps SET NAMES: SET holds exactly NAMES (comma-separated, sorted by number; - = none).
assert_caps() {
	[ "$(caps_line "$1")" = "$2" ] || fail "$1: expected $2; got: $output"
}

@test "a non-root process holds exactly the configured capability sets" {
	make_bundle "$TH" caps
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
			bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_TIME"],
			permitted: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
			effective: ["CAP_KILL"],
			inheritable: ["CAP_NET_BIND_SERVICE"],
			ambient: ["CAP_NET_BIND_SERVICE"]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_caps CapBnd CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SYS_TIME
	assert_caps CapInh CAP_NET_BIND_SERVICE
	assert_caps CapAmb CAP_NET_BIND_SERVICE
	# execve of a program without file capabilities by a non-root user keeps only the
	# ambient set in permitted and effective (kernel rule, runc gives the same)
	assert_caps CapPrm CAP_NET_BIND_SERVICE
	assert_caps CapEff CAP_NET_BIND_SERVICE
}

@test "root holds exactly the configured capability sets" {
	make_bundle "$TH" caps
	update_config '.process.capabilities = {
			bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_TIME"],
			permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			inheritable: ["CAP_NET_BIND_SERVICE"],
			ambient: ["CAP_NET_BIND_SERVICE"]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_caps CapBnd CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SYS_TIME
	assert_caps CapInh CAP_NET_BIND_SERVICE
	assert_caps CapAmb CAP_NET_BIND_SERVICE
	assert_caps CapPrm CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE
	assert_caps CapEff CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE
}

@test "inheritable and ambient stay empty unless asked" {
	make_bundle "$TH" caps
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
			bounding: ["CAP_KILL", "CAP_SETUID"],
			permitted: ["CAP_KILL", "CAP_SETUID"],
			effective: ["CAP_KILL", "CAP_SETUID"]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_caps CapBnd CAP_KILL,CAP_SETUID
	assert_caps CapInh -
	assert_caps CapAmb -
	# no ambient set: a non-root user keeps nothing across execve
	assert_caps CapPrm -
	assert_caps CapEff -
}

@test "root with the default capabilities holds just those (bounding included)" {
	make_bundle "$TH" caps
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	local want
	want=$(jq -r '.process.capabilities.bounding | map(.) | join(",")' "$BUNDLE/config.json")
	# the testhelper prints by number; compare as sets
	for set in CapBnd CapPrm CapEff; do
		[ "$(caps_line $set | tr ',' '\n' | sort | tr '\n' ,)" = "$(tr ',' '\n' <<<"$want" | sort | tr '\n' ,)" ] ||
			fail "$set: expected $want; got: $output"
	done
	assert_caps CapInh -
	assert_caps CapAmb -
}

@test "a process without a capabilities object holds no capability at all" {
	make_bundle "$TH" caps
	update_config 'del(.process.capabilities)'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_caps $set -
	done
}

@test "exec without capabilities: all five sets empty" {
	make_bundle
	update_config 'del(.process.capabilities)'
	run_detached
	run ctr exec "$(cid)" "$TH" caps
	assert_success
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_caps $set -
	done
	ctr delete --force "$(cid)"
}

@test "exec --cap adds exactly the named capability, as runc does" {
	make_bundle
	run_detached
	run ctr exec --cap CAP_SYS_TIME "$(cid)" "$TH" caps
	assert_success
	[[ $(caps_line CapEff) == *CAP_SYS_TIME* ]] || fail "$output"
	assert_caps CapAmb -
	assert_caps CapInh -
	ctr delete --force "$(cid)"
}

@test "uid, gid and additional groups are exactly as configured" {
	make_bundle "$TH" id
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [5, 1002, 65534]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "uid=1000 gid=1001 groups=5,1002,65534" ] || fail "$output"
}

@test "no additionalGids: the caller's groups are dropped" {
	make_bundle "$TH" id
	update_config '.process.user = {uid: 1000, gid: 1000}'
	[ -n "$(id -G)" ] || skip "the caller has no groups to leak"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "uid=1000 gid=1000 groups=" ] || fail "$output"
}

@test "the real, effective, saved and fs ids all change" {
	make_bundle sh -c "grep -E '^(Uid|Gid|Groups):' /proc/self/status"
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [7]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$output")" = "1000 1000 1000 1000" ] || fail "$output"
	[ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' <<<"$output")" = "1001 1001 1001 1001" ] || fail "$output"
	[ "$(awk '/^Groups:/ {print $2}' <<<"$output")" = 7 ] || fail "$output"
}

@test "noNewPrivileges true gives NoNewPrivs 1, false gives 0" {
	make_bundle "$TH" nnp
	update_config '.process.noNewPrivileges = true | .process.user = {uid: 1000, gid: 1000}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = 1 ] || fail "$output"
	update_config '.process.noNewPrivileges = false'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = 0 ] || fail "$output"
}

@test "a seccomp filter is installed (Seccomp 2) and enforced, also for a non-root user" {
	make_bundle sh -c "$TH seccomp; $TH nnp; mkdir /tmp/d && echo mkdir-allowed"
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
			syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[ "${lines[0]}" = 2 ] || fail "Seccomp: $output"
	# without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which this user never
	# has: ctr installs it while it still can, and it is enforced
	[ "${lines[1]}" = 0 ] || fail "NoNewPrivs: $output"
	assert_output_not_contains mkdir-allowed
	assert_output_contains "Operation not permitted"
}

@test "no seccomp section: Seccomp 0" {
	make_bundle "$TH" seccomp
	update_config 'del(.linux.seccomp)'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = 0 ] || fail "$output"
}

@test "seccomp comes last: the filter can block what setup needs and the process still starts" {
	# a filter denying setuid/setgroups/capset/prctl would break a runtime that installs
	# it before dropping privileges
	make_bundle "$TH" id
	update_config '.process.user = {uid: 1000, gid: 1000, additionalGids: [3]}
		| .process.noNewPrivileges = true
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
			syscalls: [{names: ["setuid", "setgid", "setgroups", "setresuid", "setresgid",
				"capset", "prctl", "chdir", "fchdir", "close_range"], action: "SCMP_ACT_ERRNO"}]}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "uid=1000 gid=1000 groups=3" ] || fail "$output"
}

# ctr-stub's own execve would leave a non-root process only its ambient set: the permitted
# set rides across it as ambient, and the stub puts the config's sets back (docs/security.md)
@test "a non-root process's capabilities carried across ctr-stub are neither ambient nor inheritable for its program" {
	# a program of root's without execute bit for others: CAP_DAC_OVERRIDE must be effective
	make_bundle /opt/th caps
	mkdir -p "$BUNDLE/rootfs/opt"
	cp "$BUNDLE/rootfs$TH" "$BUNDLE/rootfs/opt/th"
	chown 0:0 "$BUNDLE/rootfs/opt/th"
	chmod 0744 "$BUNDLE/rootfs/opt/th"
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {bounding: ["CAP_KILL", "CAP_SETUID", "CAP_DAC_OVERRIDE"],
			permitted: ["CAP_KILL", "CAP_SETUID", "CAP_DAC_OVERRIDE"],
			effective: ["CAP_DAC_OVERRIDE"], inheritable: ["CAP_SETUID"], ambient: []}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_caps CapInh CAP_SETUID
	for set in CapAmb CapPrm CapEff; do
		assert_caps $set -
	done
	set_args "$TH" sleep 3600
	run_detached
	run ctr exec --user 1000:1000 --cap CAP_DAC_OVERRIDE "$(cid)" /opt/th caps
	assert_success
	assert_caps CapInh CAP_SETUID
	for set in CapAmb CapPrm CapEff; do
		assert_caps $set -
	done
	ctr delete -f "$(cid)"
}
