#!/usr/bin/env bats
# rootless_systemd.bats: an ordinary user's Debian systemd guest, in a cgroup v2 subtree
# delegated to the user (as systemd's user@.service gives one): it boots to running in the
# user's ids, answers ssh on a published port, reboots, powers off and halts on its stop
# signal. Only a pure cgroup v2 host can delegate (check-v2's guest); elsewhere `create`
# refuses, which rootless.bats checks. The tree comes from the root build's cache (the
# guest has no mirror): the same release and packages make the same tarball name.

# shellcheck disable=SC2154
# bats file_tags=v2
load helpers

CTR_INIT=${BUILD_DIR:-$(dirname "$CTR")/..}/src/init/ctr-init
export CTR_INIT

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create the test user"
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || return 0
	export RS_USER=ctrtrs$$ TOP=/sys/fs/cgroup/ctrtest-rs-$$
	subids_save
	useradd -M -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s /bin/sh "$RS_USER"
	echo "$RS_USER:400000:65536" >>/etc/subuid
	echo "$RS_USER:400000:65536" >>/etc/subgid
	# what user@.service is: a subtree the user owns, its processes in a leaf of it
	local c
	for c in memory pids cpu; do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
	done
	mkdir "$TOP" "$TOP/deleg" "$TOP/deleg/shell"
	echo "+memory +pids +cpu" >"$TOP/cgroup.subtree_control"
	chown -R "$RS_USER:" "$TOP/deleg"
}

teardown_file() {
	[ -n "${RS_USER:-}" ] || return 0
	pkill -KILL -u "$RS_USER" 2>/dev/null || true
	sleep 0.2
	find "$TOP" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null || true
	rmdir "$TOP" 2>/dev/null || true
	userdel "$RS_USER" 2>/dev/null || true
	subids_restore
}

setup() {
	requires_root
	requires_ctr
	[ -n "${RS_USER:-}" ] || skip "not a pure cgroup v2 host: no subtree to delegate"
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	HOMES=$(mktemp -d /tmp/ctr-rlsd.XXXXXX)
	chmod 0755 "$HOMES"
	mkdir -p "$HOMES/run" "$HOMES/data" "$HOMES/.cache/ctr/debian"
	chmod 0700 "$HOMES/run"
	SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	rs destroy -f "$MARKER" >/dev/null 2>&1 || true
	pkill -KILL -f -- "$MARKER" 2>/dev/null || true
	local left
	left=$(find "$TOP/deleg" -mindepth 1 -type d ! -path "$TOP/deleg/shell" 2>/dev/null)
	rm -rf "$HOMES"
	[ -z "$left" ] || fail "cgroups left in the delegated subtree: $left"
}

# rs VERB ARGS...: ctr as the user, from the delegated subtree's leaf.
rs() {
	# shellcheck disable=SC2016
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' sh "$TOP/deleg/shell" \
		setpriv --reuid="$RS_USER" --regid="$RS_USER" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOMES" \
		XDG_RUNTIME_DIR="$HOMES/run" XDG_DATA_HOME="$HOMES/data" \
		CTR_TEMPLATE_PATH="$SRCDIR/templates" CTR_INIT="$CTR_INIT" \
		CTR_TEST_MARKER="$MARKER" timeout -k 5 "${RS_TIMEOUT:-120}" "$CTR" "$@"
}

rs_state_is() {
	[ "$(rs info --format json "$1" | jq -r .state)" = "$2" ]
}

# ssh root@127.0.0.1 -p PORT: the published sshd, with the test's key.
ssh_guest() {
	ssh -i "$BATS_TEST_TMPDIR/key" -p "$1" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		root@127.0.0.1 'hostname; id -u' </dev/null
}

@test "rootless debian: a systemd guest boots in a delegated cgroup v2 subtree, sshd answers on a published port, reboot and poweroff (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}${CTR_V2_GUEST:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_init
	requires_tools ssh ssh-keygen slirp4netns
	# slirp4netns opens /dev/net/tun, which udev makes 0666 on Debian; the guest has no udev
	if [ "$(stat -c %a /dev/net/tun 2>/dev/null)" != 666 ]; then
		[ -n "${CTR_V2_GUEST:-}" ] || skip "/dev/net/tun is not 0666 here (udev makes it so on Debian)"
		chmod 0666 /dev/net/tun
	fi
	local hash tarball root pid port=18122
	hash=$(printf 'dbus\nopenssh-server\nsystemd-sysv\n' | sha256sum | cut -c1-12)
	tarball=$(ls /var/cache/ctr/debian/bookworm-minbase-*-"$hash".tar 2>/dev/null | head -1)
	[ -n "$tarball" ] || skip "no cached systemd tree (root's system_debian.bats test makes it)"
	cp "$tarball" "$HOMES/.cache/ctr/debian/"
	chown -R "$RS_USER:" "$HOMES"
	RS_TIMEOUT=600 run rs create -t debian "$MARKER" --init systemd --packages openssh-server \
		--release bookworm --net slirp4netns --publish "$port:22"
	assert_success
	# root's key, owned as the guest's root owns /root (the user, on the host)
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
	root=$HOMES/data/ctr/containers/$MARKER/rootfs/root
	install -d -m 0700 -o "$(stat -c %u "$root")" -g "$(stat -c %g "$root")" "$root/.ssh"
	install -m 0600 -o "$(stat -c %u "$root")" -g "$(stat -c %g "$root")" "$BATS_TEST_TMPDIR/key.pub" \
		"$root/.ssh/authorized_keys"
	run rs start "$MARKER"
	assert_success
	RS_TIMEOUT=30 system_is_running "$MARKER" rs
	# root inside is the user, the other ids its subordinate range; systemd's cgroups are in
	# the user's subtree
	run rs attach "$MARKER" -- cat /proc/self/uid_map </dev/null
	[ "$(echo $output)" = "0 $(id -u "$RS_USER") 1 1 400000 65536" ] || fail "uid_map: $output"
	[ -n "$(find "$TOP/deleg" -path "*/$MARKER/init.scope" -type d)" ] ||
		fail "no init.scope in the delegated subtree: $(find "$TOP/deleg" -type d)"
	# sshd (CAP_SYS_CHROOT's chroot let through) answers on the port slirp4netns publishes (pasta
	# would need an interface with a default route, which the v2 guest lacks)
	WAIT_TRIES=600 wait_until sh -c "ss -Htln | grep -q ':$port '"
	run ssh_guest "$port"
	assert_success
	[ "$output" = "$MARKER"$'\n'0 ] || fail "ssh: $output"
	# systemctl reboot: the monitor boots it again, network and all
	pid=$(rs info --format json "$MARKER" | jq -r .pid)
	RS_TIMEOUT=30 rs attach "$MARKER" -- systemctl reboot </dev/null || true
	WAIT_TRIES=1200 wait_until rebooted_from "$MARKER" "$pid" rs ||
		fail "not rebooted: $(rs info --format json "$MARKER"); console: $(rs console --log "$MARKER" | tail -30)" || return 1
	RS_TIMEOUT=30 system_is_running "$MARKER" rs
	WAIT_TRIES=60 wait_until ssh_guest "$port"
	# systemctl poweroff: a clean stop, exit 0
	RS_TIMEOUT=30 rs attach "$MARKER" -- systemctl poweroff </dev/null || true
	WAIT_TRIES=1200 wait_until rs_state_is "$MARKER" stopped ||
		fail "not stopped: $(rs info --format json "$MARKER"); console: $(rs console --log "$MARKER" | tail -30)" || return 1
	[ "$(rs info --format json "$MARKER" | jq -r .last_exit)" = 0 ] ||
		fail "$(rs info --format json "$MARKER")"
	run rs console --log "$MARKER"
	assert_output_contains "Powering off"
	# and a stop with its signal halts it
	run rs start "$MARKER"
	assert_success
	RS_TIMEOUT=30 system_is_running "$MARKER" rs
	run rs stop -t 120 "$MARKER"
	assert_success
	run rs console --log "$MARKER"
	assert_output_contains "Halting system"
	run rs destroy "$MARKER"
	assert_success
}
