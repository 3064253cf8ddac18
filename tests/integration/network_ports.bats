#!/usr/bin/env bats
# network_ports.bats: published ports of bridge networks as podman publishes them (TCP and
# UDP, on the host's addresses and its 127.0.0.1), the guard that keeps the host's loopback
# services out of the containers' reach (CVE-2020-8558), conflicts refused at create naming
# the holder, and DHCP served by the network's dnsmasq.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	command -v nft >/dev/null || skip "nft not installed (apt-get install nftables)"
	NET=ctrtp$$
	OUT=ctrtpo$$
	NAME=ctrtp-${BATS_SUITE_TEST_NUMBER}-$$
	make_bundle sh -c "$TH udp-echo 9000 & while :; do echo hello-from-container | nc -l -p 8080; done"
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	delete_all_containers
	ctr network rm -f "$NET" >/dev/null 2>&1 || true
	for n in ${HOST_PIDS:-}; do
		kill "$n" 2>/dev/null || true
	done
	ip netns del "$OUT" 2>/dev/null || true
	ip link del "${OUT}h" 2>/dev/null || true
	local left
	left=$(nft list table inet ctr 2>/dev/null | grep -e "ctr:$MARKER" -e "ctr:$NAME" -e "ctr-net:$NET\"" || true)
	[ -z "$left" ] || fail "nft rules left: $left" || return 1
	[ ! -e "/run/ctr-dns/$NET" ] || fail "DNS/DHCP directory left" || return 1
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# outside_ns: "another host": a namespace behind a veth, 10.232.250.1, the host 10.232.250.2.
outside_ns() {
	ip netns add "$OUT"
	ip link add "${OUT}h" type veth peer name eth0 netns "$OUT"
	ip addr add 10.232.250.2/30 dev "${OUT}h"
	ip link set "${OUT}h" up
	ip -n "$OUT" addr add 10.232.250.1/30 dev eth0
	ip -n "$OUT" link set eth0 up
	ip -n "$OUT" link set lo up
}

# host_bg CMD...: a host process of the test's, killed by teardown.
host_bg() {
	"$@" </dev/null >/dev/null 2>&1 &
	HOST_PIDS="${HOST_PIDS:-} $!"
	LAST_PID=$!
}

# http_get ADDR: the test's secret from the web server on ADDR:18610 (busybox nc: its wget
# crashes inside nsenter here).
http_get() {
	printf 'GET /secret HTTP/1.0\r\n\r\n' | busybox nc -w 3 "$1" 18610 2>/dev/null || true
}

serves_secret() {
	http_get 127.0.0.1 | grep -q host-loopback-secret
}

# tcp_says ADDR PORT: what a TCP connection there is told (empty when none).
tcp_says() {
	busybox nc -w 2 "$1" "$2" </dev/null 2>/dev/null || true
}

@test "ports: TCP and UDP published on every address and on 127.0.0.1 reach the container from the host, its 127.0.0.1 and another namespace" {
	ctr network create "$NET" --subnet 10.232.1.0/24
	outside_ns
	run_detached --net "$NET" --publish 127.0.0.1:18601:8080 --publish 18602:8080 \
		--publish 18603:9000/udp --publish 127.0.0.1:18604:9000/udp
	reaches 10.232.250.2 18602
	# TCP: the host's own 127.0.0.1 (output chain, route_localnet on the bridge)
	reaches 127.0.0.1 18601 || fail "127.0.0.1:18601"
	reaches 127.0.0.1 18602 || fail "127.0.0.1:18602 (every address)"
	[ "$(cat "/proc/sys/net/ipv4/conf/$NET/route_localnet")" = 1 ] || fail "route_localnet off"
	# published on 127.0.0.1 only: not on the host's other addresses, not from outside
	[ -z "$(tcp_says 10.232.250.2 18601)" ] || fail "127.0.0.1:18601 reachable on another address"
	reaches 10.232.250.2 18602 "$OUT" || fail "10.232.250.2:18602 from outside"
	# UDP: both ways through the host's address, its 127.0.0.1, and from outside
	run "$HOST_TH" udp-ask 127.0.0.1 18603 one
	[ "$output" = "echo one" ] || fail "udp 127.0.0.1:18603: $output"
	run "$HOST_TH" udp-ask 10.232.250.2 18603 two
	[ "$output" = "echo two" ] || fail "udp 10.232.250.2:18603: $output"
	run "$HOST_TH" udp-ask 127.0.0.1 18604 three
	[ "$output" = "echo three" ] || fail "udp 127.0.0.1:18604: $output"
	run ip netns exec "$OUT" "$HOST_TH" udp-ask 10.232.250.2 18603 four
	[ "$output" = "echo four" ] || fail "udp from outside: $output"
	run ip netns exec "$OUT" "$HOST_TH" udp-ask 10.232.250.2 18604 five
	assert_failure
	ctr delete -f "$(cid)"
	! nft list table inet ctr 2>/dev/null | grep -q "ctr:$(cid)" || fail "rules left after delete"
}

@test "ports: a container cannot reach the host's loopback services through its gateway (CVE-2020-8558)" {
	ctr network create "$NET" --subnet 10.232.2.0/24
	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo host-loopback-secret >"$BATS_TEST_TMPDIR/www/secret"
	host_bg busybox httpd -f -p 127.0.0.1:18610 -h "$BATS_TEST_TMPDIR/www"
	wait_until serves_secret
	# a port on 127.0.0.1 turns route_localnet on for the bridge
	run_detached --net "$NET" --publish 127.0.0.1:18611:8080
	[ "$(cat "/proc/sys/net/ipv4/conf/$NET/route_localnet")" = 1 ] || fail "route_localnet off"
	pid=$(ctr state "$(cid)" | jq .pid)
	# in the container's network namespace: 127.0.0.1 routed to the gateway, not to lo
	nsenter -t "$pid" -n sh -c 'sysctl -qw net.ipv4.conf.eth0.route_localnet=1 &&
		ip rule add pref 100 lookup local && ip rule del pref 0 &&
		ip rule add to 127.0.0.1 lookup 100 pref 10 &&
		ip route add 127.0.0.1/32 via 10.232.2.1 dev eth0 table 100'
	run nsenter -t "$pid" -n ip route get 127.0.0.1
	[[ $output == *"via 10.232.2.1 dev eth0"* ]] || fail "the packet would not leave: $output"
	run nsenter -t "$pid" -n bash -c "$(declare -f http_get); http_get 127.0.0.1"
	[[ $output != *host-loopback-secret* ]] || fail "the container read the host's loopback service"
	# the host itself still reaches its service and the container's port
	run http_get 127.0.0.1
	[[ $output == *host-loopback-secret* ]] || fail "host: $output"
	reaches 127.0.0.1 18611
}

@test "ports: bad and IPv6 loopback specs are refused at create with one line; 0.0.0.0 means every address" {
	ctr network create "$NET" --subnet 10.232.3.0/24
	run ctr create -t busybox "$NAME" --net "$NET" -p '[::1]:18620:80'
	[ "$status" -eq 1 ] || fail "$status: $output"
	[ "$output" = "ctr: publish: invalid publish spec \`[::1]:18620:80\`: IPv6 host address \`[::1]\`: ports are published on IPv4 host addresses only" ] || fail "$output"
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "store entry left: $(ls "$CTR_STORE")"
	run_logged ctr run -d --bundle "$BUNDLE" --net "$NET" --publish ::1:18620:80 "$(cid)"
	[ "$status" -ne 0 ] && [[ $output == *"IPv6 host address \`::1\`"* ]] || fail "$status: $output"
	run ctr network inspect "$NET"
	[ "$(jq '.leases | length' <<<"$output")" = 0 ] || fail "leases left: $output"
	# 0.0.0.0 is the wildcard: a plain rule, reachable on 127.0.0.1 too
	run_detached --net "$NET" --publish 0.0.0.0:18621:8080
	! nft list table inet ctr | grep -q "0.0.0.0" || fail "a rule for 0.0.0.0: $(nft list table inet ctr | grep 0.0.0.0)"
	reaches 127.0.0.1 18621
}

@test "ports: 127.0.0.1 and every-address publications clash both ways, TCP and UDP, with containers and host sockets, refused at create naming the holder" {
	ctr network create "$NET" --subnet 10.232.4.0/24
	run_detached --net "$NET" --publish 127.0.0.1:18630:8080 --publish 18631:9000/udp
	# another container: every address against 127.0.0.1, and 127.0.0.1 against every address
	for spec in 18630:80 0.0.0.0:18630:80 127.0.0.1:18631:80/udp; do
		run ctr create -t busybox "$NAME" --net "$NET" -p "$spec"
		[ "$status" -eq 1 ] && [ "$(wc -l <<<"$output")" = 1 ] || fail "$spec: $status: $output"
		[[ $output == *"already published by \`$(cid)\` (network \`$NET\`)"* ]] || fail "$spec: $output"
		[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "$spec: store entry left"
	done
	# another protocol, or another address than 127.0.0.1, is free
	ctr create -t busybox "$NAME" --net "$NET" -p 18630:80/udp -p 10.232.250.9:18630:80
	ctr destroy "$NAME"
	# host sockets: TCP on 127.0.0.1 against every address, every address against 127.0.0.1
	host_bg busybox httpd -f -p 127.0.0.1:18632 -h "$BATS_TEST_TMPDIR"
	httpd_lo=$LAST_PID
	host_bg busybox httpd -f -p 0.0.0.0:18633 -h "$BATS_TEST_TMPDIR"
	httpd_any=$LAST_PID
	host_bg "$HOST_TH" udp-echo 18634 127.0.0.1
	udp_lo=$LAST_PID
	wait_until sh -c "ss -ltn | grep -q '127.0.0.1:18632 ' && ss -ltn | grep -q ':18633 ' && ss -lun | grep -q '127.0.0.1:18634 '"
	for case in "18632:80 18632/tcp $httpd_lo busybox" "127.0.0.1:18633:80 127.0.0.1:18633/tcp $httpd_any busybox" \
		"18634:80/udp 18634/udp $udp_lo ctr-testhelper" "0.0.0.0:18634:80/udp 18634/udp $udp_lo ctr-testhelper"; do
		set -- $case
		run ctr create -t busybox "$NAME" --net "$NET" -p "$1"
		[ "$status" -eq 1 ] && [ "$(wc -l <<<"$output")" = 1 ] || fail "$1: $status: $output"
		[[ $output == *"publish \`$2\`: the host port is in use by a host socket of pid $3 ($4)"* ]] || fail "$1: $output"
	done
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "store entries left"
}

@test "dhcp: a container asking by DHCP gets its own lease's address; an unknown client gets one of the range; --dhcp needs DNS" {
	[ -x /usr/sbin/dnsmasq ] || fail "dnsmasq not installed (apt-get install dnsmasq-base)"
	run ctr network create "$NET" --subnet 10.232.5.0/24 --dhcp --no-dns
	[ "$status" -eq 1 ] && [ "$output" = "ctr: --dhcp: DHCP is served by the network's DNS server (dnsmasq), which --no-dns turns off" ] || fail "$status: $output"
	run ctr network ls -q
	[[ $output != *"$NET"* ]] || fail "created anyway"
	ctr network create "$NET" --subnet 10.232.5.0/24 --dhcp
	[ "$(ctr network inspect "$NET" | jq .dhcp)" = true ]
	# udhcpc's script: the address it is given goes on eth0
	printf '%s\n' '#!/bin/sh' '[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"' 'exit 0' >"$BUNDLE/rootfs/dhcp.sh"
	chmod +x "$BUNDLE/rootfs/dhcp.sh"
	update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_ADMIN", "CAP_NET_RAW"])'
	set_args sh -c 'ip addr flush dev eth0 && udhcpc -i eth0 -q -n -t 5 -T 2 -s /dhcp.sh >/dhcp.log 2>&1; sleep 3600'
	run_detached --net "$NET" --ip 10.232.5.40
	wait_until grep -q "lease of" "$BUNDLE/rootfs/dhcp.log" || fail "no lease: $(cat "$BUNDLE/rootfs/dhcp.log")"
	grep -q "lease of 10.232.5.40 obtained from 10.232.5.1" "$BUNDLE/rootfs/dhcp.log" || fail "$(cat "$BUNDLE/rootfs/dhcp.log")"
	run ctr exec "$(cid)" ip -4 -o addr show eth0
	[[ $output == *"inet 10.232.5.40/24"* ]] || fail "eth0: $output"
	# a client ctr does not know, on the bridge: an address of the range, not a container's
	ip netns add "$OUT"
	ip link add "${OUT}h" type veth peer name eth0 netns "$OUT"
	ip link set "${OUT}h" master "$NET" up
	ip -n "$OUT" link set eth0 up
	run ip netns exec "$OUT" busybox udhcpc -i eth0 -q -n -t 5 -T 2 -s /bin/true
	assert_success
	[[ $output =~ "lease of 10.232.5."([0-9]+)" obtained from 10.232.5.1" ]] || fail "$output"
	n=${BASH_REMATCH[1]}
	[ "$n" -ge 2 ] && [ "$n" -le 254 ] && [ "$n" != 40 ] || fail "address 10.232.5.$n"
	# the server keeps its leases in the network's run directory; they go with it
	[ -s "$CTR_NETWORK_ROOT/run/$NET.dhcp-leases" ] || fail "no lease file"
	ctr delete -f "$(cid)"
	wait_until sh -c "[ ! -e '$CTR_NETWORK_ROOT/run/$NET.dhcp-leases' ] && [ ! -e /run/ctr-dns/$NET ]" || fail "DHCP files left"
}
