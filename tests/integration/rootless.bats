#!/usr/bin/env bats
# rootless.bats: ctr as an unprivileged user: bundles, exec, system containers, attach;
# ownership through the user namespace, subordinate ranges, the user's own state and store,
# other users kept out, nothing left in the user's runtime directory.

# shellcheck disable=SC2154
load helpers

# Two users made for the suite: one with a subordinate range, one without.
setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root to create the test users"
	export RL_USER=ctrtrl$$ RL_BARE=ctrtrb$$
	subids_save
	useradd -M -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s /bin/sh "$RL_USER"
	useradd -M -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s /bin/sh "$RL_BARE"
	echo "$RL_USER:300000:65536" >>/etc/subuid
	echo "$RL_USER:300000:65536" >>/etc/subgid
}

teardown_file() {
	[ -n "${RL_USER:-}" ] || return 0
	pkill -KILL -u "$RL_USER" 2>/dev/null || true
	pkill -KILL -u "$RL_BARE" 2>/dev/null || true
	userdel "$RL_USER" 2>/dev/null || true
	userdel "$RL_BARE" 2>/dev/null || true
	subids_restore
}

setup() {
	requires_root
	requires_ctr
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	# the test's own directories, owned by the users (as their XDG dirs would be; bats'
	# own temporary directories are root's alone)
	HOMES=$(mktemp -d /tmp/ctr-rootless.XXXXXX)
	chmod 0755 "$HOMES"
	mkdir -p "$HOMES/$RL_USER/run" "$HOMES/$RL_USER/data" "$HOMES/$RL_BARE/run" "$HOMES/$RL_BARE/data"
	chown -R "$RL_USER:" "$HOMES/$RL_USER"
	chown -R "$RL_BARE:" "$HOMES/$RL_BARE"
	chmod 0700 "$HOMES/$RL_USER/run" "$HOMES/$RL_BARE/run"
	SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	BUILD_DIR=${BUILD_DIR:-$(dirname "$(dirname "$CTR")")}
	# a bundle the user owns, with the config `ctr spec` writes for root
	BUNDLE=$HOMES/$RL_USER/bundle
	make_rootless_bundle "$BUNDLE" "$RL_USER"
}

teardown() {
	local u
	[ -n "${MARKER:-}" ] || return 0
	for u in "$RL_USER" "$RL_BARE"; do
		for n in $(as "$u" ls -q 2>/dev/null | tail -n +2 | awk '{print $1}'); do
			as "$u" destroy -f "$n" >/dev/null 2>&1 || true
		done
		for n in $(as "$u" list -q 2>/dev/null); do
			as "$u" delete -f "$n" >/dev/null 2>&1 || true
		done
	done
	# root's own, of the import test
	for n in "$MARKER-r" "$MARKER-back"; do
		"$CTR" destroy -f "$n" >/dev/null 2>&1 || true
	done
	pkill -KILL -f -- "$MARKER" 2>/dev/null || true
	# the btrfs test's filesystem, after the containers in it
	if [ -n "${LOOP:-}" ]; then
		umount "$HOMES/mnt" 2>/dev/null || umount -l "$HOMES/mnt"
		losetup -d "$LOOP"
	fi
	# the lxcfs test's own lxcfs, after the containers that used it
	if [ -n "${LXCFS_PID:-}" ]; then
		kill "$LXCFS_PID" 2>/dev/null || true
		wait "$LXCFS_PID" 2>/dev/null || true
		! grep -qF " $LXCFS_DIR " /proc/self/mountinfo || umount -l "$LXCFS_DIR"
	fi
	# nothing left in the users' runtime directories
	local left
	left=$(find "$HOMES/$RL_USER/run/ctr" "$HOMES/$RL_BARE/run/ctr" -mindepth 1 2>/dev/null || true)
	rm -rf "$HOMES"
	[ -z "$left" ] || fail "left in the runtime dirs: $left"
}

# make_rootless_bundle DIR USER: busybox + the test helper, owned by USER.
make_rootless_bundle() {
	build_template || return 1
	mkdir -p "$1"
	cp -a "$BATS_RUN_TMPDIR/template/rootfs" "$1/rootfs"
	cp "$BATS_RUN_TMPDIR/template/config.json" "$1/config.json"
	jq '.process.terminal = false | .root.path = "rootfs"
		| .process.env += ["CTR_TEST_MARKER=" + $m] | .process.args = ["sleep", "3600"]' \
		--arg m "$MARKER" "$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
	chown -R "$2:" "$1"
}

# as USER VERB ARGS...: ctr as USER with that user's runtime and data directories ($RL_ENV:
# more VAR=VALUE words for env(1); later ones win, an empty value unsets).
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOMES/$u" \
		XDG_RUNTIME_DIR="$HOMES/$u/run" XDG_DATA_HOME="$HOMES/$u/data" \
		CTR_TEMPLATE_PATH="$SRCDIR/templates" CTR_INIT="$BUILD_DIR/src/init/ctr-init" \
		CTR_TEST_MARKER="$MARKER" ${RL_PATH:+PATH=$RL_PATH} ${RL_ENV:-} \
		timeout -k 5 "${AS_TIMEOUT:-60}" "$CTR" "$@"
}

set_bundle_args() {
	jq --argjson a "$1" '.process.args = $a' "$BUNDLE/config.json" >"$BUNDLE/c" &&
		mv "$BUNDLE/c" "$BUNDLE/config.json" && chown "$RL_USER:" "$BUNDLE/config.json"
}

@test "rootless run: root inside is the user; the subordinate range maps 65536 more ids" {
	set_bundle_args '["sh", "-c", "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox"]'
	run --separate-stderr as "$RL_USER" run --bundle "$BUNDLE" "$MARKER"
	assert_success
	uid=$(id -u "$RL_USER")
	[ "$(sed -n 1p <<<"$output")" = 0 ] || fail "$output"
	grep -Eq "^ *0 +$uid +1$" <<<"$output" || fail "root is not the user: $output"
	grep -Eq "^ *1 +300000 +65536$" <<<"$output" || fail "no 65536-id range: $output"
	# the user's files are root's inside
	[ "$(sed -n '$p' <<<"$output")" = 0 ] || fail "$output"
	[ ! -e "/run/ctr/$MARKER" ]
}

@test "rootless run without a subordinate range: only the user's id, and a note saying how" {
	make_rootless_bundle "$HOMES/$RL_BARE/bundle" "$RL_BARE"
	BUNDLE=$HOMES/$RL_BARE/bundle
	jq '.process.args = ["cat", "/proc/self/uid_map"]' "$BUNDLE/config.json" >"$BUNDLE/c"
	mv "$BUNDLE/c" "$BUNDLE/config.json"
	chown -R "$RL_BARE:" "$BUNDLE"
	run as "$RL_BARE" run --bundle "$BUNDLE" "$MARKER"
	assert_success
	[ "$(grep -c . <<<"$(grep -E '^ *[0-9]' <<<"$output")")" = 1 ] || fail "$output"
	[[ $output == *"no /etc/subuid and /etc/subgid range"* ]] || fail "no note: $output"
}

# run_d USER: a detached run of $BUNDLE (its stdio on a file: the container keeps it).
run_d() {
	as "$1" run -d --bundle "$BUNDLE" "$MARKER" </dev/null >"$BATS_TEST_TMPDIR/run-d.log" 2>&1 ||
		fail "run -d: $(cat "$BATS_TEST_TMPDIR/run-d.log")"
}

@test "rootless exec and state: the user's own state dir, nothing under /run/ctr" {
	run_d "$RL_USER"
	[ -d "$HOMES/$RL_USER/run/ctr/$MARKER" ]
	[ "$(stat -c %a "$HOMES/$RL_USER/run/ctr")" = 700 ]
	[ ! -e "/run/ctr/$MARKER" ]
	run --separate-stderr as "$RL_USER" exec "$MARKER" id -u
	assert_success
	[ "$output" = 0 ]
	run as "$RL_USER" state "$MARKER"
	[ "$(jq -r .status <<<"$output")" = running ]
	run as "$RL_USER" delete -f "$MARKER"
	assert_success
}

@test "another user cannot reach a user's containers" {
	run_d "$RL_USER"
	run as "$RL_BARE" --root "$HOMES/$RL_USER/run/ctr" state "$MARKER"
	assert_failure
	run as "$RL_BARE" --root "$HOMES/$RL_USER/run/ctr" kill "$MARKER" KILL
	assert_failure
	run as "$RL_BARE" --root "$HOMES/$RL_USER/run/ctr" list
	[ -z "$(grep -F "$MARKER" <<<"$output")" ] || fail "listed: $output"
	# and its own default root does not show it
	run as "$RL_BARE" list -q
	[ -z "$output" ] || fail "$output"
	run as "$RL_USER" state "$MARKER"
	[ "$(jq -r .status <<<"$output")" = running ]
}

@test "rootless system container: create, start, attach sees root, files are the user's, stop, destroy" {
	run as "$RL_USER" create -t busybox "$MARKER"
	assert_success
	[ -d "$HOMES/$RL_USER/data/ctr/containers/$MARKER/rootfs" ] || fail "store not in the data dir"
	[ "$(stat -c %U "$HOMES/$RL_USER/data/ctr/containers/$MARKER/rootfs/etc/passwd")" = "$RL_USER" ]
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c 'id -u; touch /root/made-inside'
	assert_success
	[ "$output" = 0 ]
	# root inside wrote it: the user owns it on the host
	[ "$(stat -c %U "$HOMES/$RL_USER/data/ctr/containers/$MARKER/rootfs/root/made-inside")" = "$RL_USER" ]
	run as "$RL_USER" ls --format json
	[ "$(jq -r '.[0].state' <<<"$output")" = running ]
	run as "$RL_USER" stop "$MARKER"
	assert_success
	run as "$RL_USER" destroy "$MARKER"
	assert_success
	[ ! -e "$HOMES/$RL_USER/data/ctr/containers/$MARKER" ]
}

# rl_info FIELD: a field of the test container's `info`, as the user.
rl_info() {
	as "$RL_USER" info --format json "$MARKER" | jq -r ".$1"
}

# rl VERB ARGS...: ctr as the test user.
rl() {
	as "$RL_USER" "$@"
}

@test "rootless system container: the guest's reboot boots it again, its poweroff stops it with exit 0" {
	local pid
	run as "$RL_USER" create -t busybox "$MARKER"
	assert_success
	run as "$RL_USER" start "$MARKER"
	assert_success
	pid=$(rl_info pid)
	# init's reboot(2) in its own pid namespace, which the monitor must see although a
	# rootless init's /proc/PID/ns is closed to it
	as "$RL_USER" attach "$MARKER" -- reboot -f </dev/null || true
	wait_until rebooted_from "$MARKER" "$pid" rl ||
		fail "not rebooted: $(rl_info state) last_exit $(rl_info last_exit)" || return 1
	[ "$(rl_info restarts)" = 1 ]
	as "$RL_USER" attach "$MARKER" -- poweroff -f </dev/null || true
	wait_until eval '[ "$(rl_info state)" = stopped ]'
	[ "$(rl_info last_exit)" = 0 ] || fail "last_exit $(rl_info last_exit)"
	run as "$RL_USER" destroy "$MARKER"
	assert_success
}

@test "rootless system container gets lxcfs's files, read-only, in its user namespace" {
	requires_tools lxcfs
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	LXCFS_DIR=$HOMES/lxcfs
	mkdir "$LXCFS_DIR"
	lxcfs -f -p "$HOMES/lxcfs.pid" "$LXCFS_DIR" >"$HOMES/lxcfs.log" 2>&1 </dev/null 3>&- &
	LXCFS_PID=$!
	wait_until test -f "$LXCFS_DIR/proc/meminfo" || fail "lxcfs: $(cat "$HOMES/lxcfs.log")"
	local RL_ENV="CTR_LXCFS_DIR=$LXCFS_DIR"
	run as "$RL_USER" create -t busybox "$MARKER"
	assert_success
	run as "$RL_USER" config "$MARKER" set lxcfs true
	assert_success
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c \
		'grep -c " ro,[^ ]* - fuse.lxcfs " /proc/self/mountinfo; cut -d. -f1 /proc/uptime' </dev/null
	assert_success
	[ "${lines[0]}" = 8 ] || fail "lxcfs mounts inside: $output"
	[ "${lines[1]}" -lt "$(cut -d. -f1 /proc/uptime)" ] || fail "uptime inside: ${lines[1]}"
	run as "$RL_USER" stop "$MARKER"
	assert_success
}

@test "rootless app container runs a host program; its status comes back" {
	run as "$RL_USER" create -t app "$MARKER" -- /bin/sh -c 'exit 4'
	assert_success
	run as "$RL_USER" start -F "$MARKER"
	[ "$status" -eq 4 ] || fail "status $status: $output"
}

@test "rootless templates run in the user namespace; debian without mmdebstrap names it and its package" {
	run as "$RL_USER" create -t busybox "$MARKER"
	assert_success
	# root-owned inside, the user's on the host
	[ "$(stat -c %u "$HOMES/$RL_USER/data/ctr/containers/$MARKER/rootfs/etc/shadow")" = "$(id -u "$RL_USER")" ]
	# every program of the host but mmdebstrap
	local bin=$HOMES/bin f
	mkdir "$bin"
	for f in /usr/sbin/* /usr/bin/*; do
		[ "${f##*/}" = mmdebstrap ] || ln -sf "$f" "$bin/"
	done
	RL_PATH=$bin run as "$RL_USER" create -t debian "$MARKER-deb"
	assert_failure
	grep -Fx "ctr-debian: mmdebstrap not found (rootless debian containers are built with it): apt-get install mmdebstrap" <<<"$output" ||
		fail "$output"
	[ "$(grep -c mmdebstrap <<<"$output")" = 1 ] || fail "not one line: $output"
	[ ! -e "$HOMES/$RL_USER/data/ctr/containers/$MARKER-deb" ]
	[ -z "$(ls -A "$HOMES/$RL_USER/data/ctr/containers" | grep -v "^$MARKER\$")" ] ||
		fail "left in the store: $(ls -A "$HOMES/$RL_USER/data/ctr/containers")"
}

@test "rootless destroy removes directories of the container's other users (a package's 0700 one)" {
	run as "$RL_USER" create -t busybox "$MARKER" --net none
	assert_success
	# what postgresql's package, or systemd's /run/systemd/netif, leaves: a directory of
	# another id of the range, closed to others, with files in it
	local root=$HOMES/$RL_USER/data/ctr/containers/$MARKER/rootfs
	mkdir -p "$root/var/lib/pg/sub"
	touch "$root/var/lib/pg/sub/f"
	chown "$RL_USER:" "$root/var" "$root/var/lib"
	chown -R 300070:300070 "$root/var/lib/pg"
	chmod 0700 "$root/var/lib/pg" "$root/var/lib/pg/sub"
	run as "$RL_USER" destroy "$MARKER"
	assert_success
	[ -z "$(ls -A "$HOMES/$RL_USER/data/ctr/containers")" ] ||
		fail "left in the store: $(ls -A "$HOMES/$RL_USER/data/ctr/containers")"
}

# rl_owner PATH: "UID:GID MODE" of PATH on the host.
rl_owner() {
	stat -c '%u:%g %a' "$1"
}

@test "rootless snapshot, restore, clone, export, import and move keep the owners of the subordinate range" {
	local store=$HOMES/$RL_USER/data/ctr/containers
	run as "$RL_USER" create -t busybox "$MARKER" --net none
	assert_success
	# a directory of another id of the range, closed to others (the user alone cannot
	# read it, nor give a copy its owner)
	local root=$store/$MARKER/rootfs
	mkdir -p "$root/var/lib/pg"
	echo data >"$root/var/lib/pg/f"
	chown "$RL_USER:" "$root/var" "$root/var/lib"
	chown -R 300070:300071 "$root/var/lib/pg"
	chmod 0700 "$root/var/lib/pg"
	chmod 0600 "$root/var/lib/pg/f"

	run as "$RL_USER" snapshot create "$MARKER" s1
	assert_success
	[ "$(rl_owner "$store/$MARKER/snapshots/s1/rootfs/var/lib/pg/f")" = "300070:300071 600" ]
	# what a restore must take back
	touch "$root/after-s1"
	chown -R 300009:300009 "$root/var/lib/pg"
	run as "$RL_USER" snapshot restore "$MARKER" s1
	assert_success
	[ ! -e "$store/$MARKER/rootfs/after-s1" ] || fail "a file made after the snapshot is still there"
	[ "$(rl_owner "$store/$MARKER/rootfs/var/lib/pg")" = "300070:300071 700" ]

	run as "$RL_USER" clone "$MARKER" "$MARKER-c"
	assert_success
	[ "$(rl_owner "$store/$MARKER-c/rootfs/var/lib/pg/f")" = "300070:300071 600" ]
	[ "$(cat "$store/$MARKER-c/rootfs/var/lib/pg/f")" = data ]

	# the archive holds the ids inside the container (the range starts at 1: 0 is the user)
	run as "$RL_USER" export "$MARKER" "$HOMES/$RL_USER/c.tar"
	assert_success
	run tar -tvf "$HOMES/$RL_USER/c.tar" --numeric-owner "$MARKER/rootfs/var/lib/pg/f"
	assert_success
	assert_output_contains " 71/72 "
	run as "$RL_USER" import "$HOMES/$RL_USER/c.tar" "$MARKER-i"
	assert_success
	[ "$(rl_owner "$store/$MARKER-i/rootfs/var/lib/pg/f")" = "300070:300071 600" ]
	[ "$(stat -c %u "$store/$MARKER-i/rootfs/etc/passwd")" = "$(id -u "$RL_USER")" ]

	# and into another pool and back
	run as "$RL_USER" pool create "p$$" --type dir --path "$HOMES/$RL_USER/pool"
	assert_success
	run as "$RL_USER" move "$MARKER-i" --pool "p$$"
	assert_success
	[ "$(rl_owner "$HOMES/$RL_USER/pool/$MARKER-i/var/lib/pg/f")" = "300070:300071 600" ]
	run as "$RL_USER" start "$MARKER-i"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER-i" -- stat -c '%u:%g' /var/lib/pg/f
	assert_success
	[ "$output" = "71:72" ]
	run as "$RL_USER" stop -t 1 "$MARKER-i"

	run as "$RL_USER" snapshot rm "$MARKER" s1
	assert_success
	for n in "$MARKER" "$MARKER-c" "$MARKER-i"; do
		run as "$RL_USER" destroy "$n"
		assert_success
	done
	run as "$RL_USER" pool rm "p$$"
	assert_success
	[ -z "$(ls -A "$store" | grep -vx .pools)" ] || fail "left in the store: $(ls -A "$store")"
}

@test "an export of root's unprivileged container imports for a user, in the user's mapping, and back for root, in a range of root's" {
	local store=$HOMES/$RL_USER/data/ctr/containers uid
	uid=$(id -u "$RL_USER")
	run "$CTR" create -t busybox "$MARKER-r" --net none
	assert_success
	run "$CTR" export "$MARKER-r" "$HOMES/r.tar"
	assert_success
	"$CTR" destroy "$MARKER-r"
	chmod 0644 "$HOMES/r.tar"

	run as "$RL_USER" import "$HOMES/r.tar" "$MARKER"
	assert_success
	[ "$(stat -c %u "$store/$MARKER/rootfs/etc/passwd")" = "$uid" ]
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- cat /proc/self/uid_map
	assert_success
	[ "$(awk 'NR == 1 {print $1, $2}' <<<"$output")" = "0 $uid" ] || fail "uid_map: $output"
	run as "$RL_USER" stop -t 1 "$MARKER"
	# a snapshot's config (restored) keeps the user's mapping
	run as "$RL_USER" snapshot create "$MARKER" s
	assert_success
	run as "$RL_USER" snapshot restore "$MARKER" s
	assert_success
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$store/$MARKER/config.json")" = "$uid" ]
	run as "$RL_USER" export "$MARKER" "$HOMES/$RL_USER/u.tar"
	assert_success

	# root takes it only as its own file
	cp "$HOMES/$RL_USER/u.tar" "$HOMES/u.tar"
	run "$CTR" import "$HOMES/u.tar" "$MARKER-back"
	assert_success
	run "$CTR" config "$MARKER-back" get idmap
	assert_success
	[ "$output" != false ] || fail "imported privileged: $output"
	run "$CTR" start "$MARKER-back"
	assert_success
	run "$CTR" exec "$MARKER-back" -- sh -c 'cat /proc/self/uid_map; stat -c %u /etc/passwd'
	assert_success
	"$CTR" stop -t 1 "$MARKER-back" || true
	"$CTR" destroy -f "$MARKER-back"
	[ "$(awk 'NR == 1 {print $1, $3}' <<<"$output")" = "0 65536" ] || fail "uid_map: $output"
	[ "$(awk 'NR == 1 {print $2}' <<<"$output")" != "$uid" ] || fail "root's import runs as the user: $output"
	[ "$(tail -n 1 <<<"$output")" = 0 ] || fail "/etc/passwd not root's inside: $output"
}

@test "rootless start --ephemeral: the run writes a throw-away layer the container mounts itself, gone at its stop" {
	local store=$HOMES/$RL_USER/data/ctr/containers
	run as "$RL_USER" create -t busybox "$MARKER" --net none
	assert_success
	run as "$RL_USER" start --ephemeral "$MARKER"
	assert_success
	# a file of root inside and one of another id of the range (removed as that range's)
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c \
		'echo run >/etc/eph && mkdir /var/db && echo x >/var/db/f && chown -R 5:5 /var/db && chmod 700 /var/db && cat /etc/eph'
	assert_success
	[ "$output" = run ]
	[ ! -e "$store/$MARKER/rootfs/etc/eph" ] || fail "the run wrote the container's rootfs"
	[ -e "$store/$MARKER/.ephemeral/upper/etc/eph" ] || fail "no layer in the store"
	# nothing mounted in the host's namespace: the container mounted its overlay itself
	! grep -F "$store/$MARKER" /proc/self/mountinfo || fail "a mount on the host"
	run as "$RL_USER" ls --format json
	[ "$(jq -r --arg n "$MARKER" '.[] | select(.name == $n) | .ephemeral' <<<"$output")" = true ] || fail "$output"
	run as "$RL_USER" stop -t 1 "$MARKER"
	[ ! -e "$store/$MARKER/.ephemeral" ] || fail "the layer is left: $(find "$store/$MARKER/.ephemeral")"
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c 'ls /etc/eph /var/db 2>&1; true'
	[[ $output == *"No such file"* ]] || fail "the run's changes are still there: $output"
	run as "$RL_USER" stop -t 1 "$MARKER"
	# an ephemeral clone: made as root of the user's namespace, started under the lock its
	# staging took, gone with its run (the 0700 directory of id 5 copied with its owner)
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c 'mkdir /var/k && chown 5:5 /var/k && chmod 700 /var/k'
	assert_success
	run as "$RL_USER" stop -t 1 "$MARKER"
	run as "$RL_USER" clone --ephemeral "$MARKER" "$MARKER-e"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER-e" -- sh -c 'hostname; stat -c %u /var/k; echo e >/etc/only-e'
	assert_success
	[ "$output" = "$MARKER-e
5" ] || fail "the ephemeral clone: $output"
	[ ! -e "$store/$MARKER/rootfs/etc/only-e" ] || fail "the clone wrote its source"
	run as "$RL_USER" stop -t 1 "$MARKER-e"
	[ ! -e "$store/$MARKER-e" ] && [ ! -e "$store/.$MARKER-e.new" ] || fail "the clone is left: $(ls -A "$store")"
	run as "$RL_USER" ls --format json
	[ "$(jq -r --arg n "$MARKER-e" '[.[] | select(.name == $n)] | length' <<<"$output")" = 0 ] || fail "$output"
	run as "$RL_USER" destroy "$MARKER"
	assert_success
}

@test "rootless overlay pool: the container mounts its layers itself; the base is shared, clone and export see the whole tree, nothing is mounted on the host" {
	local store=$HOMES/$RL_USER/data/ctr/containers pool=$HOMES/$RL_USER/ovpool
	run as "$RL_USER" pool create "ov$$" --type overlay --path "$pool"
	assert_success
	run as "$RL_USER" create -t busybox "$MARKER" --net none --pool "ov$$"
	assert_success
	# its own name and hosts over the base: the upper holds only those
	[ "$(find "$pool/$MARKER/upper" -type f | wc -l)" -le 3 ] || fail "the upper holds a copy: $(find "$pool/$MARKER/upper" | head)"
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c \
		'hostname; echo one >/root/f; mkdir /var/db && echo s >/var/db/x && chown -R 7:7 /var/db && chmod 700 /var/db; grep " / " /proc/self/mountinfo'
	assert_success
	[ "$(head -n 1 <<<"$output")" = "$MARKER" ] || fail "hostname: $output"
	[[ $output == *" / "*overlay*"upperdir=$pool/$MARKER/upper"*userxattr* ]] || fail "root is not its overlay: $output"
	[ "$(cat "$pool/$MARKER/upper/root/f")" = one ]
	! grep -F "$pool" /proc/self/mountinfo || fail "a mount of the pool on the host"
	run as "$RL_USER" stop -t 1 "$MARKER"

	# a copy out of and into a stopped one: its volume mounted in a child's namespace,
	# never on the host, gone when the copy ends
	run as "$RL_USER" cp "$MARKER:/root/f" "$HOMES/$RL_USER/f"
	assert_success
	[ "$(cat "$HOMES/$RL_USER/f")" = one ] || fail "cp out: $(cat "$HOMES/$RL_USER/f")"
	echo two >"$HOMES/$RL_USER/g"
	chown "$RL_USER:" "$HOMES/$RL_USER/g"
	run as "$RL_USER" cp "$HOMES/$RL_USER/g" "$MARKER:/root/g"
	assert_success
	[ "$(cat "$pool/$MARKER/upper/root/g")" = two ] || fail "cp in did not reach the upper"
	! grep -F "$pool" /proc/self/mountinfo || fail "a mount of the pool on the host"

	run as "$RL_USER" clone --snapshot "$MARKER" "$MARKER-c"
	assert_success
	[ ! -e "$pool/$MARKER-c/upper/root/f" ] || fail "the clone copied its source's upper"
	run as "$RL_USER" start "$MARKER-c"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER-c" -- sh -c 'hostname; cat /root/f; stat -c %u /var/db/x'
	assert_success
	[ "$output" = "$MARKER-c
one
7" ] || fail "the clone: $output"
	run as "$RL_USER" stop -t 1 "$MARKER-c"

	run as "$RL_USER" export "$MARKER" "$HOMES/$RL_USER/o.tar"
	assert_success
	run tar -tvf "$HOMES/$RL_USER/o.tar" --numeric-owner "$MARKER/rootfs/var/db/x" "$MARKER/rootfs/bin/busybox"
	assert_success
	[[ $output == *" 7/7 "*"var/db/x"* ]] || fail "the archive: $output"

	run as "$RL_USER" destroy "$MARKER"
	assert_failure # its clone stands on its upper
	for n in "$MARKER-c" "$MARKER"; do
		run as "$RL_USER" destroy "$n"
		assert_success
	done
	run as "$RL_USER" pool rm "ov$$"
	assert_success
	[ ! -e "$pool" ] || [ -z "$(ls -A "$pool")" ] || fail "left in the pool: $(ls -A "$pool")"
	[ -z "$(ls -A "$store" | grep -vx .pools)" ] || fail "left in the store: $(ls -A "$store")"
}

@test "rootless btrfs pool: in a directory the user owns, bases, snapshots, restore, clones and removal without root" {
	WORK=$HOMES
	make_btrfs
	chmod 755 "$WORK/mnt"
	local pool=$WORK/mnt/pool
	mkdir "$pool"
	chown "$RL_USER:" "$pool"
	run as "$RL_USER" pool create "bp$$" --type btrfs --path "$pool"
	assert_success
	for n in "$MARKER" "$MARKER-2"; do
		run as "$RL_USER" create -t busybox "$n" --net none --pool "bp$$"
		assert_success
		# a subvolume: a snapshot of the pool's one base
		[ "$(stat -c %i "$pool/$n")" = 256 ] || fail "$n is no subvolume"
	done
	[ "$(as "$RL_USER" pool info --format json "bp$$" | jq '.bases | length')" = 1 ] || fail "not one base"
	run as "$RL_USER" start "$MARKER"
	assert_success
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c \
		'echo one >/root/f; mkdir /var/db && echo s >/var/db/x && chown -R 7:7 /var/db && chmod 700 /var/db'
	assert_success
	run as "$RL_USER" stop -t 1 "$MARKER"

	run as "$RL_USER" snapshot create "$MARKER" s1
	assert_success
	echo two >"$pool/$MARKER/root/f"
	run as "$RL_USER" snapshot restore "$MARKER" s1
	assert_success
	[ "$(cat "$pool/$MARKER/root/f")" = one ] || fail "the restore did not take the file back"
	run as "$RL_USER" clone --snapshot "$MARKER" "$MARKER-c"
	assert_success
	[ "$(stat -c %i "$pool/$MARKER-c")" = 256 ] || fail "the clone is no subvolume"
	[ "$(stat -c '%u %a' "$pool/$MARKER-c/var/db")" = "300006 700" ] || fail "owners: $(stat -c '%u %a' "$pool/$MARKER-c/var/db")"
	run as "$RL_USER" snapshot rm "$MARKER" s1
	assert_success

	# read-only snapshots and subvolumes holding other ids' 0700 directories go without root
	for n in "$MARKER-c" "$MARKER" "$MARKER-2"; do
		run as "$RL_USER" destroy "$n"
		assert_success
	done
	run as "$RL_USER" pool rm "bp$$"
	assert_success
	[ -z "$(ls -A "$pool")" ] || fail "left in the pool: $(ls -A "$pool")"
}

@test "rootless debian --init systemd without a delegated cgroup is refused at create, saying why, before any download" {
	[ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] ||
		skip "a pure cgroup v2 host: whether the user has a delegated subtree depends on its session"
	# the refusal comes before the build: no mirror, no mmdebstrap run
	RL_ENV="http_proxy=http://127.0.0.1:9" run as "$RL_USER" create -t debian "$MARKER" --init systemd --net none
	assert_failure
	[[ $output == *"ctr-debian: --init systemd: systemd needs a cgroup it can write, and ctr has none for you here (the host's cgroup layout is "*": only a pure cgroup v2 host delegates subtrees); --init sysvinit needs none"* ]] ||
		fail "$output"
	[ "$(grep -c "cgroup" <<<"$output")" = 1 ] || fail "not one line: $output"
	[ ! -e "$HOMES/$RL_USER/data/ctr/containers/$MARKER" ] || fail "left in the store"
	[ ! -d "$HOMES/$RL_USER/.cache/ctr/debian" ] || [ -z "$(ls -A "$HOMES/$RL_USER/.cache/ctr/debian")" ] ||
		fail "a build was started: $(ls -A "$HOMES/$RL_USER/.cache/ctr/debian")"
}

@test "rootless debian: mmdebstrap --mode=unshare builds it, cached; sysvinit boots it (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools mmdebstrap
	getent hosts deb.debian.org >/dev/null || skip "deb.debian.org does not resolve (mmdebstrap needs the mirror)"
	local store=$HOMES/$RL_USER/data/ctr/containers shadow_gid
	AS_TIMEOUT=1200 run as "$RL_USER" create -t debian "$MARKER"
	assert_success
	[[ $output == *"mmdebstrap --mode=unshare"* ]] || fail "not built by mmdebstrap: $output"
	# the build is cached in the user's cache, like root's debootstrap tarball
	ls "$HOMES/$RL_USER/.cache/ctr/debian/"*-minbase-*.tar >/dev/null || fail "no cached tarball"
	# root-owned inside is the user's on the host; group shadow (42) is in the subordinate range
	[ "$(stat -c %u "$store/$MARKER/rootfs/etc/passwd")" = "$(id -u "$RL_USER")" ]
	shadow_gid=$(stat -c %g "$store/$MARKER/rootfs/etc/shadow")
	[ "$shadow_gid" = $((300000 + 42 - 1)) ] || fail "/etc/shadow's group on the host: $shadow_gid"
	run as "$RL_USER" start "$MARKER"
	assert_success
	# sysvinit reaches its runlevel; root inside; a Debian userland answers
	local tries=100
	until run as "$RL_USER" attach "$MARKER" -- runlevel </dev/null && [ "$output" = "N 2" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "runlevel: $output"
		sleep 0.2
	done
	run --separate-stderr as "$RL_USER" attach "$MARKER" -- sh -c 'id -u; stat -c %G /etc/shadow; cat /etc/debian_version' </dev/null
	assert_success
	[ "${lines[0]}" = 0 ] && [ "${lines[1]}" = shadow ] && [[ ${lines[2]} =~ ^[0-9]+ ]] || fail "$output"
	run as "$RL_USER" stop "$MARKER"
	assert_success
	# a second create unpacks the cached build: no mmdebstrap run
	AS_TIMEOUT=300 run as "$RL_USER" create -t debian "$MARKER-2"
	assert_success
	[[ $output != *"mmdebstrap --mode"* && $output == *"unpacking"* ]] || fail "$output"
	run as "$RL_USER" destroy "$MARKER-2"
	assert_success
	run as "$RL_USER" destroy "$MARKER"
	assert_success
}

@test "rootless ctr spec --rootless writes a config that runs for that user" {
	rm "$BUNDLE/config.json"
	run setpriv --reuid="$RL_USER" --regid="$RL_USER" --init-groups sh -c \
		"cd '$BUNDLE' && '$CTR' spec --rootless"
	assert_success
	set_bundle_args '["true"]'
	jq '.process.terminal = false' "$BUNDLE/config.json" >"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json"
	chown "$RL_USER:" "$BUNDLE/config.json"
	run as "$RL_USER" run --bundle "$BUNDLE" "$MARKER"
	assert_success
}

@test "rootless errors name the missing piece" {
	# explicit limits without a delegated cgroup v2 subtree
	jq '.linux.resources.memory = {limit: 67108864}' "$BUNDLE/config.json" >"$BUNDLE/c"
	mv "$BUNDLE/c" "$BUNDLE/config.json"
	chown "$RL_USER:" "$BUNDLE/config.json"
	if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
		run as "$RL_USER" run --bundle "$BUNDLE" "$MARKER"
		assert_failure
		[[ $output == *"delegated cgroup v2 subtree"* ]] || fail "$output"
	fi
	# a bridge network needs root: refused at create, and at start after a `config set`
	run as "$RL_USER" create -t busybox "$MARKER" --net ctr0
	assert_failure
	[[ $output == *"bridge networks need root"* ]] || fail "$output"
	run as "$RL_USER" create -t busybox "$MARKER"
	assert_success
	# refused when given (config set checks networks as create does)
	run as "$RL_USER" config "$MARKER" set net ctr0
	assert_failure
	[[ $output == *"bridge networks need root"* || $output == *"ctr0"* ]] || fail "$output"
	run as "$RL_USER" destroy "$MARKER"
	assert_success
	# user namespaces refused by the kernel (max 0 inside a user namespace of the test's own)
	jq 'del(.linux.resources.memory)' "$BUNDLE/config.json" >"$BUNDLE/c"
	mv "$BUNDLE/c" "$BUNDLE/config.json"
	run unshare -U -r sh -c "echo 0 >/proc/sys/user/max_user_namespaces && '$CTR' --root '$BATS_TEST_TMPDIR/st' run --bundle '$BUNDLE' '$MARKER'"
	assert_failure
	[[ $output == *"user namespace was refused"* ]] || fail "$output"
}

# The state root is only the user's: another user's directory, or one others may write, at
# the place the environment names is refused with its path, before anything in it is read.
@test "rootless state root: another user's directory in a sticky /tmp is refused" {
	local tmp=$HOMES/tmp victim_pid
	mkdir -m 1777 "$tmp"
	# the stranger makes the victim's state root, world-writable, and plants a container in
	# it whose pid is a process of the victim's
	setpriv --reuid="$RL_BARE" --regid="$RL_BARE" --clear-groups sh -c \
		"umask 0; mkdir -p $tmp/ctr/planted && chmod 0777 $tmp/ctr $tmp/ctr/planted"
	setpriv --reuid="$RL_USER" --regid="$RL_USER" --clear-groups \
		bash -c "exec -a $MARKER-victim sleep 300" &
	victim_pid=$!
	printf '{"id":"planted","pid":%d,"bundle":"/","rootfs":"/","created":"x"}' "$victim_pid" \
		>"$tmp/ctr/planted/state.json"
	chmod 0666 "$tmp/ctr/planted/state.json"

	RL_ENV="XDG_RUNTIME_DIR=$tmp" run as "$RL_USER" kill planted KILL
	assert_failure
	assert_output_contains "state root \`$tmp/ctr\` belongs to uid $(id -u "$RL_BARE"), not to you"
	kill -0 "$victim_pid" || fail "the planted state killed the victim's process"
	RL_ENV="XDG_RUNTIME_DIR=$tmp" run as "$RL_USER" delete -f planted
	assert_failure
	kill -0 "$victim_pid" || fail "delete -f killed the victim's process"
	RL_ENV="XDG_RUNTIME_DIR=$tmp" run as "$RL_USER" list
	assert_failure
	assert_output_contains "belongs to uid"
	# and nothing of the victim's goes into it
	RL_ENV="XDG_RUNTIME_DIR=$tmp" run as "$RL_USER" run -d --bundle "$BUNDLE" "$MARKER" </dev/null
	assert_failure
	[ "$(ls "$tmp/ctr")" = planted ] || fail "the victim wrote into the stranger's root: $(ls "$tmp/ctr")"
	kill "$victim_pid"
}

@test "rootless state root: the user's own root that others may write is refused" {
	mkdir -p "$HOMES/$RL_USER/run/ctr"
	chown "$RL_USER:" "$HOMES/$RL_USER/run/ctr"
	chmod 0777 "$HOMES/$RL_USER/run/ctr"
	run as "$RL_USER" run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "state root \`$HOMES/$RL_USER/run/ctr\` is writable by others (mode 0777)"
	[ -z "$(ls -A "$HOMES/$RL_USER/run/ctr")" ] || fail "created in it: $(ls -A "$HOMES/$RL_USER/run/ctr")"
	chmod 0700 "$HOMES/$RL_USER/run/ctr"
}

@test "rootless state root: a directory on the way that others may write is refused" {
	# not sticky: anyone can rename the user's root away and put theirs in its place
	local open=$HOMES/open
	mkdir -m 0777 "$open"
	chmod 0777 "$open"
	mkdir -m 0700 "$open/ctr"
	chown "$RL_USER:" "$open/ctr"
	RL_ENV="XDG_RUNTIME_DIR=$open" run as "$RL_USER" list
	assert_failure
	assert_output_contains "state root \`$open/ctr\` is not safe: \`$open\` on its path is writable by others"
	# nor is anything made in it
	rmdir "$open/ctr"
	RL_ENV="XDG_RUNTIME_DIR=$open" run as "$RL_USER" run --bundle "$BUNDLE" "$MARKER" </dev/null
	assert_failure
	assert_output_contains "state root \`$open/ctr\` is not safe: \`$open\` on its path is writable by others"
	[ -z "$(ls -A "$open")" ] || fail "made in the open directory: $(ls -A "$open")"
}

@test "rootless state root: without XDG_RUNTIME_DIR nothing falls back to a shared /tmp path" {
	local uid
	uid=$(id -u "$RL_USER")
	[ ! -d "/run/user/$uid" ] || skip "/run/user/$uid exists"
	rm -rf "/tmp/ctr-$uid"
	RL_ENV="XDG_RUNTIME_DIR=" run as "$RL_USER" run --bundle "$BUNDLE" "$MARKER"
	assert_failure
	assert_output_contains "/run/user/$uid/ctr" "XDG_RUNTIME_DIR is not set" "--root"
	[ ! -e "/tmp/ctr-$uid" ] || fail "state went to /tmp/ctr-$uid"
	# with /run/user/UID (what logind makes), that is the root
	mkdir -m 0700 "/run/user/$uid"
	chown "$RL_USER:" "/run/user/$uid"
	local rc=0 made=0
	RL_ENV="XDG_RUNTIME_DIR=" as "$RL_USER" run -d --bundle "$BUNDLE" "$MARKER" \
		</dev/null >"$BATS_TEST_TMPDIR/run-d.log" 2>&1 || rc=$?
	[ -d "/run/user/$uid/ctr/$MARKER" ] || made=1
	RL_ENV="XDG_RUNTIME_DIR=" as "$RL_USER" delete -f "$MARKER" || true
	rm -rf "/run/user/$uid"
	[ "$rc" = 0 ] || fail "run under /run/user/$uid: $(cat "$BATS_TEST_TMPDIR/run-d.log")"
	[ "$made" = 0 ] || fail "no state under /run/user/$uid/ctr"
}

@test "rootless store: another user's store directory is refused" {
	local data=$HOMES/$RL_BARE/data
	mkdir -p "$data/ctr/containers"
	chown -R "$RL_BARE:" "$data"
	chmod 0755 "$HOMES/$RL_BARE" "$data" "$data/ctr"
	RL_ENV="XDG_DATA_HOME=$data" run as "$RL_USER" ls
	assert_failure
	assert_output_contains "store \`$data/ctr/containers\`" "belongs to uid $(id -u "$RL_BARE")"
}
