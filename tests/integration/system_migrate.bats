#!/usr/bin/env bats
# system_migrate.bats: `ctr migrate NAME DEST` and its receiver `ctr migrate --listen ADDR`.
# Two state roots, stores and network roots on one machine stand for two hosts (the
# receiver runs in the background with the target's), joined by a unix socket. The errors
# and a target that refuses or dies before any dump run anywhere (the receiver's criu check
# is a stand-in there); the real migrations run where `criu check` passes (the cgroup v2
# guest): a counter loop goes on counting on the target, and a target that dies during the
# last transfer leaves it running on the source.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=mg-${BATS_SUITE_TEST_NUMBER}-$$
	TGT=$BATS_TEST_TMPDIR/target
	mkdir -p "$TGT/state" && chmod 0700 "$TGT/state"
	SOCK=$BATS_TEST_TMPDIR/mig.sock
	RECV_PID=
	LOOP='' VG=''
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	# timeout(1) passes TERM on to the receiver
	[ -z "$RECV_PID" ] || kill -TERM "$RECV_PID" 2>/dev/null || true
	for n in $(ls -A "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	for n in $(ls -A "$TGT/store" 2>/dev/null); do
		tgt destroy -f "$n" >/dev/null 2>&1 || true
	done
	if [ -n "${NET_TEST:-}" ]; then
		tgt network rm -f "${NET_TEST[0]}" >/dev/null 2>&1 || true
		TGT_NETNS='' ctr network rm -f "${NET_TEST[0]}" >/dev/null 2>&1 || true
		ip netns del "${NET_TEST[1]}" 2>/dev/null || true
		ip netns del "${NET_TEST[2]}" 2>/dev/null || true
		ip link del "${NET_TEST[3]}" 2>/dev/null || true
		ip link del "${NET_TEST[2]}h" 2>/dev/null || true
	fi
	remove_lvm
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
	delete_all_containers
	[ -z "$(ls -A "$TGT/state" 2>/dev/null)" ] || fail "target state left: $(ls -A "$TGT/state")"
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# tgt ARGS...: ctr as the target host.
tgt() {
	CTR_TEST_MARKER=$MARKER CTR_STORE=$TGT/store CTR_NETWORK_ROOT=$TGT/netroot \
		${TGT_NETNS:+nsenter --net=/run/netns/$TGT_NETNS} \
		timeout --foreground -k 5 "${CTR_TIMEOUT:-30}" "$CTR" --root "$TGT/state" "$@"
}

state_of() {
	ctr ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

tgt_names() {
	tgt ls --format json | jq -r '.[].name'
}

tgt_state_of() {
	tgt ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# receiver [ENV=VALUE...] -- [CTR ARGS...]: the target's receiver in the background, on $SOCK.
receiver() {
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	rm -f "$SOCK"
	${TGT_NETNS:+nsenter --net=/run/netns/$TGT_NETNS} \
		timeout -k 5 300 env "${envs[@]}" CTR_TEST_MARKER="$MARKER" CTR_STORE="$TGT/store" \
		CTR_NETWORK_ROOT="$TGT/netroot" "$CTR" --root "$TGT/state" "$@" migrate \
		--listen "unix:$SOCK" >"$BATS_TEST_TMPDIR/recv.out" 2>&1 &
	RECV_PID=$!
	local tries=100
	until [ -S "$SOCK" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the receiver did not listen: $(cat "$BATS_TEST_TMPDIR/recv.out")" || return 1
		sleep 0.1
	done
}

# receiver_status: the receiver's exit status, once it has ended.
receiver_status() {
	local rc=0
	wait "$RECV_PID" || rc=$?
	RECV_PID=
	echo "$rc"
}

# A consoleless container (criu 3.17 cannot dump busybox's shell on the console) with a
# counter whose value lives in the shell's memory, written out to a tmpfs.
# make_counter [unprivileged] [CREATE ARGS...]: a counting container, privileged unless
# said. Its files go in with `ctr cp` (the rootfs of a pool's volume is elsewhere).
make_counter() {
	local cfg=$CTR_STORE/$NAME/config.json priv=(--privileged) f=$BATS_TEST_TMPDIR/file
	[ "${1:-}" != unprivileged ] || { priv=() && shift; }
	ctr create -t busybox "$NAME" --net none "${priv[@]}" "$@" >/dev/null
	jq '.process.terminal = false' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	ctr cp "$NAME:/etc/inittab" "$f"
	echo "::once:/bin/sh -c 'echo \$\$ >/dev/shm/pid; i=0; while :; do i=\$((i+1)); echo \$i >/dev/shm/count; sleep 0.2; done'" >>"$f"
	ctr cp "$f" "$NAME:/etc/inittab"
	echo "written on the source" >"$f"
	ctr cp "$f" "$NAME:/etc/migrated"
}

# migrate_ok [MIGRATE OPTIONS...]: $NAME goes to a new receiver, both ends succeed, and
# it runs there; $output is the sender's (its standard output only).
migrate_ok() {
	receiver --
	CTR_TIMEOUT=300 run --separate-stderr ctr migrate "$@" "$NAME" "unix:$SOCK"
	echo "$output"
	echo "stderr: $stderr"
	echo "receiver: $(cat "$BATS_TEST_TMPDIR/recv.out")"
	assert_success
	[ "$(receiver_status)" = 0 ] || fail "the receiver failed: $(cat "$BATS_TEST_TMPDIR/recv.out")" || return 1
	[ "$(tgt_state_of "$NAME")" = running ] || fail "not running on the target"
}

# counts_on_target: the counter goes on on the target from where it was (not from 0).
counts_on_target() {
	local c
	c=$(count tgt)
	[ "$c" -gt 2 ] || fail "the counter started again: $c" || return 1
	wait_count_above "$c" tgt
}

# A tar that kills the receiver (its parent) when it is to unpack what names $1.
dying_tar() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/tar" <<SH
#!/bin/sh
case "\$*" in *-x*$1*) kill -KILL \$PPID; exit 1 ;; esac
exec /bin/tar "\$@"
SH
	chmod +x "$BATS_TEST_TMPDIR/bin/tar"
}

@test "migrate: bad arguments, a stopped container and an absent receiver: one line each" {
	run ctr migrate
	assert_usage_error
	run ctr migrate --pre-dumps x a unix:/x
	assert_usage_error
	assert_output_contains '--pre-dumps: "x"'
	run ctr migrate --format xml a unix:/x
	assert_usage_error
	assert_output_contains '--format: "xml": want text or json'
	run ctr migrate nosuch-$$ "unix:$SOCK"
	assert_failure
	assert_output_contains "container \`nosuch-$$\` does not exist"
	ctr create -t busybox "$NAME" --net none >/dev/null
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	run ctr migrate "$NAME" "udp:$SOCK"
	assert_failure
	assert_output_contains "address \`udp:$SOCK\`: want unix:PATH, tcp:HOST:PORT or ssh://HOST"
	run ctr migrate "$NAME" tcp:nocolon
	assert_failure
	assert_output_contains "address \`tcp:nocolon\`: want tcp:HOST:PORT"
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	assert_output_contains "migrate \`$NAME\`: the container is stopped: only a running one migrates"
	# what criu cannot dump is said before anything is sent: busybox's shell on the console
	ctr start "$NAME"
	wait_until sh -c "'$CTR' --root '$STATE_ROOT' console --log '$NAME' | grep -q '# '"
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	assert_output_contains "container \`$NAME\`: process "
	assert_output_contains " (sh) has the console open as /dev/tty"
	[ "$(state_of "$NAME")" = running ]
	[ ! -e "$CTR_STORE/$NAME/migrate" ] || fail "the migration's directory was left"
	ctr stop "$NAME" >/dev/null
	# (consoleless and privileged: nothing criu cannot dump)
	jq '.process.terminal = false' "$CTR_STORE/$NAME/config.json" >"$BATS_TEST_TMPDIR/c"
	cp "$BATS_TEST_TMPDIR/c" "$CTR_STORE/$NAME/config.json"
	ctr config "$NAME" set privileged true >/dev/null
	ctr start "$NAME"
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	assert_output_contains "connect to the migration receiver \`$SOCK\`"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail "more than one line: $output"
	[ "$(state_of "$NAME")" = running ]
	[ ! -e "$CTR_STORE/$NAME/migrate" ] || fail "the migration's directory was left"
	run tgt migrate --listen tcp:0.0.0.0:7
	assert_failure
	assert_output_contains "address \`tcp:0.0.0.0:7\` is every interface"
	run tgt migrate --listen "unix:$SOCK" "$NAME"
	assert_usage_error
	run ctr migrate --insecure-listen "$NAME" "unix:$SOCK"
	assert_usage_error
	ctr stop "$NAME" >/dev/null
	# snapshots that are a pool's own volumes do not go along: said before anything is sent
	ctr pool create "mgo$$" --type overlay --path "$BATS_TEST_TMPDIR/ovl" >/dev/null
	ctr create -t busybox "$NAME-o" --net none --pool "mgo$$" >/dev/null
	ctr snapshot create "$NAME-o" s1 >/dev/null
	run ctr migrate "$NAME-o" "unix:$SOCK"
	assert_failure
	assert_output_contains "migrate \`$NAME-o\`: its snapshots are volumes of pool \`mgo$$\`, which do not migrate"
	ctr destroy -f "$NAME-o" >/dev/null
	ctr pool rm "mgo$$" >/dev/null
}

@test "migrate: a target that dies mid-copy keeps nothing; one that has the name refuses" {
	make_counter
	ctr start "$NAME"
	# the receiver dies while the root filesystem comes in (its criu check is not what is
	# tested here: a stand-in that passes)
	dying_tar "$TGT/store/.$NAME.new"
	receiver PATH="$BATS_TEST_TMPDIR/bin:$PATH" -- --criu /bin/true
	[ "$(stat -c %a "$SOCK")" = 600 ] || fail "the socket is $(stat -c %a "$SOCK")"
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	assert_output_contains "migrate: send the root filesystem"
	[ "$(echo "$output" | grep -c ^ctr:)" -eq 1 ] || fail "more than one error line: $output"
	[ "$(receiver_status)" != 0 ] || fail "the receiver succeeded"
	[ "$(state_of "$NAME")" = running ]
	[ ! -e "$CTR_STORE/$NAME/migrate" ] || fail "the migration's directory was left"
	# what a killed receiver left is a staging directory the next listing removes
	[ -z "$(tgt_names)" ] || fail "the target lists $(tgt_names)"
	[ -z "$(ls -A "$TGT/store")" ] || fail "the target keeps $(ls -A "$TGT/store")"

	tgt create -t busybox "$NAME" --net none >/dev/null
	receiver -- --criu /bin/true
	run ctr migrate "$NAME" "unix:$SOCK"
	assert_failure
	assert_output_contains "migrate: check the target: the target says: container \`$NAME\` already exists here"
	[ "$(receiver_status)" != 0 ] || fail "the receiver succeeded"
	[ ! -e "$SOCK" ] || fail "the receiver left its socket"
	[ "$(state_of "$NAME")" = running ]
	[ "$(tgt_state_of "$NAME")" = stopped ]
	ctr stop "$NAME" >/dev/null
}

# A criu whose pre-dump fails as criu does: an error line in the log of its --work-dir.
fake_criu() {
	FAKE=$BATS_TEST_TMPDIR/criu
	cat >"$FAKE" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --work-dir ] && dir=$2; shift; done
echo "(00.001) Error (criu/cr-dump.c:1): stand-in criu: cannot pre-dump" >"$dir/pre-dump.log"
exit 1
SH
	chmod +x "$FAKE"
}

# An ssh that runs the remote command as the target (its criu check a stand-in that passes).
fake_ssh() {
	mkdir -p "$BATS_TEST_TMPDIR/sshbin"
	cat >"$BATS_TEST_TMPDIR/sshbin/ssh" <<SH
#!/bin/sh
echo "\$*" >"$BATS_TEST_TMPDIR/ssh.args"
while [ "\$1" != ctr ]; do shift; done
shift
CTR_TEST_MARKER=$MARKER CTR_STORE=$TGT/store CTR_NETWORK_ROOT=$TGT/netroot exec "$CTR" --root "$TGT/state" --criu /bin/true "\$@"
SH
	chmod +x "$BATS_TEST_TMPDIR/sshbin/ssh"
}

@test "migrate over ssh://: the receiver runs through ssh; a failed pre-dump leaves it running here, nothing there" {
	make_counter
	ctr start "$NAME"
	fake_ssh
	fake_criu
	run ctr migrate "$NAME" ssh://-oProxyCommand=x
	assert_failure
	assert_output_contains "address \`ssh://-oProxyCommand=x\`: want ssh://[USER@]HOST"
	PATH="$BATS_TEST_TMPDIR/sshbin:$PATH" run ctr --criu "$FAKE" migrate "$NAME" ssh://root@target
	assert_failure
	assert_output_contains "migrate $NAME: root filesystem:"
	assert_output_contains "pre-dump round 1: checkpoint \`$NAME\`: criu pre-dump failed: Error (criu/cr-dump.c:1): stand-in criu: cannot pre-dump"
	assert_output_contains "migrate \`$NAME\`: nothing kept here"
	[ "$(cat "$BATS_TEST_TMPDIR/ssh.args")" = "-T -o BatchMode=yes -- root@target ctr migrate --listen stdio" ]
	[ "$(state_of "$NAME")" = running ]
	[ ! -e "$CTR_STORE/$NAME/migrate" ] || fail "the migration's directory was left"
	[ -z "$(tgt_names)" ] || fail "the target lists $(tgt_names)"
	[ -z "$(ls -A "$TGT/store")" ] || fail "the target keeps $(ls -A "$TGT/store")"
	ctr stop "$NAME" >/dev/null
}

count() {
	"$@" attach "$NAME" -- cat /dev/shm/count </dev/null 2>/dev/null || echo 0
}

# wait_count_above N ctr|tgt: the loop's counter passes N (a minute at most in the guest).
wait_count_above() {
	local tries=300 c
	until c=$(count "$2") && [ "$c" -gt "$1" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the counter stays at $c, not above $1" || return 1
		sleep 0.2
	done
}

# bats test_tags=v2
@test "migrate: a running counter moves with its memory, pid and files, and is gone from the source" {
	requires_criu
	make_counter
	ctr start "$NAME"
	wait_count_above 2 ctr
	local pid
	pid=$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)
	echo "written while it runs" >"$CTR_STORE/$NAME/rootfs/etc/late"
	migrate_ok
	assert_output_contains "migrate $NAME: pre-dump 1:"
	assert_output_contains "migrate $NAME: final dump, the container stopped"
	assert_output_contains "migrate $NAME: downtime"
	# gone here
	[ ! -e "$CTR_STORE/$NAME" ] || fail "the source keeps its store directory"
	[ -z "$(state_of "$NAME")" ] || fail "the source lists it"
	counts_on_target
	[ "$(tgt attach "$NAME" -- cat /dev/shm/pid </dev/null)" = "$pid" ]
	[ "$(tgt attach "$NAME" -- cat /etc/late </dev/null)" = "written while it runs" ]
	[ ! -e "$TGT/store/$NAME/migrate" ] || fail "the target keeps the images"
	run tgt stop "$NAME"
	assert_success
}

# bats test_tags=v2
@test "migrate: a target that dies during the last copy leaves the container running on the source" {
	requires_criu
	make_counter
	ctr start "$NAME"
	wait_count_above 2 ctr
	local pid c
	pid=$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)
	dying_tar "/migrate/final"
	receiver PATH="$BATS_TEST_TMPDIR/bin:$PATH" --
	CTR_TIMEOUT=300 run ctr migrate --pre-dumps 1 "$NAME" "unix:$SOCK"
	echo "$output"
	echo "receiver: $(cat "$BATS_TEST_TMPDIR/recv.out")"
	assert_failure
	assert_output_contains "migrate: send the memory image"
	assert_output_contains "; container \`$NAME\` runs here again"
	[ "$(echo "$output" | grep -c ^ctr:)" -eq 1 ] || fail "more than one error line: $output"
	[ "$(receiver_status)" != 0 ] || fail "the receiver succeeded"
	[ "$(state_of "$NAME")" = running ]
	c=$(count ctr)
	[ "$c" -gt 2 ] || fail "the counter started again: $c"
	wait_count_above "$c" ctr
	[ "$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)" = "$pid" ]
	[ -z "$(tgt_names)" ] || fail "the target lists $(tgt_names)"
	[ -z "$(ls -A "$TGT/store")" ] || fail "the target keeps $(ls -A "$TGT/store")"
	run ctr stop "$NAME"
	assert_success
}

# A server in the container that sends a count, one line each 0.2 s, to the first client.
make_count_server() {
	local cfg=$CTR_STORE/$NAME/config.json
	ctr create -t busybox "$NAME" --net "$1" --privileged >/dev/null
	jq '.process.terminal = false' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	echo "::once:/bin/sh -c 'exec </dev/null >/dev/null 2>&1; i=0; while :; do i=\$((i+1)); echo \$i; sleep 0.2; done | nc -l -p 5000'" \
		>>"$CTR_STORE/$NAME/rootfs/etc/inittab"
}

# lines_above N: the client has received more than N lines.
lines_above() {
	[ "$(wc -l <"$BATS_TEST_TMPDIR/tcp.out")" -gt "$1" ]
}

# bats test_tags=v2
@test "migrate: a TCP connection from another namespace to a server in the container survives it" {
	requires_criu
	# two hosts: this network namespace and one for the target, each with a network named
	# $net on a bridge; a link between the bridges makes them one segment, where a client in
	# a third namespace talks to the container
	local net=mgn$$ br=mgb$$ tns=mgt$$ cli=mgc$$ link=mgl$$ ip mac before n
	NET_TEST=("$net" "$tns" "$cli" "$link")
	ip netns add "$tns"
	TGT_NETNS=$tns
	ip -n "$tns" link set lo up
	ctr network create "$net" --subnet 10.213.91.0/24 --bridge "$br" --no-dns --no-nat >/dev/null
	tgt network create "$net" --subnet 10.213.91.0/24 --bridge "$br" --no-dns --no-nat >/dev/null
	make_count_server "$net"
	ctr start "$NAME"
	# the target's bridge is up before the container comes (as on a host with others)
	ip -n "$tns" link add "$br" type bridge
	ip -n "$tns" link set "$br" up
	ip link add "$link" type veth peer name "${link}p"
	ip link set "${link}p" netns "$tns"
	ip -n "$tns" link set "${link}p" master "$br" up
	ip link set "$link" master "$br" up
	ip netns add "$cli"
	ip link add "${cli}h" type veth peer name eth0 netns "$cli"
	ip link set "${cli}h" master "$br" up
	ip -n "$cli" addr add 10.213.91.250/24 dev eth0
	ip -n "$cli" link set eth0 up
	ip=$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .addresses[0]')
	ip=${ip%%/*}
	mac=$(ctr attach "$NAME" -- cat /sys/class/net/eth0/address </dev/null)
	# the client's input stays open (at its end nc would end the connection)
	mkfifo "$BATS_TEST_TMPDIR/tcp.in"
	exec 8<>"$BATS_TEST_TMPDIR/tcp.in"
	ip netns exec "$cli" busybox nc "$ip" 5000 <"$BATS_TEST_TMPDIR/tcp.in" >"$BATS_TEST_TMPDIR/tcp.out" 2>&1 &
	local client=$!
	wait_until lines_above 3
	migrate_ok
	# the same connection goes on: the client is still there and the count has no gap
	before=$(wc -l <"$BATS_TEST_TMPDIR/tcp.out")
	# (TCP retransmits what the downtime lost, with its backoff: a minute at most)
	local tries=600
	until lines_above $((before + 5)); do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the client got nothing more: $(tail -3 "$BATS_TEST_TMPDIR/tcp.out")" || return 1
		sleep 0.1
	done
	kill -0 "$client" || fail "the client's connection ended: $(tail -3 "$BATS_TEST_TMPDIR/tcp.out")"
	n=$(awk 'NR > 1 && $1 != prev + 1 { print NR": "prev" then "$1; exit } { prev = $1 }' \
		"$BATS_TEST_TMPDIR/tcp.out")
	[ -z "$n" ] || fail "the count broke at line $n"
	[ "$(tgt attach "$NAME" -- cat /sys/class/net/eth0/address </dev/null)" = "$mac" ]
	run tgt attach "$NAME" -- ip -4 -o addr show eth0 </dev/null
	[[ $output == *" $ip/"* ]] || fail "the address on the target: $output"
	kill "$client" 2>/dev/null || true
	exec 8>&-
	run tgt stop "$NAME"
	assert_success
}

# bats test_tags=v2
@test "migrate: an unprivileged counter moves with its user namespace, memory and pid" {
	requires_criu
	# the default: a user namespace of its own
	make_counter unprivileged
	ctr start "$NAME"
	wait_count_above 2 ctr
	local pid range map initpid
	range=$(ctr config "$NAME" get idmap)
	range=${range%%:*}
	initpid=$(jq -r .pid "$STATE_ROOT/$NAME/monitor.json")
	map=$(awk '{ print $1, $2, $3 }' "/proc/$initpid/uid_map")
	[ "$map" = "0 $range 65536" ] || fail "uid_map on the source: $map (range $range)"
	pid=$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)
	# (its report as JSON, for a tool that drives migrations)
	migrate_ok --format json
	jq -e --arg n "$NAME" '.name == $n and (.destination | startswith("unix:"))
		and ([.phases[].phase] | index("root filesystem") == 0)
		and (.phases[] | select(.phase == "root filesystem") | .bytes > 0)
		and (.phases[] | select(.phase == "pre-dump" and .round == 1) | .bytes > 0)
		and ([.phases[].phase] | index("final dump, the container stopped") != null)
		and (.phases[] | select(.phase == "final image") | .bytes > 0)
		and .downtime_ms > 0 and .downtime_ms <= .total_ms' <<<"$output" >/dev/null ||
		fail "the report: $output"
	[ ! -e "$CTR_STORE/$NAME" ] || fail "the source keeps its store directory"
	[ "$(tgt config "$NAME" get idmap | cut -d: -f1)" = "$range" ] || fail "another range there: $(tgt config "$NAME" get idmap)"
	initpid=$(jq -r .pid "$TGT/state/$NAME/monitor.json")
	[ "$(awk '{ print $1, $2, $3 }' "/proc/$initpid/uid_map")" = "$map" ] || fail "uid_map on the target: $(cat "/proc/$initpid/uid_map")"
	counts_on_target
	[ "$(tgt attach "$NAME" -- cat /dev/shm/pid </dev/null)" = "$pid" ]
	[ "$(tgt attach "$NAME" -- id -u </dev/null)" = 0 ]
	run tgt stop "$NAME"
	assert_success
}

# bats test_tags=v2
@test "migrate: a target where another container has the unprivileged one's id range refuses it; it runs on here" {
	requires_criu
	make_counter unprivileged
	ctr start "$NAME"
	wait_count_above 2 ctr
	# the target's first container takes the first range, as the source's did
	tgt create -t busybox "other-$$" --net none >/dev/null
	local pid c range
	range=$(ctr config "$NAME" get idmap)
	range=${range%% *}
	[ "$(tgt config "other-$$" get idmap | cut -d' ' -f1)" = "$range" ] ||
		fail "the two stores gave different ranges"
	pid=$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)
	receiver --
	CTR_TIMEOUT=300 run ctr migrate --pre-dumps 1 "$NAME" "unix:$SOCK"
	echo "$output"
	echo "receiver: $(cat "$BATS_TEST_TMPDIR/recv.out")"
	assert_failure
	assert_output_contains "container \`$NAME\`: its id range $range is another container's here"
	assert_output_contains "; container \`$NAME\` runs here again"
	[ "$(echo "$output" | grep -c ^ctr:)" -eq 1 ] || fail "more than one error line: $output"
	[ "$(receiver_status)" != 0 ] || fail "the receiver succeeded"
	[ "$(state_of "$NAME")" = running ]
	c=$(count ctr)
	[ "$c" -gt 2 ] || fail "the counter started again: $c"
	wait_count_above "$c" ctr
	[ "$(ctr attach "$NAME" -- cat /dev/shm/pid </dev/null)" = "$pid" ]
	[ "$(tgt_names)" = "other-$$" ] || fail "the target lists $(tgt_names)"
	run ctr stop "$NAME"
	assert_success
}

# bats test_tags=v2
@test "migrate: containers in a dir, an overlay and an lvm pool land in the target's store; their volumes go from the source" {
	requires_criu
	local pool kind dir size
	for kind in dir overlay lvm; do
		pool=mgp$kind$$
		dir=$BATS_TEST_TMPDIR/pool-$kind
		size=()
		if [ "$kind" = lvm ]; then
			grep -qw device-mapper /proc/devices || modprobe dm_thin_pool 2>/dev/null || true
			grep -qw device-mapper /proc/devices || continue # (lvm needs device-mapper)
			make_lvm "ctrmvg$$"
			ctr pool create "$pool" --type lvm --vg "$VG" --thinpool thin >/dev/null
			size=(--size 100M)
		else
			ctr pool create "$pool" --type "$kind" --path "$dir" >/dev/null
		fi
		make_counter --pool "$pool" "${size[@]}"
		[ "$(ctr config "$NAME" get pool)" = "$pool" ]
		ctr start "$NAME"
		wait_count_above 2 ctr
		ctr attach "$NAME" -- sh -c 'echo written while it runs >/etc/late' </dev/null
		migrate_ok
		# there: from its store (pool default), with the files of both copies
		[ "$(tgt config "$NAME" get pool)" = default ] || fail "$kind: pool there: $(tgt config "$NAME" get pool)"
		[ ! -e "$TGT/store/$NAME/volume.json" ] || fail "$kind: the volume's record went along"
		[ -d "$TGT/store/$NAME/rootfs" ] && [ ! -L "$TGT/store/$NAME/rootfs" ] || fail "$kind: rootfs there is not a tree"
		counts_on_target
		[ "$(tgt attach "$NAME" -- cat /etc/migrated </dev/null)" = "written on the source" ]
		[ "$(tgt attach "$NAME" -- cat /etc/late </dev/null)" = "written while it runs" ]
		# here: gone, its volume too, so the pool can go
		[ ! -e "$CTR_STORE/$NAME" ] || fail "$kind: the source keeps its store directory"
		if [ "$kind" = lvm ]; then
			[ -z "$(lvs --noheadings -o lv_name "$VG" | tr -d ' ' | grep "^ctr-$NAME\$")" ] || fail "lvm: the LV is left: $(lvs "$VG")"
		else
			[ -z "$(ls -A "$dir" | grep -v '^\.images$')" ] || fail "$kind: the pool keeps $(ls -A "$dir")"
		fi
		tgt stop "$NAME" >/dev/null
		tgt destroy "$NAME"
		run ctr pool rm "$pool"
		assert_success
	done
}
