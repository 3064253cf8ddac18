#!/usr/bin/env bats
# network_dns.bats: the DNS server (dnsmasq) of a bridge network: containers find each other
# by NAME and NAME.NETWORK, other names go upstream, the host can ask it too; it starts with
# the first container and stops with the last, and nothing of it outlives a kill -9.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	[ -x /usr/sbin/dnsmasq ] || fail "dnsmasq not installed (apt-get install dnsmasq-base)" || return 1
	NAME=dns-${BATS_SUITE_TEST_NUMBER}-$$
	NET=ctrtdns$$
	GW=10.231.40.1
	# a fake upstream on a loopback address: it knows example.test, nothing else
	UPSTREAM=127.0.0.77
	/usr/sbin/dnsmasq --conf-file=/dev/null --no-hosts --no-resolv --bind-interfaces \
		--listen-address=$UPSTREAM --address=/example.test/1.2.3.4 \
		--pid-file="$BATS_TEST_TMPDIR/upstream.pid"
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	ctr network rm -f "$NET" >/dev/null 2>&1 || true
	[ ! -s "$BATS_TEST_TMPDIR/upstream.pid" ] || kill "$(cat "$BATS_TEST_TMPDIR/upstream.pid")" 2>/dev/null || true
	delete_all_containers
	[ -z "${MADE_RUN_SYSTEMD:-}" ] || rmdir /run/systemd
	check_no_leaks && no_dns_left && return 0
	remove_leftovers
	return 1
}

# dnsmasq_pid: the pid of the network's server (its pid file), empty when none.
dnsmasq_pid() {
	cat "$CTR_NETWORK_ROOT/run/$NET.dnsmasq.pid" 2>/dev/null || true
}

# no_dns_left: no server of the network, no pid file, hosts directory or cgroup.
no_dns_gone() {
	[ -z "$(pgrep -f -- "dnsmasq.*--pid-file=$CTR_NETWORK_ROOT/run/$NET.dnsmasq.pid")" ]
}
no_dns_left() {
	wait_until no_dns_gone || fail "dnsmasq left: $(pgrep -af -- "$NET.dnsmasq.pid")" || return 1
	[ ! -e "$CTR_NETWORK_ROOT/run/$NET.dnsmasq.pid" ] || fail "pid file left" || return 1
	[ ! -e "/run/ctr-dns/$NET" ] || fail "hosts directory left: $(ls -la "/run/ctr-dns/$NET")" || return 1
	[ -z "$(find /sys/fs/cgroup -type d -path "*/ctr.dns/$NET" 2>/dev/null)" ] ||
		fail "cgroups left: $(find /sys/fs/cgroup -type d -path "*/ctr.dns/$NET")" || return 1
}

# resolves WHO NAME ADDRESS: nslookup in container WHO answers ADDRESS for NAME.
resolves() {
	ctr attach "$1" -- nslookup "$2" 2>/dev/null | grep -q "Address: $3\$"
}

# address_of NAME: the container's IPv4 address (ctr ls).
address_of() {
	ctr ls --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .addresses[0] | split("/")[0]'
}

@test "dns: containers resolve each other by NAME and NAME.NETWORK, other names go upstream, the host asks the gateway" {
	ctr network create "$NET" --subnet 10.231.40.0/24 --dns-upstream "$UPSTREAM"
	run ctr network inspect "$NET"
	[ "$(jq -r '[.dns, .dns_upstream[0]] | join(" ")' <<<"$output")" = "true $UPSTREAM" ] || fail "$output"
	ctr create -t busybox "$NAME-a" --net "$NET"
	ctr create -t busybox "$NAME-b" --net "$NET" --ip 10.231.40.50
	[ -z "$(dnsmasq_pid)" ] || fail "a server before the first container"
	ctr start "$NAME-a"
	ctr start "$NAME-b"
	a=$(address_of "$NAME-a")
	run ctr attach "$NAME-a" -- cat /etc/resolv.conf
	assert_success
	[[ $output == *"nameserver $GW"* ]] || fail "resolv.conf: $output"
	[[ $output == *"search $NET"* ]] || fail "resolv.conf: $output"
	wait_until resolves "$NAME-a" "$NAME-b" 10.231.40.50 || fail "a cannot resolve b: $(ctr attach "$NAME-a" -- nslookup "$NAME-b" 2>&1)"
	resolves "$NAME-a" "$NAME-b.$NET" 10.231.40.50 || fail "a cannot resolve b.$NET"
	resolves "$NAME-b" "$NAME-a" "$a" || fail "b cannot resolve a"
	resolves "$NAME-b" "$NAME-a.$NET" "$a" || fail "b cannot resolve a.$NET"
	# an outside name goes to the upstream
	resolves "$NAME-a" www.example.test 1.2.3.4 || fail "not forwarded: $(ctr attach "$NAME-a" -- nslookup www.example.test 2>&1)"
	# the host asks the server on the gateway
	run busybox nslookup "$NAME-b.$NET" "$GW"
	[[ $output == *"Address: 10.231.40.50"* ]] || fail "host: $output"
	# the server runs outside every container: the host's namespaces, a cgroup of its own
	pid=$(dnsmasq_pid)
	[ -n "$pid" ] && kill -0 "$pid" || fail "no server"
	for ns in net mnt pid user; do
		[ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink "/proc/$$/ns/$ns")" ] || fail "dnsmasq in another $ns namespace"
	done
	grep -q ":/ctr.dns/$NET\$" "/proc/$pid/cgroup" || fail "cgroup: $(cat "/proc/$pid/cgroup")"
	# one container leaves: its name goes, the server stays
	ctr stop -t 0 "$NAME-a"
	wait_until sh -c "! busybox nslookup '$NAME-a' '$GW' 2>/dev/null | grep -q 'Address: $a\$'" || fail "a still resolves"
	[ "$(dnsmasq_pid)" = "$pid" ] || fail "server restarted or gone"
	# the bridge keeps its own address (0a:58: + the gateway's) when a port leaves: b's
	# ARP entry for its DNS server stays right
	[ "$(cat "/sys/class/net/$NET/address")" = 0a:58:0a:e7:28:01 ] || fail "bridge address: $(cat "/sys/class/net/$NET/address")"
	resolves "$NAME-b" "$NAME-b" 10.231.40.50 || fail "b lost its own name: $(ctr attach "$NAME-b" -- nslookup "$NAME-b" 2>&1)"
	# the last one leaves: the server goes
	ctr stop -t 0 "$NAME-b"
	no_dns_left
	# and with the host's last server, the shared parents it made (unless another runs)
	if [ -z "$(find /sys/fs/cgroup -mindepth 2 -type d -path "*/ctr.dns/*" 2>/dev/null)" ]; then
		[ -z "$(find /sys/fs/cgroup -maxdepth 2 -type d -name ctr.dns)" ] ||
			fail "ctr.dns left: $(find /sys/fs/cgroup -maxdepth 2 -type d -name ctr.dns)"
		[ ! -e /run/ctr-dns ] || fail "/run/ctr-dns left"
	fi
	ctr destroy "$NAME-a"
	ctr destroy "$NAME-b"
	ctr network rm "$NET"
}

@test "dns: a server killed is started again by the next attach; containers killed outright leave nothing after destroy -f" {
	ctr network create "$NET" --subnet 10.231.40.0/24 --dns-upstream "$UPSTREAM"
	ctr create -t busybox "$NAME-a" --net "$NET"
	ctr create -t busybox "$NAME-b" --net "$NET" --ip 10.231.40.50
	ctr start "$NAME-a"
	pid=$(dnsmasq_pid)
	kill -KILL "$pid"
	wait_until process_gone "$pid"
	# a stale pid file: the next attach cleans up and starts a new server
	ctr start "$NAME-b"
	[ -n "$(dnsmasq_pid)" ] && [ "$(dnsmasq_pid)" != "$pid" ] || fail "no new server"
	wait_until resolves "$NAME-b" "$NAME-a.$NET" "$(address_of "$NAME-a")" || fail "new server does not know a"
	# monitors and containers killed with SIGKILL: their leases are stale, the server runs on
	for n in "$NAME-a" "$NAME-b"; do
		kill -KILL "$(jq -r .monitor_pid "$STATE_ROOT/$n/monitor.json")" "$(ctr ls --format json | jq -r --arg n "$n" '.[] | select(.name == $n) | .pid')"
	done
	kill -0 "$(dnsmasq_pid)" || fail "the server went before any cleanup"
	ctr destroy -f "$NAME-a"
	ctr destroy -f "$NAME-b"
	no_dns_left
	ctr network rm "$NET"
}

@test "dns: network rm takes the server of a network whose containers were killed outright" {
	ctr network create "$NET" --subnet 10.231.40.0/24 --dns-upstream "$UPSTREAM"
	ctr create -t busybox "$NAME" --net "$NET"
	ctr start "$NAME"
	[ -n "$(dnsmasq_pid)" ] || fail "no server"
	kill -KILL "$(jq -r .monitor_pid "$STATE_ROOT/$NAME/monitor.json")" "$(ctr ls --format json | jq -r --arg n "$NAME" '.[] | select(.name == $n) | .pid')"
	kill -0 "$(dnsmasq_pid)" || fail "the server went before any cleanup"
	run ctr network rm --force "$NET"
	assert_success
	no_dns_left
}

@test "dns: --no-dns: no server, the host's resolvers; bad --dns-upstream refused" {
	ctr network create "$NET" --subnet 10.231.40.0/24 --no-dns
	ctr create -t busybox "$NAME" --net "$NET"
	ctr start "$NAME"
	[ -z "$(dnsmasq_pid)" ] || fail "a server on a --no-dns network"
	run ctr attach "$NAME" -- cat /etc/resolv.conf
	[[ $output != *"nameserver $GW"* ]] || fail "resolv.conf: $output"
	ctr destroy -f "$NAME"
	ctr network rm "$NET"
	run ctr network create "$NET" --dns-upstream 1.2.3
	[ "$status" -eq 1 ] && [ "$output" = "ctr: invalid dns upstream \`1.2.3\`: not an IP address" ] || fail "$status: $output"
	run ctr network ls -q
	[[ $output != *"$NET"* ]] || fail "created anyway"
}

@test "dns: behind systemd-resolved's stub (127.0.0.53) the server asks resolved's upstreams; the host's search domains follow" {
	printf 'nameserver 127.0.0.53\nsearch corp.example\noptions edns0\n' >"$BATS_TEST_TMPDIR/resolv.conf"
	printf 'nameserver %s\n' "$UPSTREAM" >"$BATS_TEST_TMPDIR/resolved.conf"
	ctr network create "$NET" --subnet 10.231.40.0/24
	ctr create -t busybox "$NAME" --net "$NET"
	# the host as systemd-resolved leaves it, in a mount namespace of the test's own (an
	# empty /run/systemd made for the tmpfs where the host has none, removed again)
	if [ ! -d /run/systemd ]; then
		mkdir /run/systemd
		MADE_RUN_SYSTEMD=1
	fi
	unshare -m sh -c "mount --make-rprivate / && mount --bind '$BATS_TEST_TMPDIR/resolv.conf' /etc/resolv.conf &&
		mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/resolve &&
		cp '$BATS_TEST_TMPDIR/resolved.conf' /run/systemd/resolve/resolv.conf &&
		CTR_TEST_MARKER=$MARKER '$CTR' --root '$STATE_ROOT' start '$NAME'"
	pid=$(dnsmasq_pid)
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--server=$UPSTREAM " || fail "upstreams: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	run ctr attach "$NAME" -- cat /etc/resolv.conf
	[ "$output" = "nameserver $GW
options edns0
search $NET corp.example" ] || fail "resolv.conf: $output"
	wait_until resolves "$NAME" www.example.test 1.2.3.4 || fail "not forwarded: $(ctr attach "$NAME" -- nslookup www.example.test 2>&1)"
	ctr destroy -f "$NAME"
	no_dns_left
	ctr network rm "$NET"
}
