#!/usr/bin/env bats
# system_config.bats: `ctr config NAME get|set` keys of a system container's OCI config and
# autostart settings (src/system/config_keys.c), each checked when set and seen inside the
# container at its next start; `ctr update` keeping limits across a restart; `ctr top`.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=syscfg-${BATS_SUITE_TEST_NUMBER}-$$
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	delete_all_containers
	rm -f "$BATS_TEST_TMPDIR/shared"
	check_no_leaks && [ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] && return 0
	remove_leftovers
	return 1
}

# in_guest CMD: CMD run by sh in the running container $NAME (stdin never the caller's:
# the test VM's is a terminal, whose echo would land in the output).
in_guest() {
	run ctr attach "$NAME" -- sh -c "$1" </dev/null
}

# cgroup_file V1FILE V2FILE: a limit as the container sees it in its cgroup namespace
# (hybrid: the v1 controller's file; pure cgroup v2: the unified file).
cgroup_file() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		in_guest "cat /sys/fs/cgroup/$2"
	else
		in_guest "cat /sys/fs/cgroup/$1"
	fi
	assert_success
}

make_system() {
	run ctr create -t busybox "$NAME" --net none
	assert_success
}

# set_ok KEY VALUE
set_ok() {
	run ctr config "$NAME" set "$1" "$2"
	assert_success
}

@test "config keys: set, get, and get without KEY lists every key" {
	make_system
	set_ok memory 512M
	set_ok swap 1g
	set_ok cpus 1.5
	set_ok cpu.weight 100
	set_ok cpuset.cpus 0
	set_ok pids 64
	set_ok rlimit.nofile 1000:2000
	set_ok env.GREETING "hello world"
	set_ok hostname guest1
	set_ok autostart.order 5
	set_ok autostart.delay 2
	set_ok autostart.group web
	for kv in "memory=512M" "swap=1G" "cpus=1.5" "cpu.weight=100" "cpu.shares=2598" \
		"cpuset.cpus=0" "pids=64" "rlimit.NOFILE=1000:2000" "env.GREETING=hello world" \
		"hostname=guest1" "autostart.order=5" "autostart.delay=2" "autostart.group=web" \
		"seccomp=on" "nesting=false"; do
		run ctr config "$NAME" get "${kv%%=*}"
		assert_success
		[ "$output" = "${kv#*=}" ] || fail "get ${kv%%=*}: $output, want ${kv#*=}"
	done
	# cpu.shares and cpu.weight are one setting (crun's conversion)
	set_ok cpu.shares 1024
	run ctr config "$NAME" get cpu.weight
	[ "$output" = 39 ] || fail "cpu.weight after cpu.shares 1024: $output"
	run ctr config "$NAME" get
	assert_success
	for line in "memory = 512M" "cpus = 1.5" "rlimit.NOFILE = 1000:2000" \
		"env.GREETING = hello world" "autostart = false" "autostart.group = web" \
		"seccomp = on" "nesting = false"; do
		grep -qxF "$line" <<<"$output" || fail "missing \"$line\" in: $output"
	done
	run ctr config "$NAME" keys
	assert_success
	grep -qxF "memory = 512M" <<<"$output" || fail "$output"
	# written where they belong: the OCI config and ctr.json
	jq -e '.linux.resources.memory.limit == 536870912 and .linux.resources.cpu.quota == 150000
		and .linux.resources.pids.limit == 64 and .hostname == "guest1"
		and (.process.env | index("GREETING=hello world"))' "$CTR_STORE/$NAME/config.json" >/dev/null ||
		fail "$(cat "$CTR_STORE/$NAME/config.json")"
	jq -e '.autostart_order == 5 and .autostart_group == "web"' "$CTR_STORE/$NAME/ctr.json" >/dev/null
	# max takes a limit away
	set_ok memory max
	jq -e '.linux.resources.memory.limit == null' "$CTR_STORE/$NAME/config.json" >/dev/null
	set_ok env.unset GREETING
	run ctr config "$NAME" get env.GREETING
	assert_failure
}

@test "config keys: a bad value is refused naming the key and the value, nothing is saved" {
	make_system
	before=$(sha256sum "$CTR_STORE/$NAME/config.json" "$CTR_STORE/$NAME/ctr.json")
	while IFS='|' read -r key value want; do
		run ctr config "$NAME" set "$key" "$value"
		assert_status 1
		[ "${#lines[@]}" = 1 ] || fail "$key $value: not one line: $output"
		[[ $output == "ctr: $key: "*"$want"* ]] || fail "$key $value: $output"
	done <<-'EOF'
		memory|12X|`12X` is not a size
		memory|1K|below
		swap|lots|`lots` is not a size
		cpus|1.5x|`1.5x` is not a number of CPUs
		cpus|0|`0` is not a number of CPUs
		cpu.shares|1|`1` is not a number from 2 to 262144
		cpu.weight|20000|`20000` is not a number from 1 to 10000
		cpuset.cpus|0-x|`0-x` is not a list
		pids|many|`many` is not a number of processes
		blkio.weight|5|`5` is not a number from 10 to 1000
		rlimit.NOFILE|10:5|the soft limit is above the hard one
		rlimit.NOFILE|lots|`lots` is not SOFT[:HARD]
		rlimit.BOGUS|1|unknown resource `BOGUS`
		env.1X|y|`1X` is not a variable name
		env.unset|NOT_THERE|`NOT_THERE` is not set
		hostname|bad_name|`bad_name` is not a host name
		mount.add|/nonexistent-ctr-test:/mnt|host path `/nonexistent-ctr-test`
		mount.add|relative:/mnt|both paths must be absolute
		mount.add|/etc:/proc/x|mounts on /proc, /dev or /sys are refused
		mount.add|/etc:/mnt:rx|`/etc:/mnt:rx` is not /HOST:/GUEST[:ro]
		mount.rm|/nothing|no bind mount at `/nothing`
		mount.rm|/proc|no bind mount at `/proc`
		device.add|/etc/passwd|`/etc/passwd` is not a path under /dev
		device.add|/dev/null/../sda|`/dev/null/../sda` is not a path under /dev
		device.add|/dev/shm|`/dev/shm` is not a character or block device
		device.rm|/dev/net/tun|`/dev/net/tun` is not in linux.devices
		cap.add|CAP_BOGUS|unknown capability `CAP_BOGUS`
		cap.drop|FLY|unknown capability `FLY`
		seccomp|maybe|`maybe` is not on or off
		nesting|yes|`yes` is not true or false
		autostart.order|first|`first` is not a whole number
		autostart.delay|86400|`86400` is not a number of seconds
		autostart.group|a/b|`a/b` is not a group name
	EOF
	[ "$before" = "$(sha256sum "$CTR_STORE/$NAME/config.json" "$CTR_STORE/$NAME/ctr.json")" ] ||
		fail "a refused value changed the definition"
	# swap is memory + swap: never below memory
	set_ok memory 256M
	run ctr config "$NAME" set swap 128M
	assert_failure
	[[ $output == *"swap: \`128M\` is below memory"* ]] || fail "$output"
}

@test "config set of an unknown key lists the valid ones; a set-only key has no get" {
	make_system
	run ctr config "$NAME" set memroy 1G
	assert_failure
	[[ $output == *"unknown key \`memroy\`"*autostart*memory*cap.drop*nesting*autostart.group* ]] ||
		fail "$output"
	run ctr config "$NAME" get memroy
	assert_failure
	[[ $output == *"unknown key \`memroy\`"*stop_signal*memory*rlimit.NAME*"read-only:"*caps* ]] ||
		fail "$output"
	# every key `config keys` shows is one the message names
	local msg=$output key
	for key in $(ctr config "$NAME" keys | sed -n 's/^\([^ ]*\) = .*/\1/p' | sed 's/^rlimit\..*/rlimit.NAME/; s/^env\..*/env.NAME/' | sort -u); do
		[[ $msg == *"$key"* ]] || fail "\`$key\` is not in: $msg"
	done
	run ctr config "$NAME" get mount.add
	assert_failure
	[[ $output == *"get mounts"* ]] || fail "$output"
	run ctr config "$NAME" set caps CAP_KILL
	assert_failure
	[[ $output == *"cap.add and cap.drop"* ]] || fail "$output"
}

@test "config limits take effect at the next start" {
	make_system
	set_ok memory 200M
	set_ok swap 300M
	set_ok cpus 0.5
	set_ok pids 40
	set_ok cpuset.cpus 0
	set_ok cpuset.mems 0
	set_ok cpu.shares 512
	run ctr start "$NAME"
	assert_success
	cgroup_file memory/memory.limit_in_bytes memory.max
	[ "$output" = 209715200 ] || fail "memory: $output"
	# swap is memory + swap (runc's --memory-swap); v2 keeps the swap part alone
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cgroup_file - memory.swap.max
		[ "$output" = 104857600 ] || fail "memory.swap.max: $output"
	elif [ -f /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
		cgroup_file memory/memory.memsw.limit_in_bytes -
		[ "$output" = 314572800 ] || fail "memsw: $output"
	fi
	cgroup_file cpuset/cpuset.mems cpuset.mems
	[ "$output" = 0 ] || fail "cpuset.mems: $output"
	# shares 512 of 1024; on v2 the weight they convert to (runc's: 1 + (s - 2) * 9999 / 262142)
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cgroup_file - cpu.weight
		[ "$output" = 20 ] || fail "cpu.weight: $output"
	else
		cgroup_file cpu/cpu.shares -
		[ "$output" = 512 ] || fail "cpu.shares: $output"
	fi
	cgroup_file pids/pids.max pids.max
	[ "$output" = 40 ] || fail "pids: $output"
	cgroup_file cpuset/cpuset.cpus cpuset.cpus
	[ "$output" = 0 ] || fail "cpuset: $output"
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		cgroup_file - cpu.max
		[ "$output" = "50000 100000" ] || fail "cpu.max: $output"
	else
		cgroup_file cpu/cpu.cfs_quota_us -
		[ "$output" = 50000 ] || fail "cfs_quota_us: $output"
	fi
	# a change to a running container says when it counts
	run ctr config "$NAME" set memory 300M
	assert_success
	[[ $output == *"is running: memory takes effect at its next start"* ]] || fail "$output"
	cgroup_file memory/memory.limit_in_bytes memory.max
	[ "$output" = 209715200 ] || fail "memory changed live: $output"
}

@test "config hostname, env, rlimit, mount.add and device.add take effect at the next start" {
	make_system
	echo "from the host $MARKER" >"$BATS_TEST_TMPDIR/shared"
	set_ok hostname renamed-guest
	set_ok env.GREETING "hello world"
	set_ok rlimit.NOFILE 1000:2000
	set_ok mount.add "$BATS_TEST_TMPDIR/shared:/mnt/shared:ro"
	[ -c /dev/net/tun ] && set_ok device.add /dev/net/tun
	run ctr config "$NAME" get mounts
	[ "$output" = "$BATS_TEST_TMPDIR/shared:/mnt/shared:ro" ] || fail "$output"
	run ctr start "$NAME"
	assert_success
	in_guest hostname
	[ "$output" = renamed-guest ] || fail "hostname: $output"
	in_guest 'cat /proc/1/environ | tr "\0" "\n" | grep ^GREETING='
	[ "$output" = "GREETING=hello world" ] || fail "env: $output"
	in_guest 'grep "Max open files" /proc/1/limits'
	[[ $output == *" 1000 "*" 2000 "* ]] || fail "rlimit: $output"
	in_guest 'cat /mnt/shared; echo x >/mnt/shared'
	assert_failure
	[[ $output == *"from the host $MARKER"* ]] || fail "mount: $output"
	if [ -c /dev/net/tun ]; then
		in_guest '[ -c /dev/net/tun ] && exec 3<>/dev/net/tun && echo opened'
		assert_success
		[ "$output" = opened ] || fail "tun: $output"
	fi
	run ctr stop "$NAME"
	assert_success
	# and back
	set_ok mount.rm /mnt/shared
	[ -c /dev/net/tun ] && set_ok device.rm /dev/net/tun
	run ctr start "$NAME"
	assert_success
	# the mount point the bind made stays in the rootfs, empty
	in_guest 'grep -qs ctr-test /mnt/shared || echo gone; [ -e /dev/net/tun ] || echo no-tun'
	[ "$output" = "gone
no-tun" ] || fail "$output"
}

@test "config cap.drop CAP_NET_RAW makes ping fail; seccomp off; nesting lets it mount proc" {
	# privileged: an unprivileged container's root holds CAP_SYS_ADMIN (in its own user
	# namespace) without nesting (system_userns.bats)
	run ctr create -t busybox "$NAME" --net none --privileged
	assert_success
	run ctr start "$NAME"
	assert_success
	in_guest 'ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pinged'
	[ "$output" = pinged ] || fail "ping before: $output"
	in_guest 'grep ^Seccomp: /proc/self/status'
	[[ $output == *2 ]] || fail "$output"
	in_guest 'mkdir -p /tmp/p && mount -t proc proc /tmp/p && echo mounted'
	assert_failure
	run ctr stop "$NAME"
	assert_success

	set_ok cap.drop CAP_NET_RAW
	set_ok seccomp off
	set_ok nesting true
	jq -e '.linux.seccomp == null and .linux.maskedPaths == null' "$CTR_STORE/$NAME/config.json" >/dev/null
	run ctr start "$NAME"
	assert_success
	in_guest 'ping -c 1 -W 2 127.0.0.1'
	assert_failure
	in_guest 'grep ^Seccomp: /proc/self/status'
	[[ $output == *0 ]] || fail "$output"
	in_guest 'mkdir -p /tmp/p && mount -t proc proc /tmp/p && ls /tmp/p/1/status && umount /tmp/p'
	assert_success
	run ctr stop "$NAME"
	assert_success

	# and back: the default profile and masks again
	set_ok nesting false
	set_ok seccomp on
	set_ok cap.add net_raw
	run ctr config "$NAME" get caps
	[[ ,$output, == *,CAP_NET_RAW,* && ,$output, != *,CAP_SYS_ADMIN,* ]] || fail "$output"
	run ctr start "$NAME"
	assert_success
	in_guest 'ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pinged; grep ^Seccomp: /proc/self/status'
	[[ $output == "pinged"*2 ]] || fail "$output"
}

@test "update of a system container persists its limits across stop and start, --no-persist not" {
	make_system
	run ctr start "$NAME"
	assert_success
	run ctr update --memory 150M --pids-limit 30 "$NAME"
	assert_success
	cgroup_file memory/memory.limit_in_bytes memory.max
	[ "$output" = 157286400 ] || fail "live: $output"
	run ctr update --no-persist --cpu-quota 20000 --cpu-period 100000 "$NAME"
	assert_success
	run ctr config "$NAME" get memory
	[ "$output" = 150M ] || fail "$output"
	run ctr config "$NAME" get cpus
	[ "$output" = max ] || fail "--no-persist was saved: $output"
	run ctr stop "$NAME"
	assert_success
	# stopped: stored for the next start
	run ctr update -r - "$NAME" <<<'{"pids": {"limit": 25}}'
	assert_success
	run ctr start "$NAME"
	assert_success
	cgroup_file memory/memory.limit_in_bytes memory.max
	[ "$output" = 157286400 ] || fail "after restart: $output"
	cgroup_file pids/pids.max pids.max
	[ "$output" = 25 ] || fail "pids after restart: $output"
}

@test "ctr top --once shows running containers with their memory" {
	make_system
	set_ok memory 100M
	run ctr start "$NAME"
	assert_success
	run ctr top --once --delay 0.2
	assert_success
	[[ ${lines[0]} == "NAME "*"CPU%"*"MEMORY"*"LIMIT"*"PIDS"*"READ"*"WRITE" ]] || fail "$output"
	grep -E "^$NAME +system +[0-9.]+ +[0-9.]+[KMG] +100.0M +[0-9]+ " <<<"$output" ||
		fail "$output"
	run ctr top --once --delay 0.2 --format json
	assert_success
	jq -e --arg n "$NAME" '.[] | select(.id == $n) | .type == "system" and .memory_bytes > 0
		and .memory_limit_bytes == 104857600 and .pids >= 1 and .cpu_percent >= 0' <<<"$output" ||
		fail "$output"
	run ctr stop "$NAME"
	assert_success
	run ctr top --once --delay 0.1 --format json
	assert_success
	[ "$(jq --arg n "$NAME" '[.[] | select(.id == $n)] | length' <<<"$output")" = 0 ] || fail "$output"
	run ctr top --delay nope
	assert_status 2
	[[ $output == *"--delay: \`nope\`"* ]] || fail "$output"
}

@test "start --autostart --group: lowest autostart.order first, only the group" {
	for c in a b c; do
		run ctr create -t busybox "$NAME-$c" --net none
		assert_success
		run ctr config "$NAME-$c" set autostart true
		assert_success
	done
	run ctr config "$NAME-a" set autostart.order 2
	run ctr config "$NAME-b" set autostart.order 1
	for c in a b; do
		run ctr config "$NAME-$c" set autostart.group "g$$"
		assert_success
	done
	run ctr start --autostart --group "g$$"
	assert_success
	[ "$(ctr ls --format json | jq -r --arg n "$NAME-c" '.[] | select(.name == $n) | .state')" = stopped ]
	a=$(ctr state "$NAME-a" | jq -r .created)
	b=$(ctr state "$NAME-b" | jq -r .created)
	[[ $b < $a ]] || fail "order 1 ($b) did not start before order 2 ($a)"
	run ctr start --group x "$NAME-c"
	assert_status 2
}
