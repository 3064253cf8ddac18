#!/usr/bin/env bats
# system_userns.bats: root's system containers are unprivileged by default: each has a
# user namespace with its own 65536-id range from root's subordinate ids, recorded in the
# store, the rootfs idmapped (owned by 0 on disk); --privileged and `privileged` opt out;
# destroy releases the range, clone takes a new one; a killed create leaves nothing that
# destroy -f cannot remove.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=uns-${BATS_SUITE_TEST_NUMBER}-$$
}

teardown() {
	local n pids
	[ -n "${MARKER:-}" ] || return 0
	pids=$(pgrep -f -- "$NAME" | grep -vx "$$" || true)
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	for n in $(ls -A "$CTR_STORE" 2>/dev/null); do
		n=${n#.}
		ctr destroy -f "${n%.new}" >/dev/null 2>&1 || true
	done
	delete_all_containers
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "store left: $(ls -A "$CTR_STORE")"
	[ -z "${RAMSTORE:-}" ] || umount "$RAMSTORE" || fail "umount $RAMSTORE"
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# idmap_of NAME: "UID:GID:COUNT" from `ctr config NAME get idmap`.
idmap_of() {
	"$CTR" --root "$STATE_ROOT" config "$1" get idmap
}

# with_subids TEXT SCRIPT: SCRIPT (sh) in a private mount namespace whose /etc/subuid and
# /etc/subgid say TEXT: an overlay on /etc, which a rename of the host's files (useradd
# elsewhere) does not undo as it would a bind mount on the files.
with_subids() {
	local layer=$BATS_TEST_TMPDIR/etc-layer
	mkdir -p "$layer"
	printf '%b' "$1" >"$layer/subuid"
	cp "$layer/subuid" "$layer/subgid"
	unshare -m sh -c "mount -t overlay overlay -o 'lowerdir=$layer:/etc' /etc && $2"
}

# requires_idmapped NAME: skips unless NAME's rootfs is idmapped (not shifted: a store on
# a filesystem the kernel cannot idmap, e.g. tmpfs before Linux 6.3).
requires_idmapped() {
	[[ $(idmap_of "$1") != *"(shifted)" ]] || skip "the store's filesystem cannot be idmapped here (shifted)"
}

# shifted_run NAME UID: NAME, shifted into the range from UID, runs with its setuid
# busybox root's and setuid inside, and a file root makes there is root's; stopped after.
shifted_run() {
	chmod 4755 "$CTR_STORE/$1/rootfs/bin/busybox"
	ctr start "$1"
	run in_ns "$1" 'cat /proc/self/uid_map; stat -c %u:%g:%a /bin/busybox; touch /new; stat -c %u /new'
	assert_success
	[[ $(echo ${lines[0]}) == *"0 $2 65536" ]] || fail "$output"
	[ "${lines[1]}" = 0:0:4755 ] || fail "$output"
	[ "${lines[2]}" = 0 ] || fail "$output"
	ctr stop "$1"
}

# shifted_back NAME: privileged true gives the tree back the ids it has inside.
shifted_back() {
	ctr config "$1" set privileged true
	[ "$(idmap_of "$1")" = none ]
	[ "$(stat -c %u:%a "$CTR_STORE/$1/rootfs/bin/busybox")" = 0:4755 ]
	[ "$(stat -c %u "$CTR_STORE/$1/rootfs/new")" = 0 ]
}

# in_ns NAME CMD...: CMD in a shell of the running container NAME.
in_ns() {
	local n=$1
	shift
	"$CTR" --root "$STATE_ROOT" attach "$n" -- sh -c "$*"
}

@test "a default container runs in its own user namespace with the range shown by config and info" {
	ctr create -t busybox "$NAME" --net none
	run idmap_of "$NAME"
	assert_success
	[[ $output =~ ^([0-9]+):([0-9]+):65536( \(shifted\))?$ ]] || fail "idmap: $output"
	local uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[2]} range=$output
	[ "$uid" -ge 65536 ] || fail "range $uid overlaps the host's own ids"
	run ctr config "$NAME" get privileged
	[ "$output" = false ] || fail "$output"
	run ctr info "$NAME"
	[[ $output == *"Id range:   $range"* ]] || fail "$output"
	[ "$(ctr ls --format json | jq -r '.[0].idmap')" = "$range" ]
	ctr start "$NAME"
	run in_ns "$NAME" 'cat /proc/self/uid_map /proc/self/gid_map'
	assert_success
	[[ $(echo $output) == *"0 $uid 65536 0 $gid 65536" ]] || fail "maps: $output"
	# init itself, seen from the host, runs as the range's first id
	local pid
	pid=$(ctr ls --format json | jq -r '.[0].pid')
	[ "$(stat -c %u "/proc/$pid")" = "$uid" ] || fail "init's owner: $(stat -c %u "/proc/$pid")"
	ctr stop "$NAME"
}

@test "the rootfs stays owned by 0 on disk: idmapped, files the guest's root makes are root's" {
	ctr create -t busybox "$NAME" --net none
	requires_idmapped "$NAME"
	ctr start "$NAME"
	run in_ns "$NAME" 'echo made >/made-inside; stat -c %u:%g /made-inside /bin/busybox; ls -ln /dev/console; awk '"'"'$5 == "/"'"'"' /proc/self/mountinfo'
	assert_success
	[[ ${lines[0]} == 0:0 && ${lines[1]} == 0:0 ]] || fail "inside: $output"
	[[ ${lines[2]} == *" 0 "* ]] || fail "console not root's inside: $output"
	[[ ${lines[3]} == *",idmapped "* ]] || fail "root not idmapped: $output"
	ctr stop "$NAME"
	[ "$(stat -c %u:%g "$CTR_STORE/$NAME/rootfs/made-inside")" = 0:0 ]
	[ "$(stat -c %u:%g "$CTR_STORE/$NAME/rootfs/bin/busybox")" = 0:0 ]
}

@test "two containers get disjoint ranges; destroy releases a range and the next create reuses it" {
	ctr create -t busybox "$NAME-a" --net none
	ctr create -t busybox "$NAME-b" --net none
	local a b
	a=$(idmap_of "$NAME-a")
	b=$(idmap_of "$NAME-b")
	[ "$a" != "$b" ] || fail "same range: $a"
	local au=${a%%:*} bu=${b%%:*}
	[ $((au + 65536 <= bu || bu + 65536 <= au)) = 1 ] || fail "overlap: $a $b"
	ctr start "$NAME-a"
	ctr start "$NAME-b"
	run in_ns "$NAME-b" 'cat /proc/self/uid_map'
	[[ $(echo $output) == *"0 $bu 65536" ]] || fail "$output"
	ctr stop "$NAME-a"
	ctr stop "$NAME-b"
	ctr destroy "$NAME-a"
	ctr create -t busybox "$NAME-c" --net none
	[ "$(idmap_of "$NAME-c")" = "$a" ] || fail "not reused: $(idmap_of "$NAME-c") (freed $a)"
}

@test "root in a default container cannot write a host file bound in nor make a device node; --privileged can" {
	echo host >"$BATS_TEST_TMPDIR/hostfile"
	chmod 0644 "$BATS_TEST_TMPDIR/hostfile"
	ctr create -t busybox "$NAME" --net none
	ctr create -t busybox "$NAME-p" --net none --privileged
	ctr config "$NAME" set mount.add "$BATS_TEST_TMPDIR/hostfile:/hostfile"
	ctr config "$NAME-p" set mount.add "$BATS_TEST_TMPDIR/hostfile:/hostfile"
	ctr start "$NAME"
	ctr start "$NAME-p"
	run in_ns "$NAME" 'echo guest >>/hostfile'
	assert_failure
	run in_ns "$NAME" 'mknod /tmp/null2 c 1 3'
	assert_failure
	[ "$(cat "$BATS_TEST_TMPDIR/hostfile")" = host ]
	# the same as a privileged container: host root's powers
	run in_ns "$NAME-p" 'echo guest >>/hostfile && mknod /tmp/null2 c 1 3'
	assert_success
	[ "$(tail -1 "$BATS_TEST_TMPDIR/hostfile")" = guest ]
	ctr stop "$NAME"
	ctr stop "$NAME-p"
}

@test "root in a default container holds CAP_SYS_ADMIN for its own namespaces only (hostname, mounts); --privileged does not" {
	local host_name panic
	host_name=$(hostname)
	panic=$(cat /proc/sys/kernel/panic)
	ctr create -t busybox "$NAME" --net none
	ctr create -t busybox "$NAME-p" --net none --privileged
	run ctr config "$NAME" get caps
	[[ ,$output, == *,CAP_SYS_ADMIN,* ]] || fail "unprivileged caps: $output"
	run ctr config "$NAME-p" get caps
	[[ ,$output, != *,CAP_SYS_ADMIN,* ]] || fail "privileged caps: $output"
	ctr start "$NAME"
	ctr start "$NAME-p"
	# its own hostname and mounts (what a Debian boot does: hostname.sh, /run, /run/lock)
	run in_ns "$NAME" 'hostname renamed && hostname && mkdir -p /tmp/m && mount -t tmpfs t /tmp/m &&
		touch /tmp/m/x && umount /tmp/m && echo mounted'
	assert_success
	[ "${lines[0]}" = renamed ] && [ "${lines[1]}" = mounted ] || fail "$output"
	[ "$(hostname)" = "$host_name" ] || fail "the host's name changed: $(hostname)"
	# not the host's: a sysctl stays host root's, also once the read-only /proc/sys is gone
	run in_ns "$NAME" "umount /proc/sys; echo $panic >/proc/sys/kernel/panic"
	assert_failure
	# a privileged container has no CAP_SYS_ADMIN (nor the calls in its seccomp profile)
	run in_ns "$NAME-p" 'hostname renamed'
	assert_failure
	ctr stop "$NAME"
	ctr stop "$NAME-p"
	# privileged true takes the capability away with the user namespace, false gives it back
	ctr config "$NAME" set privileged true
	run ctr config "$NAME" get caps
	[[ ,$output, != *,CAP_SYS_ADMIN,* ]] || fail "after privileged true: $output"
	jq -e '.linux.seccomp.syscalls | map(.names) | add | index("sethostname") == null' \
		"$CTR_STORE/$NAME/config.json" >/dev/null || fail "sethostname still in the profile"
	ctr config "$NAME" set privileged false
	run ctr config "$NAME" get caps
	[[ ,$output, == *,CAP_SYS_ADMIN,* ]] || fail "after privileged false: $output"
}

@test "--privileged gives the identity map; privileged true|false switches it while stopped" {
	ctr create -t busybox "$NAME" --net none --privileged
	[ "$(idmap_of "$NAME")" = none ]
	[ "$(ctr config "$NAME" get privileged)" = true ]
	ctr start "$NAME"
	run in_ns "$NAME" 'cat /proc/self/uid_map'
	[[ $(echo $output) == *"0 0 4294967295" ]] || fail "$output"
	run ctr config "$NAME" set privileged false
	assert_failure
	[ "${#lines[@]}" = 1 ] && [[ $output == *"privileged: \`$NAME\` is not stopped"* ]] || fail "$output"
	ctr stop "$NAME"
	ctr config "$NAME" set privileged false
	local uid owner=0
	uid=$(idmap_of "$NAME")
	[[ $uid =~ ^[0-9]+:[0-9]+:65536( \(shifted\))?$ ]] || fail "$uid"
	# where the store cannot be idmapped, the tree was chowned into the range
	[[ $uid != *"(shifted)" ]] || owner=${uid%%:*}
	ctr start "$NAME"
	run in_ns "$NAME" 'cat /proc/self/uid_map; touch /after'
	[[ $(echo $output) == *"0 ${uid%%:*} 65536" ]] || fail "$output"
	ctr stop "$NAME"
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/after")" = "$owner" ]
	ctr config "$NAME" set privileged true
	[ "$(idmap_of "$NAME")" = none ]
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/after")" = 0 ]
	! jq -e '.linux.namespaces[] | select(.type == "user")' "$CTR_STORE/$NAME/config.json" >/dev/null
}

@test "a clone gets its own range" {
	ctr create -t busybox "$NAME" --net none
	ctr clone "$NAME" "$NAME-c"
	local a b
	a=$(idmap_of "$NAME")
	b=$(idmap_of "$NAME-c")
	[ "$a" != "$b" ] || fail "clone shares $a"
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$CTR_STORE/$NAME-c/config.json")" = "${b%%:*}" ]
	ctr start "$NAME-c"
	run in_ns "$NAME-c" 'cat /proc/self/uid_map'
	[[ $(echo $output) == *"0 ${b%%:*} 65536" ]] || fail "$output"
	ctr stop "$NAME-c"
}

@test "kill -9 of create: its range stays taken until destroy -f removes what is left" {
	local dir=$BATS_TEST_TMPDIR/templates
	mkdir -p "$dir"
	cat >"$dir/ctr-forever" <<-'EOS'
		#!/bin/sh
		while [ $# -gt 0 ]; do case $1 in --rootfs) rootfs=$2; shift ;; esac; shift; done
		while :; do date >>"$rootfs/progress"; sleep 0.1; done
	EOS
	chmod +x "$dir/ctr-forever"
	CTR_TEMPLATE_PATH=$dir:$CTR_TEMPLATE_PATH "$CTR" --root "$STATE_ROOT" create -t forever "$NAME" --net none </dev/null >/dev/null 2>&1 &
	local cpid=$!
	wait_until test -s "$CTR_STORE/.$NAME.new/rootfs/progress"
	kill -KILL "$cpid"
	wait "$cpid" || true
	local taken
	taken=$(jq -r '.idmap.uid' "$CTR_STORE/.$NAME.new/ctr.json")
	[ "$taken" -ge 65536 ] || fail "no range recorded: $(cat "$CTR_STORE/.$NAME.new/ctr.json")"
	# still taken: another create does not get it
	ctr create -t busybox "$NAME-b" --net none
	[ "$(idmap_of "$NAME-b" | cut -d: -f1)" != "$taken" ] || fail "range shared with a half-made container"
	run ctr destroy -f "$NAME"
	assert_success
	[ ! -e "$CTR_STORE/.$NAME.new" ]
	ctr create -t busybox "$NAME-c" --net none
	[ "$(idmap_of "$NAME-c" | cut -d: -f1)" = "$taken" ] || fail "not released: $(idmap_of "$NAME-c")"
}

@test "errors: an exhausted range and bad values, one line naming the thing" {
	# root's range holds one container: the second create finds none
	run with_subids 'root:3000000:65536\n' "'$CTR' --root '$STATE_ROOT' create -t busybox '$NAME-1' --net none &&
		'$CTR' --root '$STATE_ROOT' create -t busybox '$NAME-2' --net none"
	assert_failure
	[ "${#lines[@]}" = 1 ] || fail "$output"
	[[ $output == *"\`$NAME-2\`: no free range of 65536 ids left in root:3000000:65536 of /etc/subuid"* ]] || fail "$output"
	[[ $(idmap_of "$NAME-1") == 3000000:3000000:65536* ]]
	[ ! -e "$CTR_STORE/$NAME-2" ] && [ ! -e "$CTR_STORE/.$NAME-2.new" ] || fail "left: $(ls -A "$CTR_STORE")"
	run ctr config "$NAME-1" set privileged maybe
	assert_failure
	[ "$output" = "ctr: privileged: \`maybe\` is not true or false" ] || fail "$output"
	run ctr config "$NAME-1" set idmap 5:5:5
	assert_failure
	[ "${#lines[@]}" = 1 ] && [[ $output == *"\`idmap\` is read-only"* ]] || fail "$output"
}

@test "without a root line, ranges start at 1000000 and skip every other user's subordinate range" {
	run with_subids 'alice:1000000:65536\nbob:1065536:131072\n' \
		"'$CTR' --root '$STATE_ROOT' create -t busybox '$NAME' --net none"
	assert_success
	[[ $(idmap_of "$NAME") == 1196608:1196608:65536* ]] || fail "$(idmap_of "$NAME")"
}

@test "overlay pool (overlayfs cannot be idmapped): its layers are, the host sees the range, setuid kept, and back" {
	local work=$BATS_TEST_TMPDIR/pools
	mkdir -p "$work"
	chmod 700 "$work"
	ctr pool create "o$$" --type overlay --path "$work/ovl"
	ctr create -t busybox "$NAME" --net none --pool "o$$"
	local range uid
	range=$(idmap_of "$NAME")
	[[ $range == *":65536 (shifted)" ]] || fail "not shifted: $range"
	uid=${range%%:*}
	[ "$(stat -c %u "$CTR_STORE/$NAME/rootfs/bin/busybox")" = "$uid" ] || fail "owner seen: $(stat -c %u "$CTR_STORE/$NAME/rootfs/bin/busybox")"
	# the image's own tree (the lower, shared by every container made from it) is untouched,
	# and nothing was copied up to shift it
	[ ! -e "$work/ovl/$NAME/upper/bin/busybox" ] || fail "copied up"
	[ "$(stat -c %u "$work/ovl/.images/"*/rootfs/bin/busybox)" = 0 ]
	shifted_run "$NAME" "$uid"
	shifted_back "$NAME"
	ctr destroy "$NAME"
	ctr pool rm "o$$"
}

@test "a store the kernel cannot idmap (ramfs): the tree is chowned into the range once, setuid kept, and back when privileged" {
	RAMSTORE=$BATS_TEST_TMPDIR/ramstore
	mkdir "$RAMSTORE"
	mount -t ramfs -o mode=0700 ramfs "$RAMSTORE"
	export CTR_STORE=$RAMSTORE
	ctr create -t busybox "$NAME" --net none
	local range uid
	range=$(idmap_of "$NAME")
	[[ $range == *":65536 (shifted)" ]] || fail "not shifted: $range"
	uid=${range%%:*}
	# on disk: every file in the range, root's as the range's first id
	[ "$(stat -c %u "$RAMSTORE/$NAME/rootfs/bin/busybox")" = "$uid" ] || fail "owner: $(stat -c %u "$RAMSTORE/$NAME/rootfs/bin/busybox")"
	[ -z "$(find "$RAMSTORE/$NAME/rootfs" -xdev ! -uid "$uid" -print -quit)" ] ||
		fail "not shifted: $(find "$RAMSTORE/$NAME/rootfs" -xdev ! -uid "$uid" | head -3)"
	shifted_run "$NAME" "$uid"
	[ "$(stat -c %u "$RAMSTORE/$NAME/rootfs/new")" = "$uid" ]
	# privileged: chowned back to the ids it has inside, setuid bit and all
	shifted_back "$NAME"
	ctr destroy "$NAME"
}
