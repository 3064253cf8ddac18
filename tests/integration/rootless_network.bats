#!/usr/bin/env bats
# rootless_network.bats: user-mode networking (slirp4netns, pasta, "user") for system
# containers and foreground `ctr run`, as root and as an unprivileged user: an address, a
# default route, DNS, the host reachable, published ports, and no helper left behind.

# shellcheck disable=SC2154
load helpers

# An unprivileged user with a subordinate range, made for the file and removed after (a
# fresh CI machine has no such user).
setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create the test user"
	export RL_USER=ctrtun$$
	subids_save
	useradd -M -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s /bin/sh "$RL_USER"
	echo "$RL_USER:400000:65536" >>/etc/subuid
	echo "$RL_USER:400000:65536" >>/etc/subgid
}

teardown_file() {
	[ -n "${RL_USER:-}" ] || return 0
	pkill -KILL -u "$RL_USER" 2>/dev/null || true
	userdel "$RL_USER" 2>/dev/null || true
	subids_restore
}

setup() {
	system_setup || return 1
	NAME=um-${BATS_SUITE_TEST_NUMBER}-$$
	# ports unique per test run
	PORT=$((20000 + ($$ + BATS_SUITE_TEST_NUMBER * 7) % 20000))
	HOMES=
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	if [ -n "$HOMES" ]; then
		for n in $(as_user ls -q 2>/dev/null | tail -n +2 | awk '{print $1}'); do
			as_user destroy -f "$n" >/dev/null 2>&1 || true
		done
		for n in $(as_user list -q 2>/dev/null); do
			as_user delete -f "$n" >/dev/null 2>&1 || true
		done
	fi
	delete_all_containers
	local left=
	[ -z "$HOMES" ] || left=$(ls -A "$HOMES/run/ctr" 2>/dev/null || true)
	[ -z "$HOMES" ] || rm -rf "$HOMES"
	check_no_leaks || {
		remove_leftovers
		return 1
	}
	[ -z "$left" ] || fail "left in the user's runtime dir: $left"
}

requires_helper() {
	command -v "$1" >/dev/null || skip "$1 not installed (Debian package ${2:-$1})"
}

# The helpers open /dev/net/tun as the user: a host without udev may leave it mode 0600.
requires_tun() {
	setpriv --reuid="$RL_USER" --regid="$RL_USER" --init-groups test -r /dev/net/tun -a -w /dev/net/tun ||
		skip "/dev/net/tun is mode $(stat -c %a /dev/net/tun): $RL_USER cannot open it (udev makes it 0666)"
}

# The host's own (non-loopback) address: user-mode containers never reach the host's
# loopback, they reach the host there.
host_address() {
	ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p'
}

# A one-shot TCP server on every host address, answering $1 and closing.
host_server() {
	bg busybox nc -l -p "$PORT" -e echo "$1"
	wait_until busybox sh -c "netstat -ltn | grep -q ':$PORT '"
}

# published PORT TEXT: the container's server answers TEXT through the host's PORT.
published() {
	wait_until sh -c "timeout 5 busybox nc 127.0.0.1 $1 </dev/null | grep -q $2"
}

# helpers_alive: user-mode helpers carrying this test's marker (zombies excluded).
helpers_alive() {
	leaked_processes | grep -E 'slirp4netns|pasta' || true
}

# The per-test user setup: the file's user (with a subordinate range) with its own runtime
# and data directories.
user_setup() {
	id "$RL_USER" >/dev/null 2>&1 || skip "user $RL_USER missing"
	grep -q "^$RL_USER:" /etc/subuid || skip "$RL_USER has no subordinate range"
	HOMES=$(mktemp -d /tmp/ctr-umnet.XXXXXX)
	chmod 0755 "$HOMES"
	mkdir -p "$HOMES/run" "$HOMES/data"
	chmod 0700 "$HOMES/run"
	chown -R "$RL_USER:" "$HOMES"
}

as_user() {
	setpriv --reuid="$RL_USER" --regid="$RL_USER" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOMES" \
		XDG_RUNTIME_DIR="$HOMES/run" XDG_DATA_HOME="$HOMES/data" \
		CTR_TEMPLATE_PATH="$SRCDIR/templates" CTR_INIT="$BUILD_DIR/src/init/ctr-init" \
		CTR_TEST_MARKER="$MARKER" timeout -k 5 30 "$CTR" "$@"
}

# check_inside RUNNER NAME NAMESERVER: eth0 has an address, a default route exists and
# resolv.conf names the helper's forwarder.
check_inside() {
	run "$1" exec "$2" sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/resolv.conf'
	assert_success
	assert_output_contains "inet " "default via" "nameserver $3"
}

@test "slirp4netns system container: address, route, resolv.conf, the host, a published port" {
	requires_helper slirp4netns
	local addr
	addr=$(host_address)
	[ -n "$addr" ] || skip "no host address with a route"
	run ctr create -t busybox "$NAME" --net slirp4netns --publish "$((PORT + 1)):80"
	assert_success
	run ctr start "$NAME"
	assert_success
	run ctr ls
	assert_output_contains "10.0.2.100/24"
	check_inside ctr "$NAME" 10.0.2.3
	# no API socket left in the state directory once the ports are published
	[ ! -e "$STATE_ROOT/$NAME/slirp4netns.sock" ] || fail "API socket left"
	host_server host-says-hi
	run ctr exec "$NAME" timeout 5 nc "$addr" "$PORT"
	assert_success
	assert_output_contains host-says-hi
	run_logged ctr exec -d "$NAME" nc -l -p 80 -e echo container-says-hi
	assert_success
	published $((PORT + 1)) container-says-hi
	[ -n "$(helpers_alive)" ] || fail "no slirp4netns with the container"
	run ctr stop -t 0 "$NAME"
	assert_success
	wait_until_none helpers_alive
}

@test "pasta system container: host's address, published port; the monitor's death ends pasta" {
	requires_helper pasta passt
	run ctr create -t busybox "$NAME" --net user --publish "$PORT:80"
	assert_success
	run ctr start "$NAME"
	assert_success
	check_inside ctr "$NAME" 169.254.1.1
	run_logged ctr exec -d "$NAME" nc -l -p 80 -e echo pasta-says-hi
	assert_success
	published "$PORT" pasta-says-hi
	[ -n "$(helpers_alive)" ] || fail "no pasta with the container"
	kill -KILL "$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")"
	wait_until_none helpers_alive
	run ctr stop "$NAME"
	assert_success
}

@test "user-mode networks: alone, without --ip, and refused for a detached run" {
	run ctr create -t busybox "$NAME" --net user --net ctr0
	assert_failure
	assert_output_contains "cannot be combined"
	make_bundle sh -c 'ip route; cat /proc/net/dev'
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
	run_logged ctr run -d --net user --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "needs the foreground" "system container"
	[ "$(grep -c . <<<"$output")" = 1 ] || fail "not one line: $output"
	run ctr list -q
	[ -z "$output" ] || fail "left: $output"
}

@test "ctr run --net user in the foreground: eth0, a default route; nothing left" {
	command -v pasta >/dev/null || command -v slirp4netns >/dev/null ||
		skip "neither pasta nor slirp4netns installed"
	make_bundle sh -c 'ip -4 -o addr show eth0 && ip route'
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
	run ctr run --net user --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains "inet " "default via"
	[ -z "$(helpers_alive)" ] || fail "helper left: $(helpers_alive)"
}

# Rootless: the user's own helper joins the container's user and network namespaces.
# skip_if_blocked: the known gaps this needs closed elsewhere, named rather than failed.
skip_if_blocked() {
	case $output in
	*"no network namespace of its own"*) skip "rootless system containers lack a network namespace (oci/spec.c)" ;;
	*"ns/net\`: Permission denied"*) skip "the unprivileged owner cannot open the non-dumpable container's namespaces (container.c must hand them over)" ;;
	esac
}

@test "rootless: system container --net slirp4netns reaches the host, publishes a port, stops clean" {
	requires_helper slirp4netns
	user_setup
	requires_tun
	local addr
	addr=$(host_address)
	[ -n "$addr" ] || skip "no host address with a route"
	run as_user create -t busybox "$NAME" --net slirp4netns --publish "$((PORT + 2)):80"
	assert_success
	run as_user start "$NAME"
	skip_if_blocked
	assert_success
	check_inside as_user "$NAME" 10.0.2.3
	host_server host-says-hi
	run as_user exec "$NAME" timeout 5 nc "$addr" "$PORT"
	assert_success
	assert_output_contains host-says-hi
	run_logged as_user exec -d "$NAME" nc -l -p 80 -e echo rootless-says-hi
	assert_success
	published $((PORT + 2)) rootless-says-hi
	[ "$(ps -o user= -p "$(helpers_alive | awk 'NR == 1 {print $1}')")" = "$RL_USER" ] ||
		fail "the helper is not the user's: $(helpers_alive)"
	run as_user stop -t 0 "$NAME"
	assert_success
	wait_until_none helpers_alive
}

@test "rootless: ctr run --net user in the foreground" {
	command -v pasta >/dev/null || command -v slirp4netns >/dev/null ||
		skip "neither pasta nor slirp4netns installed"
	user_setup
	requires_tun
	make_bundle
	mv "$BUNDLE" "$HOMES/bundle"
	BUNDLE=$HOMES/bundle
	chown -R "$RL_USER:" "$BUNDLE"
	# the user's own `ctr spec --rootless`, with a network namespace of its own
	rm "$BUNDLE/config.json"
	(cd "$BUNDLE" && as_user spec --rootless) || fail "spec --rootless failed"
	update_config '.process.terminal = false | .root.path = "rootfs"
		| .process.env += ["CTR_TEST_MARKER=" + $m]
		| .process.args = ["sh", "-c", "ip -4 -o addr show eth0 && ip route"]
		| .linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])' \
		--arg m "$MARKER"
	chown -R "$RL_USER:" "$BUNDLE"
	run as_user run --net user --bundle "$BUNDLE" "$(cid)"
	skip_if_blocked
	assert_success
	assert_output_contains "inet " "default via"
	[ -z "$(helpers_alive)" ] || fail "helper left: $(helpers_alive)"
}

@test "rootless --net user: /etc/hosts goes where the container sees it (an overlay pool's volume, an ephemeral layer), not under it" {
	command -v pasta >/dev/null || command -v slirp4netns >/dev/null ||
		skip "neither pasta nor slirp4netns installed"
	user_setup
	requires_tun
	local store=$HOMES/data/ctr/containers
	run as_user pool create "ov$$" --type overlay --path "$HOMES/ovpool"
	assert_success
	run as_user create -t busybox "$NAME" --net user --pool "ov$$"
	assert_success
	run as_user start "$NAME"
	skip_if_blocked
	assert_success
	run as_user exec "$NAME" grep -c "	$NAME\$" /etc/hosts
	assert_output_contains 1
	[ ! -e "$store/$NAME/rootfs/etc" ] || fail "written under the volume, on the host's rootfs directory"
	run as_user stop -t 0 "$NAME"
	run as_user destroy "$NAME"
	assert_success

	run as_user create -t busybox "$NAME" --net user
	assert_success
	local before
	before=$(cat "$store/$NAME/rootfs/etc/hosts")
	run as_user start --ephemeral "$NAME"
	assert_success
	run as_user exec "$NAME" cat /etc/hosts
	assert_output_contains "127.0.0.1	localhost"
	[[ $output == *[0-9]"	$NAME"* ]] || fail "no address for $NAME: $output"
	[ "$(cat "$store/$NAME/rootfs/etc/hosts")" = "$before" ] || fail "the run wrote the container's own rootfs"
	run as_user stop -t 0 "$NAME"
	run as_user destroy "$NAME"
	assert_success
	run as_user pool rm "ov$$"
	assert_success
}
