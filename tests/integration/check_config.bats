#!/usr/bin/env bats
# check_config.bats: `ctr check-config` as root and as a throw-away unprivileged user.

# shellcheck disable=SC2016,SC2154
load helpers

# Every check, in the order ctr prints them.
CHECKS=(mode namespace.mnt namespace.pid namespace.net namespace.ipc namespace.uts
	namespace.cgroup namespace.time namespace.user user.max_user_namespaces
	kernel.unprivileged_userns_clone kernel.apparmor_restrict_unprivileged_userns
	userns.create subuid subgid newuidmap newgidmap cgroup.layout cgroup.delegation seccomp
	overlayfs nftables rootless-network tun-device lxcfs state-dir store-dir)

# A high range no distribution hands out, so it overlaps nobody's.
TEST_RANGE=3000000000-3000065535

# One user for the whole file, created without subordinate ids; /etc/subuid and
# /etc/subgid are saved here and must be byte for byte the same afterwards.
setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	command -v useradd >/dev/null || return 0
	export CC_USER=ctrcc$$
	CC_DIR=$(mktemp -d /tmp/ctr-check-config.XXXXXX)
	export CC_DIR
	chmod 0755 "$CC_DIR"
	cp -p /etc/subuid "$CC_DIR/subuid.orig" 2>/dev/null || true
	cp -p /etc/subgid "$CC_DIR/subgid.orig" 2>/dev/null || true
	useradd -M -N -s /usr/sbin/nologin -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$CC_USER"
	mkdir -m 0700 "$CC_DIR/home"
	chown "$CC_USER:" "$CC_DIR/home"
}

# Drops this file's user's lines only: a concurrent change by someone else survives.
drop_subid_lines() {
	local f
	for f in /etc/subuid /etc/subgid; do
		[ -f "$f" ] || continue
		if grep -q "^$CC_USER:" "$f"; then
			grep -v "^$CC_USER:" "$f" >"$CC_DIR/tmp" || true
			cat "$CC_DIR/tmp" >"$f"
		fi
	done
}

teardown_file() {
	[ -n "${CC_USER:-}" ] || return 0
	userdel "$CC_USER" 2>/dev/null || true
	drop_subid_lines
	local f rc=0
	for f in subuid subgid; do
		if [ -f "$CC_DIR/$f.orig" ]; then
			cmp -s "$CC_DIR/$f.orig" "/etc/$f" || { echo "/etc/$f changed" >&2 && rc=1; }
		else
			[ ! -e "/etc/$f" ] || { echo "/etc/$f was created" >&2 && rc=1; }
		fi
	done
	rm -rf "$CC_DIR"
	return $rc
}

setup() {
	requires_ctr
	requires_root
	[ -n "${CC_USER:-}" ] || skip "needs useradd"
}

# as_user [ENV=VALUE...] -- ARGS...: ctr as the test user with a clean environment.
as_user() {
	local envs=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$CC_DIR/home"
		XDG_RUNTIME_DIR="$CC_DIR/home")
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	setpriv --reuid="$CC_USER" --regid="$(id -g "$CC_USER")" --clear-groups \
		env -i "${envs[@]}" "$CTR" "$@"
}

# check_field NAME FIELD: one field of one check in the JSON $output.
check_field() {
	jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f] | if . == null then "" else tostring end' <<<"$output"
}

# The exit status is 1 exactly when some check is missing (and that check is required).
assert_exit_matches_report() {
	local missing
	missing=$(jq '[.[] | select(.status == "missing")] | length' <<<"$output")
	if [ "$missing" -eq 0 ]; then
		assert_status 0
	else
		assert_status 1
		jq -e 'all(.[] | select(.status == "missing"); .required)' <<<"$output" >/dev/null ||
			fail "a missing check is not required: $output"
	fi
}

@test "check-config --format json has every check with a status, detail and advice" {
	run "$CTR" check-config --format json
	jq -e 'type == "array"' <<<"$output" >/dev/null || fail "not a JSON array: $output"
	for c in "${CHECKS[@]}"; do
		jq -e --arg n "$c" 'any(.[]; .name == $n)' <<<"$output" >/dev/null || fail "no check $c"
	done
	[ "$(jq length <<<"$output")" -eq "${#CHECKS[@]}" ] || fail "unexpected checks: $output"
	jq -e 'all(.[]; (.status | IN("ok", "warn", "missing")) and (.detail | type == "string")
		and (.required | type == "boolean")
		and (if .status == "ok" then .advice == null else (.advice | length > 0) end))' \
		<<<"$output" >/dev/null || fail "malformed check: $output"
	[ "$(check_field mode detail)" = root ]
	[ "$(check_field subuid status)" = ok ]
	assert_exit_matches_report
}

@test "check-config prints a table, one line per check, then the advice" {
	touch "$BATS_TEST_TMPDIR/file"
	run "$CTR" --root "$BATS_TEST_TMPDIR/file/state" check-config
	[[ ${lines[0]} == STATUS*CHECK*DETAIL ]] || fail "header: ${lines[0]}"
	for i in "${!CHECKS[@]}"; do
		[[ ${lines[i + 1]} =~ ^(ok|warn|missing)\ +${CHECKS[i]//./\\.}\ + ]] ||
			fail "line $((i + 1)): ${lines[i + 1]}"
	done
	assert_output_contains "What to do:"
}

@test "check-config: a state directory that cannot be created is missing, exit 1" {
	touch "$BATS_TEST_TMPDIR/file"
	run "$CTR" --root "$BATS_TEST_TMPDIR/file/state" check-config --format json
	assert_status 1
	[ "$(check_field state-dir status)" = missing ]
	[ "$(check_field state-dir required)" = true ]
	[[ $(check_field state-dir advice) == *"pass --root DIR"* ]]
	run "$CTR" --root "$BATS_TEST_TMPDIR/file/state" check-config
	assert_status 1
	assert_output_contains "missing state-dir: ctr cannot write its state directory"
}

@test "check-config: usage errors exit 2" {
	run "$CTR" check-config --format yaml
	assert_status 2
	run "$CTR" check-config extra
	assert_status 2
	run "$CTR" check-config --help
	assert_success
	assert_output_contains "Usage: ctr check-config"
}

@test "check-config rootless: no subuid entry gets the usermod advice, still exit 0" {
	run as_user -- check-config --format json
	[ "$(check_field mode detail)" = "rootless: $CC_USER (uid $(id -u "$CC_USER"))" ]
	[ "$(check_field subuid status)" = warn ]
	[ "$(check_field subuid required)" = false ]
	[[ $(check_field subuid advice) == "no /etc/subuid entry for $CC_USER: only one uid is mapped; run \`usermod --add-subuids "*" --add-subgids "*" $CC_USER\` as root" ]] ||
		fail "advice: $(check_field subuid advice)"
	[ "$(check_field subgid status)" = warn ]
	[ "$(check_field userns.create required)" = true ]
	[ "$(check_field cgroup.delegation required)" = false ]
	assert_exit_matches_report
	run as_user -- check-config
	assert_output_contains "warn subuid: no /etc/subuid entry for $CC_USER"
}

@test "check-config rootless: a subuid range is reported with its size" {
	usermod --add-subuids "$TEST_RANGE" --add-subgids "$TEST_RANGE" "$CC_USER"
	run as_user -- check-config --format json
	usermod --del-subuids "$TEST_RANGE" --del-subgids "$TEST_RANGE" "$CC_USER"
	[ "$(check_field subuid status)" = ok ] || fail "subuid: $output"
	[ "$(check_field subuid detail)" = "$CC_USER: $TEST_RANGE (65536 ids)" ]
	[ "$(check_field subgid detail)" = "$CC_USER: $TEST_RANGE (65536 ids)" ]
}

@test "check-config rootless: a PATH without newuidmap gets the apt-get advice" {
	run as_user PATH=/nonexistent -- check-config --format json
	[ "$(check_field newuidmap status)" = warn ]
	[[ $(check_field newuidmap advice) == "newuidmap not found: apt-get install uidmap"* ]]
	[[ $(check_field newgidmap advice) == "newgidmap not found: apt-get install uidmap"* ]]
	[ "$(check_field rootless-network status)" = warn ]
	assert_exit_matches_report
	# as root neither is needed
	PATH=/nonexistent run "$CTR" check-config --format json
	[ "$(check_field newuidmap status)" = ok ]
}

@test "check-config rootless: an unwritable state directory is missing, exit 1" {
	run as_user -- --root /var/lib/ctr-check-config-nope check-config --format json
	assert_status 1
	[ "$(check_field state-dir status)" = missing ]
	[[ $(check_field state-dir detail) == *"is not writable"* ]]
	# another user's directory is refused too
	run as_user -- --root /tmp check-config --format json
	assert_status 1
	[[ $(check_field state-dir detail) == *"/tmp\` belongs to uid 0, not to you"* ]]
	# and one to be made in a directory others may write (not sticky), as ctr refuses it
	mkdir -m 0777 "$CC_DIR/open"
	chmod 0777 "$CC_DIR/open"
	run as_user -- --root "$CC_DIR/open/ctr" check-config --format json
	assert_status 1
	[[ $(check_field state-dir detail) == *"\`$CC_DIR/open\` on its path is writable by others"* ]] ||
		fail "$(check_field state-dir detail)"
	mkdir -m 0700 "$CC_DIR/open/ctr"
	chown "$(id -u "$CC_USER")" "$CC_DIR/open/ctr"
	run as_user -- --root "$CC_DIR/open/ctr" list
	assert_failure
	assert_output_contains "\`$CC_DIR/open\` on its path is writable by others"
	# the default, in the user's XDG_RUNTIME_DIR, is fine
	run as_user -- check-config --format json
	[ "$(check_field state-dir status)" = ok ]
	[[ $(check_field state-dir detail) == "$CC_DIR/home/ctr "* ]]
}

@test "check-config rootless: user namespaces disabled by sysctl are missing, exit 1" {
	command -v unshare >/dev/null || skip "needs unshare"
	# the limit is per user namespace: 0 in a fresh one disables nesting only there
	run unshare --user --map-root-user sh -c \
		'echo 0 >/proc/sys/user/max_user_namespaces && exec "$0" check-config --format json' "$CTR"
	assert_status 1
	[ "$(check_field user.max_user_namespaces status)" = missing ]
	[ "$(check_field userns.create status)" = missing ]
	[[ $(check_field userns.create advice) == "user namespaces disabled: sysctl -w user.max_user_namespaces=15000"* ]]
}
