#!/usr/bin/env bats
# rootless_cgroups.bats: rootless containers in a delegated cgroup v2 subtree (limits, pause,
# kill, ps, delete), and without one (limits refused, other resources skipped).

# shellcheck disable=SC2154
# bats file_tags=v2
load helpers

cgroup_v2() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]
}

# One user for the file and, on a pure cgroup v2 host, what an admin (or systemd's
# user-N.slice / user@N.service) sets up: a root-owned parent offering memory, pids and cpu,
# and below it the user's delegated subtree DELEG (chown -R) whose processes live in the leaf
# DELEG/shell, so that the delegation root itself holds none. DELEG2 is delegated the other
# way: the user's processes sit in the delegation root itself.
setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create the test user"
	export RC_USER=ctrtrc$$
	useradd -M -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s /bin/sh "$RC_USER"
	cgroup_v2 || return 0
	export TOP=/sys/fs/cgroup/ctrtest-top-$$
	export DELEG=$TOP/deleg DELEG2=$TOP/deleg2
	local c
	for c in memory pids cpu; do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
	done
	mkdir "$TOP"
	echo "+memory +pids +cpu" >"$TOP/cgroup.subtree_control"
	mkdir "$DELEG" "$DELEG/shell" "$DELEG2"
	chown -R "$RC_USER:" "$DELEG" "$DELEG2"
}

teardown_file() {
	[ -n "${RC_USER:-}" ] || return 0
	pkill -KILL -u "$RC_USER" 2>/dev/null || true
	if [ -n "${TOP:-}" ] && [ -d "$TOP" ]; then
		sleep 0.2
		find "$TOP" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null || true
		rmdir "$TOP" || true
	fi
	userdel "$RC_USER" 2>/dev/null || true
}

setup() {
	requires_root
	requires_ctr
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	HOMES=$(mktemp -d /tmp/ctr-rlcg.XXXXXX)
	chmod 0755 "$HOMES"
	mkdir -p "$HOMES/run" "$HOMES/data"
	chmod 0700 "$HOMES/run"
	chown -R "$RC_USER:" "$HOMES"
	BUNDLE=$HOMES/bundle
	build_template || return 1
	mkdir -p "$BUNDLE"
	cp -a "$BATS_RUN_TMPDIR/template/rootfs" "$BUNDLE/rootfs"
	# the config `ctr spec` writes for root (its linux.resources has only a device rule)
	jq '.process.terminal = false | .root.path = "rootfs"
		| .process.env += ["CTR_TEST_MARKER=" + $m] | .process.args = ["sleep", "3600"]' \
		--arg m "$MARKER" "$BATS_RUN_TMPDIR/template/config.json" >"$BUNDLE/config.json"
	chown -R "$RC_USER:" "$BUNDLE"
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	local n left=
	for n in $(as list -q 2>/dev/null); do
		as delete -f "$n" >/dev/null 2>&1 || true
	done
	pkill -KILL -f -- "$MARKER" 2>/dev/null || true
	# ctr removed all it made in the delegated subtrees; they and the shell's cgroup remain
	if [ -n "${TOP:-}" ]; then
		left=$(find "$DELEG" "$DELEG2" -mindepth 1 -type d ! -path "$DELEG/shell" 2>/dev/null)
		[ -d "$DELEG/shell" ] && [ -d "$DELEG2" ] || left="$left (a delegation root is gone)"
		find "$DELEG" "$DELEG2" -depth -mindepth 1 -type d ! -path "$DELEG/shell" \
			-exec rmdir {} \; 2>/dev/null || true
	fi
	left=$left$(ls -A "$HOMES/run/ctr" 2>/dev/null || true)
	rm -rf "$HOMES"
	[ -z "$left" ] || fail "left behind: $left"
}

# as [--in CGROUP] VERB ARGS...: ctr as the test user; with --in, its shell is first put in
# CGROUP by root (as systemd or an admin places a user's session).
as() {
	local cg=
	if [ "$1" = --in ]; then
		cg=$2
		shift 2
	fi
	# shellcheck disable=SC2016
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' sh "$cg" \
		setpriv --reuid="$RC_USER" --regid="$RC_USER" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOMES" \
		XDG_RUNTIME_DIR="$HOMES/run" XDG_DATA_HOME="$HOMES/data" CTR_TEST_MARKER="$MARKER" \
		timeout -k 5 "${CTR_TIMEOUT:-120}" "$CTR" "$@"
}

# config FILTER [JQ ARGS]: edits the bundle's config.json.
config() {
	local f=$1
	shift
	jq "$@" "$f" "$BUNDLE/config.json" >"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json" &&
		chown "$RC_USER:" "$BUNDLE/config.json"
}

requires_delegation() {
	[ -n "${TOP:-}" ] || skip "needs a pure cgroup v2 host to delegate a subtree"
}

# ---- without a delegated subtree (this hybrid host; on cgroup v2 a root-owned cgroup) ----

@test "rootless without delegation: explicit limits are refused with the reason" {
	config '.linux.resources.memory = {limit: 67108864}'
	run as run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "rootless: linux.resources.memory: limits need a delegated cgroup v2 subtree: " \
		"see \`ctr check-config\`"
	if cgroup_v2; then
		assert_output_contains "is not owned by uid $(id -u "$RC_USER")"
	else
		assert_output_contains "the host's cgroup layout is"
	fi
	assert_output_not_contains "support yet"
}

@test "rootless without delegation: no resources, no warning; resources skipped with one" {
	config 'del(.linux.resources) | .process.args = ["true"]'
	run as run --bundle "$BUNDLE" "$MARKER"
	assert_success
	assert_output_not_contains "cgroup"
	assert_output_not_contains "linux.resources"
	config '.linux.resources = {devices: [{allow: false, access: "rwm"}]}'
	run as run --bundle "$BUNDLE" "$MARKER"
	assert_success
	assert_output_contains "rootless: linux.resources skipped: no delegated cgroup v2 subtree ("
	assert_output_not_contains "support yet"
}

# ---- in a delegated subtree (pure cgroup v2) ----

@test "rootless delegated: the container's cgroup is <delegation root>/ctr/<id>, removed on delete" {
	requires_delegation
	config 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	run_logged as --in "$DELEG/shell" run -d --bundle "$BUNDLE" "$MARKER"
	assert_success
	assert_output_not_contains "linux.resources"
	pid=$(as state "$MARKER" | jq -r .pid)
	[ "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" = "${DELEG#/sys/fs/cgroup}/ctr/$MARKER" ] ||
		fail "$(cat "/proc/$pid/cgroup")"
	# memory and pids usage is there for stats; no controller above the delegation root moved
	grep -qw memory "$DELEG/ctr/cgroup.subtree_control"
	grep -qw pids "$DELEG/ctr/cgroup.subtree_control"
	[ "$(cat "$TOP/cgroup.subtree_control")" = "cpu memory pids" ]
	run as ps "$MARKER"
	assert_success
	assert_output_contains "$pid"
	# exec joins the same cgroup (clone3 into it from the user's shell cgroup)
	run as --in "$DELEG/shell" exec "$MARKER" cat /proc/self/cgroup
	assert_success
	[ "$output" = "0::${DELEG#/sys/fs/cgroup}/ctr/$MARKER" ] || fail "$output"
	run as events --stats "$MARKER"
	assert_success
	[ "$(jq -r .data.pids.current <<<"$output")" -ge 1 ] || fail "$output"
	run as delete -f "$MARKER"
	assert_success
	[ ! -e "$DELEG/ctr" ] || fail "left: $(find "$DELEG/ctr")"
	[ -d "$DELEG/shell" ]
}

@test "rootless delegated: /sys/fs/cgroup is the container's own cgroup under an rbind /sys (spec --rootless)" {
	requires_delegation
	# `ctr spec --rootless` (and runc's): /sys an rbind of the host's, which brings the host's
	# cgroup2 along; the cgroup mount goes on top of it and must show the container's cgroup
	config '.mounts |= map(if .destination == "/sys" then
			{destination: "/sys", type: "none", source: "/sys",
			 options: ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)
		| del(.linux.namespaces[] | select(.type == "network"))
		| .process.args = ["sh", "-c",
			"cat /sys/fs/cgroup/cgroup.procs; grep \" /sys/fs/cgroup \" /proc/self/mountinfo | tail -1"]'
	run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
	assert_success
	# only the container's processes (pid 1 and its cat), none from outside its namespace (0)
	grep -qx 1 <<<"$output" || fail "$output"
	[ "$(grep -c '^[0-9]*$' <<<"$output")" = 2 ] || fail "$output"
	# the mount's root is the cgroup namespace's root, not the host's hierarchy above it
	[ "$(tail -1 <<<"$output" | cut -d' ' -f4)" = / ] || fail "$output"
	assert_output_contains " ro,"
}

@test "rootless delegated: a memory hog is OOM-killed at its limit" {
	requires_delegation
	config '.linux.resources.memory = {limit: 33554432} | .process.args = [$th, "alloc", "256"]' \
		--arg th "$TH"
	run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
	assert_status 137
	assert_output_not_contains allocated
}

@test "rootless delegated: pids.limit stops a fork bomb; update changes it live" {
	requires_delegation
	config '.linux.resources.pids = {limit: 10} | .process.args = [$th, "fork", "50"]' --arg th "$TH"
	run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
	assert_success
	n=${lines[-1]}
	[ "$n" -lt 50 ] && [ "$n" -ge 5 ] || fail "forked $n of 50 with a limit of 10: $output"
	config '.linux.resources.pids = {limit: 17} | .process.args = ["sleep", "3600"]'
	run_logged as --in "$DELEG/shell" run -d --bundle "$BUNDLE" "$MARKER"
	assert_success
	[ "$(cat "$DELEG/ctr/$MARKER/pids.max")" = 17 ]
	run as update --pids-limit 23 "$MARKER"
	assert_success
	[ "$(cat "$DELEG/ctr/$MARKER/pids.max")" = 23 ]
}

@test "rootless delegated: pause, resume and kill --all" {
	requires_delegation
	config '.process.args = [$th, "tick", "/tmp/counter"]' --arg th "$TH"
	run_logged as --in "$DELEG/shell" run -d --bundle "$BUNDLE" "$MARKER"
	assert_success
	counter=$BUNDLE/rootfs/tmp/counter
	wait_for_file "$counter"
	run as pause "$MARKER"
	assert_success
	[ "$(as state "$MARKER" | jq -r .status)" = paused ]
	[ "$(cat "$DELEG/ctr/$MARKER/cgroup.freeze")" = 1 ]
	a=$(cat "$counter")
	sleep 0.5
	[ "$(cat "$counter")" = "$a" ] || fail "the counter moved while paused"
	run as resume "$MARKER"
	assert_success
	[ "$(as state "$MARKER" | jq -r .status)" = running ]
	wait_until eval 'test "$(cat "$counter")" != "$a"'
	run as kill --all "$MARKER" KILL
	assert_success
	wait_until eval 'test "$(as state "$MARKER" | jq -r .status)" = stopped'
	run as delete "$MARKER"
	assert_success
	[ ! -e "$DELEG/ctr" ]
}

@test "rootless delegated: cgroupsPath inside the subtree is used, outside it refused" {
	requires_delegation
	rel=${DELEG#/sys/fs/cgroup}
	config '.linux.cgroupsPath = $p' --arg p "$rel/custom-$MARKER/c"
	run_logged as --in "$DELEG/shell" run -d --bundle "$BUNDLE" "$MARKER"
	assert_success
	pid=$(as state "$MARKER" | jq -r .pid)
	grep -qx "0::$rel/custom-$MARKER/c" "/proc/$pid/cgroup" || fail "$(cat "/proc/$pid/cgroup")"
	run as delete -f "$MARKER"
	assert_success
	[ ! -e "$DELEG/custom-$MARKER" ]
	for p in "/$MARKER-outside" "${TOP#/sys/fs/cgroup}/x" "$rel"; do
		config '.linux.cgroupsPath = $p' --arg p "$p"
		run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
		assert_failure
		assert_output_contains "rootless: linux.cgroupsPath: \"$p\": outside the delegated cgroup subtree \`$rel\`"
	done
	config '.linux.cgroupsPath = $p' --arg p "$rel/shell"
	run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "holds ctr's own cgroup"
	[ ! -e "/sys/fs/cgroup/$MARKER-outside" ] && [ ! -e "$TOP/x" ]
}

@test "rootless delegated: a limit whose controller is not delegated is an error naming it" {
	requires_delegation
	config '.linux.resources.blockIO = {weight: 100}'
	run as --in "$DELEG/shell" run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "rootless: linux.resources.blockIO: the io controller is not delegated to \`$DELEG\`" \
		"(cgroup.controllers: cpu memory pids)"
}

@test "rootless delegated: a delegation root holding the user's processes runs without limits" {
	requires_delegation
	config '.linux.resources.memory = {limit: 67108864}'
	run as --in "$DELEG2" run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "rootless: linux.resources.memory: cannot enable the memory controller below \`$DELEG2\`: it holds processes"
	config 'del(.linux.resources.memory) | .process.args = ["sleep", "3600"]'
	run_logged as --in "$DELEG2" run -d --bundle "$BUNDLE" "$MARKER"
	assert_success
	[ -d "$DELEG2/ctr/$MARKER" ]
	[ -z "$(cat "$DELEG2/cgroup.subtree_control")" ]
	# no controllers, but the core files still freeze and kill it
	run as pause "$MARKER"
	assert_success
	run as resume "$MARKER"
	assert_success
	run as delete -f "$MARKER"
	assert_success
	[ ! -e "$DELEG2/ctr" ]
}
