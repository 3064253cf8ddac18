#!/usr/bin/env bats
# system_debian.bats: a real Debian guest (debootstrap, cached in /var/cache/ctr/debian) as a
# system container: systemd boots, sshd answers through a published port, the stop signal
# halts it. Slow: runs in CI (CI=true) or with CTR_SLOW_TESTS=1. The systemd test runs in
# check-v2 too (the pure cgroup v2 guest, with the tarball the host's run cached): there it
# found the device program refusing access(2) F_OK of /dev/console, so systemd skipped
# console-getty; the failure message carries what to look at for such a case.

# shellcheck disable=SC2154
load helpers

CTR_INIT=${BUILD_DIR:-$(dirname "$CTR")/..}/src/init/ctr-init
export CTR_INIT

# After the sshd test (SSH_TEST: container, network, outside namespace), also when it failed.
teardown() {
	if [ -n "${SSH_TEST:-}" ]; then
		ctr destroy -f "${SSH_TEST[0]}" >/dev/null 2>&1 || true
		ip netns del "${SSH_TEST[2]}" 2>/dev/null || true
		ip link del "${SSH_TEST[2]}h" 2>/dev/null || true
		ctr network rm -f "${SSH_TEST[1]}" >/dev/null 2>&1 || true
	fi
	[ -n "${MARKER:-}" ] || return 0
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# console_failures NAME: the lines of NAME's console that read like a failure, less those
# LXC 5's unprivileged Debian 12 guests print too (the same rootfs under lxc-start with
# lxc.idmap and userns.conf: the kernel refuses these to any container's root). Fails
# unless the log it reads holds the whole boot, from init's banner to root's prompt.
# On a loaded host mount's "mount: " prefix once came out as NUL padding (CI): the
# kernel-refused lines are matched with or without it.
console_failures() {
	local log
	# NUL bytes (terminal padding) are dropped here, not by bash's warning
	log=$(ctr console --log "$1" | tr -d '\000') || return 1
	# (sysvinit's own first lines may be missing: it flushes the console with tcflush(3),
	# which on a pty drops what the monitor has not read yet; CI once lost "INIT: version")
	[[ $log == *"root@$1"* ]] && grep -qE 'INIT: (version|Entering runlevel)|systemd' <<<"$log" ||
		fail "not a whole boot on the console: $log" || return 1
	# a message written in pieces (err(3): "prog: what", then ": strerror") can have a
	# newline from another boot script's output between them (CI once: "dmesg: read kernel
	# buffer failed" and ": Operation not permitted" on two lines): joined back first
	sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\r//g' <<<"$log" | perl -0pe 's/\n+(?=: )//g' |
		grep -iE 'fail|denied|not permitted|read-only file system|cannot|must be root|error|bad option|not defined' |
		grep -vxE '(mount: )?/sys/kernel/security: permission denied\.|(mount: )?/sys/fs/pstore: permission denied\.|mount: /sys: permission denied\.|mount: /(|run|run/lock|dev/shm|dev/pts): mount point not mounted or bad option\.|[[:space:]]*dmesg\(1\) may have more information after failed mount system call\.|(Checking file systems\.\.\.)?setterm: \$TERM is not defined\.|dmesg: read kernel buffer failed: Operation not permitted' || true
}

# outside_ns OUT HOSTIP PEERIP: namespace OUT on a veth pair from the host (HOSTIP/30 on the
# host's end, OUTh; PEERIP/30 inside): another machine, which reaches a published port as
# such machines do.
outside_ns() {
	ip netns add "$1"
	ip link add "${1}h" type veth peer name eth0 netns "$1"
	ip addr add "$2/30" dev "${1}h"
	ip link set "${1}h" up
	ip -n "$1" addr add "$3/30" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
}

# root_key NAME: a new key pair, BATS_TEST_TMPDIR/key, whose public half NAME's root
# accepts, owned as the guest's root owns /root.
root_key() {
	local root=$CTR_STORE/$1/rootfs/root
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
	install -d -m 0700 -o "$(stat -c %u "$root")" -g "$(stat -c %g "$root")" "$root/.ssh"
	install -m 0600 -o "$(stat -c %u "$root")" -g "$(stat -c %g "$root")" "$BATS_TEST_TMPDIR/key.pub" \
		"$root/.ssh/authorized_keys"
}

# ssh_from OUT HOSTIP PORT CMD...: CMD as the guest's root, through the port published on
# HOSTIP, from namespace OUT.
ssh_from() {
	local out=$1 ip=$2 port=$3
	shift 3
	ip netns exec "$out" ssh -i "$BATS_TEST_TMPDIR/key" -p "$port" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=30 "root@$ip" "$@" </dev/null
}

# bats test_tags=v2
@test "debian: systemd boots to running in a system container, sshd answers on a published port, reboot boots it again; SIGRTMIN+3 stops it cleanly (slow: CI or CTR_SLOW_TESTS)" {
	# check-v2's guest (CTR_V2_GUEST) is there for this one too
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}${CTR_V2_GUEST:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools debootstrap ssh ssh-keygen
	requires_init
	system_setup
	local name=sd-$$ host_cgroups cached id tarball hash net=ctrtssh$$ out=ctrtso$$
	SSH_TEST=("$name" "$net" "$out")
	# the cache entry of --init systemd with sshd (templates/ctr-debian: the package set's hash)
	hash=$(printf 'dbus\nopenssh-server\nsystemd-sysv\n' | sha256sum | cut -c1-12)
	tarball=$(ls /var/cache/ctr/debian/*-"$hash".tar 2>/dev/null | head -1)
	if [ -z "$tarball" ] && ! getent hosts deb.debian.org >/dev/null; then
		skip "no Debian mirror reachable and no cached systemd tree (/var/cache/ctr/debian/*-$hash.tar): share /var/cache/ctr"
	fi
	host_cgroups=$(cat /proc/1/cgroup /proc/self/cgroup)
	export CTR_TIMEOUT=900 # debootstrap, and a boot in an emulated guest
	# sshd reached from an "outside" namespace through a port published on the host
	ctr network create "$net" --subnet 10.213.77.0/24
	outside_ns "$out" 198.18.79.2 198.18.79.1
	run --separate-stderr ctr create -t debian "$name" --net "$net" --publish 18022:22 --init systemd \
		--packages openssh-server
	assert_success
	root_key "$name"
	[ "$(jq -r .stop_signal "$CTR_STORE/$name/ctr.json")" = "SIGRTMIN+3" ]
	run_logged ctr start "$name"
	assert_success
	system_is_running "$name"
	# not degraded: no unit failed (LXC's guest of the same tree fails none either)
	run ctr attach "$name" -- systemctl list-units --failed --no-legend --plain </dev/null
	[ -z "$output" ] || fail "failed units: $output"
	# unprivileged (the default): systemd runs as root of the container's own id range, and
	# makes its cgroups in the hierarchies ctr gave that root (name=systemd on a hybrid host)
	local range
	range=$(ctr config "$name" get idmap)
	run ctr attach "$name" -- cat /proc/self/uid_map </dev/null
	[ "$(echo $output)" = "0 ${range%%:*} 65536" ] || fail "uid_map: $output (idmap $range)"
	# systemd knows it runs in a container, from container=ctr
	run ctr attach "$name" -- systemd-detect-virt --container </dev/null
	[ "$output" = container-other ] || fail "systemd-detect-virt: $output"
	run ctr attach "$name" -- cat /run/systemd/container </dev/null
	[ "$output" = ctr ] || fail "/run/systemd/container: $output"
	# its own machine id, not the one of the cached tree
	tarball=$(ls /var/cache/ctr/debian/*-"$hash".tar | head -1)
	cached=$(tar -xOf "$tarball" ./etc/machine-id 2>/dev/null || true)
	id=$(cat "$CTR_STORE/$name/rootfs/etc/machine-id")
	[[ $id =~ ^[0-9a-f]{32}$ ]] && [ "$id" != "$cached" ] || fail "machine-id $id (cache: $cached)"
	# systemd's cgroups lie inside the container's own; no host process moved
	[ -n "$(find /sys/fs/cgroup -path "*/ctr/$name/init.scope" -type d 2>/dev/null)" ] ||
		fail "no init.scope under the container's cgroup"
	[ "$(cat /proc/1/cgroup /proc/self/cgroup)" = "$host_cgroups" ]
	# root logged in on the console (slow in an emulated guest: up to a minute)
	local tries=600
	until ctr console --log "$name" 2>/dev/null | grep -q "root@$name"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "no login on the console: $(ctr console --log "$name" | tail -15);" \
			"failed units: $(ctr attach "$name" -- systemctl list-units --failed --no-legend --plain </dev/null 2>&1);" \
			"console-getty: $(ctr attach "$name" -- systemctl status --no-pager console-getty </dev/null 2>&1);" \
			"/dev/console: $(ctr attach "$name" -- ls -l /dev/console </dev/null 2>&1);" \
			"its mounts: $(ctr attach "$name" -- grep -e console -e ' /dev ' /proc/1/mountinfo </dev/null 2>&1);" \
			"journal: $(ctr attach "$name" -- journalctl -b --no-pager -o short-monotonic </dev/null 2>&1 | grep -i -e console -e tty -e getty | head -20)" || return 1
		sleep 0.1
	done
	# sshd (it chroots to its privilege-separation directory: CAP_SYS_CHROOT's syscall is let
	# through by the default seccomp profile) answers a login from outside
	run ctr attach "$name" -- systemctl is-active ssh </dev/null
	[ "$output" = active ] || fail "ssh.service: $output"
	run ssh_from "$out" 198.18.79.2 18022 'hostname; id -u'
	assert_success
	[ "$(head -1 <<<"$output")" = "$name" ] || fail "ssh: $output"
	[ "$(sed -n 2p <<<"$output")" = 0 ] || fail "ssh: $output"
	# systemctl reboot: the monitor boots it again (a new init), and sshd answers again
	local pid
	pid=$(ctr info --format json "$name" | jq -r .pid)
	ctr attach "$name" -- systemctl reboot </dev/null || true
	WAIT_TRIES=1200 wait_until rebooted_from "$name" "$pid" ||
		fail "not rebooted: $(ctr info --format json "$name"); $(ctr console --log "$name" | tail -20)" || return 1
	[ "$(ctr info --format json "$name" | jq -r .restarts)" = 1 ]
	system_is_running "$name"
	wait_until ssh_from "$out" 198.18.79.2 18022 true
	# the stop signal ends it before the timeout's SIGKILL: exit 0, not 3
	run ctr stop -t 60 "$name"
	assert_success
	run ctr console --log "$name"
	assert_output_contains "Halting system"
	run ctr destroy "$name"
	assert_success
	ip netns del "$out"
	ctr network rm "$net"
	[ -z "$(nft list table inet ctr 2>/dev/null | grep -F "ctr:" | grep -F "$name")" ] ||
		fail "published port's rules left: $(nft list table inet ctr)"
}

@test "debian: a sysvinit guest boots unprivileged with no failure line LXC's unprivileged guest does not print (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools debootstrap
	requires_init
	system_setup
	local name=sv-$$ tries=600 failures
	if ! ls /var/cache/ctr/debian/*-minbase-*.tar >/dev/null 2>&1 && ! getent hosts deb.debian.org >/dev/null; then
		skip "no Debian mirror reachable and no cached tree (/var/cache/ctr/debian): share /var/cache/ctr"
	fi
	export CTR_TIMEOUT=900
	run --separate-stderr ctr create -t debian "$name" --net none
	assert_success
	[ "$(ctr config "$name" get privileged)" = false ]
	run_logged ctr start "$name"
	assert_success
	until ctr console --log "$name" 2>/dev/null | grep -q "root@$name"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "no login on the console: $(ctr console --log "$name" | tail -15)" || return 1
		sleep 0.1
	done
	failures=$(console_failures "$name") || fail "$failures" || return 1
	[ -z "$failures" ] || fail "failure lines on the console: $failures"
	# hostname.sh named it (sethostname in its own UTS namespace)
	run ctr attach "$name" -- hostname </dev/null
	[ "$output" = "$name" ] || fail "hostname: $output"
	run ctr stop -t 60 "$name"
	assert_success
	run ctr destroy "$name"
	assert_success
}

@test "debian: a sysvinit guest runs sshd on a published port; Ctrl-C on its console reaches the shell, not init; reboot boots it again (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools debootstrap ssh ssh-keygen script
	requires_init
	system_setup
	local name=sv-$$ hash tarball net=ctrtsvs$$ out=ctrtsvo$$ pid fifo
	SSH_TEST=("$name" "$net" "$out")
	hash=$(printf 'openssh-server\nsysvinit-core\n' | sha256sum | cut -c1-12)
	tarball=$(ls /var/cache/ctr/debian/*-"$hash".tar 2>/dev/null | head -1)
	if [ -z "$tarball" ] && ! getent hosts deb.debian.org >/dev/null; then
		skip "no Debian mirror reachable and no cached sysvinit tree with sshd"
	fi
	export CTR_TIMEOUT=900
	ctr network create "$net" --subnet 10.213.78.0/24
	outside_ns "$out" 198.18.79.6 198.18.79.5
	run --separate-stderr ctr create -t debian "$name" --net "$net" --publish 18023:22 --packages openssh-server
	assert_success
	root_key "$name"
	run_logged ctr start "$name"
	assert_success
	WAIT_TRIES=1200 wait_until sh -c "'$CTR' --root '$STATE_ROOT' console --log '$name' | grep -q 'root@$name'"
	# sshd (privilege separation chroots: CAP_SYS_CHROOT's syscall is let through), reached
	# from outside through the published port
	WAIT_TRIES=300 wait_until ssh_from "$out" 198.18.79.6 18023 true
	run ssh_from "$out" 198.18.79.6 18023 'hostname; id -u'
	assert_success
	[ "$output" = "$name
0" ] || fail "ssh: $output"

	# Ctrl-C on the console interrupts the shell's command, and init, which has no
	# controlling terminal, gets nothing: no reboot. The shell has job control.
	pid=$(ctr info --format json "$name" | jq -r .pid)
	fifo=$BATS_TEST_TMPDIR/keys
	mkfifo "$fifo"
	exec 7<>"$fifo"
	(printf 'sleep 60; echo slept-$((6*7))\n' && sleep 1 && printf '\003' && sleep 1 &&
		printf 'case $- in *m*) echo job-control-$((6*7));; esac\n' && sleep 1 &&
		printf 'echo alive-$((6*7))\n' && sleep 1 && printf '\001q') >&7 &
	run timeout 30 script -qec "'$CTR' --root '$STATE_ROOT' console '$name'" /dev/null <"$fifo"
	exec 7>&-
	[ "$status" -ne 124 ] || fail "Ctrl-a q did not detach: $output"
	[[ $output == *alive-42* ]] || fail "the shell did not come back: $output"
	[[ $output == *job-control-42* ]] || fail "no job control: $output"
	[[ $output != *slept-42* ]] || fail "Ctrl-C did not reach the shell's command: $output"
	sleep 2
	[ "$(ctr info --format json "$name" | jq -r '.pid, .restarts' | paste -sd ' ')" = "$pid 0" ] ||
		fail "init took the Ctrl-C: $(ctr info --format json "$name")"

	# reboot: the monitor boots it again (a new init), and sshd answers again
	ctr attach "$name" -- reboot </dev/null || true
	WAIT_TRIES=1200 wait_until rebooted_from "$name" "$pid" ||
		fail "not rebooted: $(ctr info --format json "$name"); $(ctr console --log "$name" | tail -20)" || return 1
	[ "$(ctr info --format json "$name" | jq -r .restarts)" = 1 ]
	WAIT_TRIES=300 wait_until ssh_from "$out" 198.18.79.6 18023 true
	# a plain stop: the template's stop_timeout is enough for the halt, exit 0
	run ctr stop "$name"
	assert_success
	run ctr destroy "$name"
	assert_success
	ip netns del "$out"
	ctr network rm "$net"
}
