#!/usr/bin/env bats
# network.bats: `ctr network create/ls/inspect/rm`, bad input with one-line errors, nothing left behind.
# (attach/detach against real namespaces: tests/unit/test-network-attach)

# shellcheck disable=SC2154
load helpers

setup() {
	requires_root
	requires_ctr
	[ -x "$CTR" ] || fail "runtime not found: $CTR" || return 1
	# definitions and leases in a private root; bridges and nft rules are real (names ctrt*)
	export CTR_NETWORK_ROOT=$BATS_TEST_TMPDIR/netroot
}

teardown() {
	local n
	for n in ctrtn1 ctrtn2 ctrtn3 netinputn1; do
		"$CTR" network rm "$n" >/dev/null 2>&1 || true
	done
	ip link del ctrtbusy 2>/dev/null || true
	rm -rf "$CTR_NETWORK_ROOT"
}

# assert_one_line_error: the last `run` failed with exit 1 and a single "ctr: " line.
assert_one_line_error() {
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status: $output"
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || fail "expected one line: $output"
	[[ $output == "ctr: "* ]] || fail "expected a ctr: prefix: $output"
}

# assert_nothing_left NAME BRIDGE: no definition, lease, bridge or nft rule of the network.
assert_nothing_left() {
	[ ! -e "$CTR_NETWORK_ROOT/networks/$1.json" ] || fail "definition left"
	[ ! -e "$CTR_NETWORK_ROOT/run/$1.leases" ] || fail "leases left"
	[ ! -e "$CTR_NETWORK_ROOT/run/$1.lock" ] || fail "lock left"
	! ip link show "$2" >/dev/null 2>&1 || fail "bridge $2 left"
	! nft list table inet ctr 2>/dev/null | grep -q "ctr-net:$1\"" || fail "nft rules left"
}

@test "network create, ls, inspect, rm" {
	run "$CTR" network create ctrtn1 --subnet 10.206.0.0/24
	assert_success
	run "$CTR" network create ctrtn2 --subnet 10.206.1.0/24 --gateway 10.206.1.254 --bridge ctrtbr2 \
		--no-nat --ipv6 fd00:ca7::/64 --mtu 1400
	assert_success
	run "$CTR" network ls
	assert_success
	assert_output_contains NAME BRIDGE SUBNET ctrtn1 10.206.0.0/24 ctrtn2 ctrtbr2
	run "$CTR" network ls --format json
	assert_success
	[ "$(jq -r 'map(.name) | join(",")' <<<"$output")" = ctrtn1,ctrtn2 ]
	run "$CTR" network inspect ctrtn2
	assert_success
	[ "$(jq -r '[.bridge, .subnet, .gateway, .ipv6, .gateway6, .nat, .mtu] | join(" ")' <<<"$output")" = \
		"ctrtbr2 10.206.1.0/24 10.206.1.254 fd00:ca7::/64 fd00:ca7::1 false 1400" ]
	run "$CTR" network inspect ctrtn1
	[ "$(jq -r '[.gateway, .nat, .mtu, (.leases | length)] | join(" ")' <<<"$output")" = \
		"10.206.0.1 true 1500 0" ]
	run "$CTR" network rm ctrtn1 ctrtn2
	assert_success
	assert_nothing_left ctrtn1 ctrtn1
	assert_nothing_left ctrtn2 ctrtbr2
	run "$CTR" network ls --format json
	[ "$output" = "[]" ]
}

@test "network create picks a free subnet" {
	run "$CTR" network create ctrtn1
	assert_success
	run "$CTR" network create ctrtn2
	assert_success
	a=$("$CTR" network inspect ctrtn1 | jq -r .subnet)
	b=$("$CTR" network inspect ctrtn2 | jq -r .subnet)
	[[ $a == 10.*.0.0/16 && $b == 10.*.0.0/16 && $a != "$b" ]] || fail "subnets $a $b"
	! ip route | grep -q "^${a%/16}" || fail "$a is a host route"
}

@test "network create: overlapping subnets" {
	"$CTR" network create ctrtn1 --subnet 10.206.0.0/16
	run "$CTR" network create ctrtn2 --subnet 10.206.5.0/24
	assert_one_line_error
	assert_output_contains "10.206.5.0/24" "overlaps network \`ctrtn1\`"
	host=$(ip -4 route show scope link | awk '$1 ~ /\// {print $1; exit}')
	[ -n "$host" ] || skip "no host route to overlap"
	run "$CTR" network create ctrtn2 --subnet "$host"
	assert_one_line_error
	assert_output_contains "overlaps the host route"
}

@test "network create: gateway outside the subnet" {
	run "$CTR" network create ctrtn1 --subnet 10.206.0.0/24 --gateway 10.207.0.1
	assert_one_line_error
	assert_output_contains "gateway \`10.207.0.1\`" "10.206.0.0/24"
	run "$CTR" network create ctrtn1 --subnet 10.206.0.0/24 --gateway 10.206.0.255
	assert_one_line_error
	assert_nothing_left ctrtn1 ctrtn1
}

@test "network create: malformed CIDR" {
	for bad in 10.206.0.0 10.206.0.0/40 10.206/16 banana/8 10.206.0.1/24 fd00::/64; do
		run "$CTR" network create ctrtn1 --subnet "$bad"
		assert_one_line_error
		assert_output_contains "subnet \`$bad\`"
	done
	run "$CTR" network create ctrtn1 --ipv6 fd00::1/64
	assert_one_line_error
	assert_output_contains "fd00::1/64"
	assert_nothing_left ctrtn1 ctrtn1
}

@test "network create: busy bridge name" {
	ip link add ctrtbusy type bridge
	run "$CTR" network create ctrtn1 --bridge ctrtbusy
	assert_one_line_error
	assert_output_contains "bridge name \`ctrtbusy\` is busy"
	"$CTR" network create ctrtn2 --bridge ctrtn3
	run "$CTR" network create ctrtn1 --bridge ctrtn3
	assert_one_line_error
	assert_output_contains "used by network \`ctrtn2\`"
	run "$CTR" network create ctrtn1 --bridge this-name-is-too-long
	assert_one_line_error
}

@test "network: bad names, unknown network, usage" {
	run "$CTR" network create 'bad/name'
	assert_one_line_error
	assert_output_contains "invalid network name"
	run "$CTR" network inspect ctrtnope
	assert_one_line_error
	assert_output_contains "network \`ctrtnope\` does not exist"
	run "$CTR" network rm ctrtnope
	assert_one_line_error
	run "$CTR" network create ctrtn1 --mtu 12
	[ "$status" -eq 2 ]
	run "$CTR" network frobnicate
	[ "$status" -eq 2 ]
	run "$CTR" network create ctrtn1
	assert_success
	run "$CTR" network create ctrtn1
	assert_one_line_error
	assert_output_contains "already exists"
}

@test "network rm is refused while a live owner holds a lease, not for a dead one" {
	"$CTR" network create ctrtn1 --subnet 10.206.0.0/24
	mkdir -p "$CTR_NETWORK_ROOT/run"
	start=$(awk '{sub(/.*\) /, ""); print $20}' /proc/$$/stat)
	echo "10.206.0.2 ctrt-owner $$ $start eth0 vethdeadbeef 0" >"$CTR_NETWORK_ROOT/run/ctrtn1.leases"
	run "$CTR" network ls
	assert_output_contains "ctrtn1"
	run "$CTR" network inspect ctrtn1
	[ "$(jq -r '.leases[0].owner' <<<"$output")" = ctrt-owner ]
	run "$CTR" network rm ctrtn1
	assert_one_line_error
	assert_output_contains "in use by \`ctrt-owner\`"
	# the same pid with another start time: the owner died and the pid was reused
	echo "10.206.0.2 ctrt-owner $$ 1 eth0 vethdeadbeef 0" >"$CTR_NETWORK_ROOT/run/ctrtn1.leases"
	run "$CTR" network rm ctrtn1
	assert_success
	assert_nothing_left ctrtn1 ctrtn1
}

@test "network commands need root" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CTR" network ls
	assert_one_line_error
	assert_output_contains "networks need root; rootless containers get --net none or pasta"
}

@test "network create: loopback, multicast, link-local, 0/8, class E and too small subnets are refused before anything is made" {
	for bad in 127.0.0.0/8:loopback 127.5.0.0/16:loopback 224.1.0.0/16:multicast \
		169.254.0.0/16:link-local 0.0.0.0/8:routable 240.0.0.0/8:broadcast \
		255.255.255.0/24:broadcast 10.231.0.0/31:"too small" 10.231.0.1/32:"too small"; do
		run "$CTR" network create netinputn1 --subnet "${bad%%:*}"
		assert_one_line_error
		assert_output_contains "subnet \`${bad%%:*}\`" "${bad#*:}"
	done
	for bad in fe80::/64=link-local ff02::/16=multicast ::/120=unspecified; do
		run "$CTR" network create netinputn1 --subnet 10.231.0.0/24 --ipv6 "${bad%%=*}"
		assert_one_line_error
		assert_output_contains "ipv6 subnet \`${bad%%=*}\`" "${bad#*=}"
	done
	# refused before the lock: no state directory for a network that was never made
	[ ! -e "$CTR_NETWORK_ROOT" ] || fail "left behind: $(find "$CTR_NETWORK_ROOT")"
	run "$CTR" network create netinputn1 --subnet 10.231.0.0/30
	assert_success
}

@test "network ls, create and rm remove the .tmp files of a killed writer, not of a live one" {
	"$CTR" network create netinputn1 --subnet 10.231.1.0/24
	# a writer killed between write and rename: nobody holds the lock it wrote under
	echo '{"name":' >"$CTR_NETWORK_ROOT/networks/netinputn2.json.tmp"
	echo "garbage" >"$CTR_NETWORK_ROOT/run/netinputn1.leases.tmp"
	# a live writer of netinputn3's leases holds netinputn3.lock
	exec {lockfd}>"$CTR_NETWORK_ROOT/run/netinputn3.lock"
	flock "$lockfd"
	echo "being written" >"$CTR_NETWORK_ROOT/run/netinputn3.leases.tmp"
	run "$CTR" network ls
	assert_success
	[ ! -e "$CTR_NETWORK_ROOT/networks/netinputn2.json.tmp" ] || fail "stale definition .tmp left"
	[ ! -e "$CTR_NETWORK_ROOT/run/netinputn1.leases.tmp" ] || fail "stale leases .tmp left"
	[ -e "$CTR_NETWORK_ROOT/run/netinputn3.leases.tmp" ] || fail "a live writer's .tmp was removed"
	exec {lockfd}>&-
	echo '{"name":' >"$CTR_NETWORK_ROOT/networks/netinputn2.json.tmp"
	run "$CTR" network rm netinputn1
	assert_success
	[ ! -e "$CTR_NETWORK_ROOT/networks/netinputn2.json.tmp" ] || fail "stale .tmp left by rm"
	[ ! -e "$CTR_NETWORK_ROOT/run/netinputn3.leases.tmp" ] || fail "stale .tmp left once unlocked"
	assert_nothing_left netinputn1 netinputn1
}
