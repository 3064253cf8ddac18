#!/usr/bin/env bats
# network_run.bats: containers on named networks through the real binary (`ctr run --net`):
# reachability, isolation, NAT to an "outside" namespace made by the test, published
# ports, 50 concurrent starts, and nothing left behind (veth, lease, nft rule).

# shellcheck disable=SC2154
load helpers

NET=ctrtrun
NET2=ctrtrun2

setup() {
	requires_root
	requires_ctr
	command -v nft >/dev/null || skip "nft not installed (apt-get install nftables)"
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	STATE_ROOT=$BATS_TEST_TMPDIR/state
	mkdir -p "$STATE_ROOT"
	chmod 0700 "$STATE_ROOT"
	export CTR_NETWORK_ROOT=$BATS_TEST_TMPDIR/netroot
	OUT=ctrto$$
	make_bundle sleep 3600
	update_config '.process.capabilities.bounding += ["CAP_NET_RAW"]
		| .process.capabilities.effective += ["CAP_NET_RAW"]
		| .process.capabilities.permitted += ["CAP_NET_RAW"]'
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	delete_all_containers
	[ -z "${LIVE_OWNER:-}" ] || kill "$LIVE_OWNER" 2>/dev/null || true
	ctr network rm "$NET" >/dev/null 2>&1 || true
	ctr network rm "$NET2" >/dev/null 2>&1 || true
	ctr network rm netinputr1 >/dev/null 2>&1 || true
	ctr network rm netinputr2 >/dev/null 2>&1 || true
	[ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
	ip netns del "$OUT" 2>/dev/null || true
	ip link del "${OUT}h" 2>/dev/null || true
	local left
	left=$(nft list table inet ctr 2>/dev/null | grep -F "ctr:$MARKER" || true)
	[ -z "$left" ] || fail "nft rules left: $left" || return 1
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# addr_of ID: the container's address on eth0 (no prefix length).
addr_of() {
	ctr exec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1
}

@test "run --net: two containers on one network reach each other; another network is isolated" {
	ctr network create "$NET" --subnet 10.212.1.0/24
	ctr network create "$NET2" --subnet 10.212.2.0/24
	run_detached --net "$NET"
	ctr run -d --bundle "$BUNDLE" --net "$NET" --ip 10.212.1.77 "$(cid b)" </dev/null >/dev/null 2>&1
	ctr run -d --bundle "$BUNDLE" --net "$NET2" "$(cid c)" </dev/null >/dev/null 2>&1
	[ "$(addr_of "$(cid b)")" = 10.212.1.77 ]
	run ctr exec "$(cid)" ping -c 1 -W 2 10.212.1.77
	assert_success
	# the default route goes through the network's gateway
	run ctr exec "$(cid)" ip route
	[[ $output == *"default via 10.212.1.1"* ]] || fail "$output"
	c=$(addr_of "$(cid c)")
	run ctr exec "$(cid)" ping -c 1 -W 1 "$c"
	assert_failure
}

@test "run --net: a NAT network reaches an outside namespace that has no route back" {
	ctr network create "$NET" --subnet 10.212.3.0/24
	ctr network create "$NET2" --subnet 10.212.4.0/24 --no-nat
	# "the internet": a namespace behind a veth, knowing nothing of the container subnets
	ip netns add "$OUT"
	ip link add "${OUT}h" type veth peer name eth0 netns "$OUT"
	ip addr add 198.18.77.2/30 dev "${OUT}h"
	ip link set "${OUT}h" up
	ip -n "$OUT" addr add 198.18.77.1/30 dev eth0
	ip -n "$OUT" link set eth0 up
	ip -n "$OUT" link set lo up
	run_detached --net "$NET"
	run ctr exec "$(cid)" ping -c 1 -W 2 198.18.77.1
	assert_success
	ctr run -d --bundle "$BUNDLE" --net "$NET2" "$(cid nonat)" </dev/null >/dev/null 2>&1
	run ctr exec "$(cid nonat)" ping -c 1 -W 1 198.18.77.1
	assert_failure
}

@test "run --publish: a published port is reachable from the host and from outside" {
	ctr network create "$NET" --subnet 10.212.5.0/24
	ip netns add "$OUT"
	ip link add "${OUT}h" type veth peer name eth0 netns "$OUT"
	ip addr add 198.18.78.2/30 dev "${OUT}h"
	ip link set "${OUT}h" up
	ip -n "$OUT" addr add 198.18.78.1/30 dev eth0
	ip -n "$OUT" link set eth0 up
	make_bundle sh -c 'while :; do echo hello-from-container | nc -l -p 8080; done'
	run_detached --net "$NET" --publish 18080:8080
	# from the host itself (output chain) and from the outside namespace (prerouting)
	reaches 198.18.78.2 18080
	reaches 198.18.78.2 18080 "$OUT" || fail "not reached from outside"
	nft list table inet ctr | grep -q "ctr:$(cid)" || fail "no rule tagged with the owner"
	ctr delete -f "$(cid)"
	! nft list table inet ctr 2>/dev/null | grep -q "ctr:$(cid)" || fail "rules left after delete"
}

@test "run --net: 50 concurrent starts get 50 distinct addresses; delete frees them all" {
	ctr network create "$NET" --subnet 10.212.6.0/24
	for i in $(seq 50); do
		ctr run -d --bundle "$BUNDLE" --net "$NET" "$(cid "$i")" </dev/null >/dev/null 2>&1 &
	done
	wait
	run ctr network inspect "$NET"
	assert_success
	[ "$(jq '.leases | length' <<<"$output")" = 50 ] || fail "leases: $output"
	[ "$(jq '[.leases[].address] | unique | length' <<<"$output")" = 50 ] || fail "duplicates: $output"
	[ "$(ip -o link show master "$NET" | wc -l)" = 50 ]
	for i in $(seq 50); do
		ctr delete -f "$(cid "$i")" &
	done
	wait
	run ctr network inspect "$NET"
	[ "$(jq '.leases | length' <<<"$output")" = 0 ] || fail "leases left: $output"
	wait_until sh -c "[ -z \"\$(ip -o link show master $NET)\" ]" || fail "veths left"
}

@test "a foreground run --net detaches when the container exits" {
	ctr network create "$NET" --subnet 10.212.7.0/24
	make_bundle sh -c 'ip -4 -o addr show eth0'
	run ctr run --bundle "$BUNDLE" --net "$NET" "$(cid)"
	assert_success
	[[ $output == *10.212.7.* ]] || fail "$output"
	run ctr network inspect "$NET"
	[ "$(jq '.leases | length' <<<"$output")" = 0 ] || fail "leases left: $output"
	wait_until sh -c "[ -z \"\$(ip -o link show master $NET)\" ]" || fail "veths left"
}

@test "run --net: bad input gets one-line errors and leaves nothing" {
	run ctr run --bundle "$BUNDLE" --net nosuch "$(cid)"
	assert_failure
	[[ $output == *"network \`nosuch\` does not exist"* ]] || fail "$output"
	ctr network create "$NET" --subnet 10.212.8.0/24
	run ctr run --bundle "$BUNDLE" --net "$NET" --ip 10.99.0.5 "$(cid)"
	assert_failure
	[[ $output == *10.99.0.5* ]] || fail "$output"
	run ctr run --bundle "$BUNDLE" --ip 10.212.8.5 "$(cid)"
	[ "$status" -eq 2 ]
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	run ctr run --bundle "$BUNDLE" --net "$NET" "$(cid)"
	assert_failure
	[[ $output == *"no network namespace of its own"* ]] || fail "$output"
	run ctr network inspect "$NET"
	[ "$(jq '.leases | length' <<<"$output")" = 0 ] || fail "leases left: $output"
}

# rules_of NETWORK: the number of nft rules tagged with the network.
rules_of() {
	nft list table inet ctr 2>/dev/null | grep -c "comment \"ctr-net:$1\"" || true
}

@test "run --ip: the network, broadcast, gateway or a leased address is refused naming the subnet or holder" {
	ctr network create netinputr1 --subnet 10.231.8.0/24
	run_detached --net netinputr1 --ip 10.231.8.9
	for bad in 10.231.8.0=network 10.231.8.255=broadcast 10.231.8.1=gateway; do
		run_logged ctr run -d --bundle "$BUNDLE" --net netinputr1 --ip "${bad%=*}" "$(cid b)"
		assert_failure
		[[ $output == *"address \`${bad%=*}\` is the ${bad#*=} address of subnet 10.231.8.0/24"* ]] || fail "$output"
	done
	run_logged ctr run -d --bundle "$BUNDLE" --net netinputr1 --ip 10.231.8.9 "$(cid b)"
	assert_failure
	[[ $output == *"10.231.8.9"*"already leased to \`$(cid)\`"* ]] || fail "$output"
	run ctr network inspect netinputr1
	[ "$(jq '.leases | length' <<<"$output")" = 1 ] || fail "leases: $output"
}

@test "run --publish: a port another container publishes (any network) or a host socket holds is refused, naming the holder" {
	command -v python3 >/dev/null || skip "python3 missing"
	ctr network create netinputr1 --subnet 10.231.9.0/24
	ctr network create netinputr2 --subnet 10.231.10.0/24
	run_detached --net netinputr1 --publish 18391:8080
	for net in netinputr1 netinputr2; do
		run_logged ctr run -d --bundle "$BUNDLE" --net "$net" --publish 18391:80 "$(cid b)"
		assert_failure
		[[ $output == *"publish \`18391/tcp\`"*"already published by \`$(cid)\`"* ]] || fail "$output"
	done
	# one host address of a port published on every address clashes too
	run_logged ctr run -d --bundle "$BUNDLE" --net netinputr2 --publish 192.0.2.1:18391:80 "$(cid b)"
	assert_failure
	# a host socket listening on the port
	python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 18392)); s.listen(); time.sleep(120)' &
	LISTENER=$!
	wait_until sh -c "ss -ltn | grep -q ':18392 '"
	run_logged ctr run -d --bundle "$BUNDLE" --net netinputr2 --publish 18392:80 "$(cid b)"
	assert_failure
	[[ $output == *"publish \`18392/tcp\`"*"host socket of pid $LISTENER (python3)"* ]] || fail "$output"
	# IPv6 host addresses (::1 included, as podman): refused when parsed, with the reason
	run_logged ctr run -d --bundle "$BUNDLE" --net netinputr2 --publish ::1:18393:80 "$(cid b)"
	assert_failure
	[[ $output == *"::1:18393:80"*"IPv6 host address"* ]] || fail "$output"
	run ctr network inspect netinputr2
	[ "$(jq '.leases | length' <<<"$output")" = 0 ] || fail "leases left: $output"
	! nft list table inet ctr 2>/dev/null | grep -q "ctr:$(cid b)/" || fail "rules left"
	run_logged ctr run -d --bundle "$BUNDLE" --net netinputr2 --publish 18391:80/udp "$(cid c)"
	assert_success
}

@test "run --net: a network whose bridge was deleted by hand gets its nft rules once, not twice" {
	ctr network create netinputr1 --subnet 10.231.11.0/24
	run_detached --net netinputr1
	before=$(rules_of netinputr1)
	[ "$before" -gt 0 ] || fail "no rules tagged ctr-net:netinputr1"
	ctr delete -f "$(cid)"
	ip link del netinputr1
	run_detached --net netinputr1
	[ "$(rules_of netinputr1)" = "$before" ] || fail "rules: $before before, $(rules_of netinputr1) after: $(nft list table inet ctr)"
	ctr delete -f "$(cid)"
	ctr network rm netinputr1
	[ "$(rules_of netinputr1)" = 0 ] || fail "rules left"
}

@test "run --net reclaims the leases of owners that are gone, without reading every lease's /proc entry" {
	command -v strace >/dev/null || skip "strace not installed"
	ctr network create "$NET" --subnet 10.212.9.0/29 --no-dns
	mkdir -p "$CTR_NETWORK_ROOT/run"
	local live start dead leases i
	sleep 600 &
	live=$! LIVE_OWNER=$!
	start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$live/stat")
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	# .2: its owner's pid is free; .3: a live owner; .4: the live owner's pid with another
	# start time (its owner died and the pid was taken again); .5: the owner that is about
	# to run again, dead the same way (with this shell's pid)
	{
		echo "10.212.9.2 ctrt-gone $dead 1 eth0 vethdead0002 0"
		echo "10.212.9.3 ctrt-live $live $start eth0 vethdead0003 0"
		echo "10.212.9.4 ctrt-reused $live 1 eth0 vethdead0004 0"
		echo "10.212.9.5 $(cid) $$ 1 eth0 vethdead0005 0"
	} >"$CTR_NETWORK_ROOT/run/$NET.leases"
	# (traced until the container execs: its own process would keep strace up for an hour)
	strace -f -b execve -qq -e trace=openat -o "$BATS_TEST_TMPDIR/trace" \
		"$CTR" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" --net "$NET" "$(cid)" </dev/null >/dev/null
	leases=$(cat "$CTR_NETWORK_ROOT/run/$NET.leases")
	[[ $leases != *ctrt-gone* ]] || fail "the gone owner's lease is left: $leases"
	[[ $leases == *"10.212.9.3 ctrt-live"* && $leases == *"10.212.9.4 ctrt-reused"* ]] ||
		fail "a lease that is not known dead went: $leases"
	[ "$(grep -c -- "$(cid) " <<<"$leases")" = 1 ] || fail "the re-run owner's dead lease is left: $leases"
	# the other owners were asked with kill 0, not through /proc/PID/stat
	! grep -q "/proc/$live/stat" "$BATS_TEST_TMPDIR/trace" ||
		fail "attach read another owner's /proc entry: $(grep "/proc/$live/stat" "$BATS_TEST_TMPDIR/trace")"
	# the subnet full (.1 the gateway, .2-.6 leased, the container has the gone owner's
	# address): the next attach reclaims the lease whose pid was taken again, and gets its
	# address
	local free
	free=$(for i in 2 3 4 5 6; do grep -q "^10.212.9.$i " <<<"$leases" || echo "10.212.9.$i"; done)
	for i in $free; do
		echo "$i ctrt-live$i $live $start eth0 vethdead000${i##*.} 0" >>"$CTR_NETWORK_ROOT/run/$NET.leases"
	done
	ctr run -d --bundle "$BUNDLE" --net "$NET" "$(cid b)" </dev/null >/dev/null
	leases=$(cat "$CTR_NETWORK_ROOT/run/$NET.leases")
	[[ $leases != *ctrt-reused* ]] || fail "the reused pid's lease is left in a full subnet: $leases"
	[[ $leases == *"10.212.9.4 $(cid b)"* ]] || fail "the second container has not the reclaimed address: $leases"
	ctr delete -f "$(cid)"
	ctr delete -f "$(cid b)"
	sed -i '/ctrt-live/d' "$CTR_NETWORK_ROOT/run/$NET.leases"
	kill "$live"
}
