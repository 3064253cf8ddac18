#!/usr/bin/env bats
# network_drivers.bats: networks of other kinds than a bridge (`ctr network create --driver
# macvlan|ipvlan --parent IF [--mode M] [--vlan ID]`, a bridge on a VLAN) and `--net
# phys:IFNAME`, against parents the test makes (ctrtd*: a dummy when the kernel has one,
# else a veth pair); the errors at create; nothing left behind (links, leases, holders).

# shellcheck disable=SC2154
load helpers

setup() {
	requires_root
	requires_ctr
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	STATE_ROOT=$BATS_TEST_TMPDIR/state
	mkdir -p "$STATE_ROOT"
	chmod 0700 "$STATE_ROOT"
	export CTR_NETWORK_ROOT=$BATS_TEST_TMPDIR/netroot
	# parent interfaces: short names (a VLAN link adds ".ID" within 15 bytes)
	P=ctrtd$$
	P=${P:0:11}
	make_bundle sleep 3600
	update_config '.process.capabilities.bounding += ["CAP_NET_RAW"]
		| .process.capabilities.effective += ["CAP_NET_RAW"]
		| .process.capabilities.permitted += ["CAP_NET_RAW"]'
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "${CTR_STORE:-/nonexistent}" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	delete_all_containers
	for n in ctrtdm ctrtdi ctrtdv ctrtdb ctrtdx; do
		ctr network rm -f "$n" >/dev/null 2>&1 || true
	done
	ip link del "$P" 2>/dev/null || true
	ip link del "${P}x" 2>/dev/null || true
	ip link del ctrtdb 2>/dev/null || true
	check_no_leaks && nothing_left && return 0
	remove_leftovers
	return 1
}

# nothing_left: no link of the test's, no lease, no phys record or namespace holder.
nothing_left() {
	local links
	# only this test's names: other suites' bridges (ctrtdns...) may come and go meanwhile
	links=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 |
		grep -E "^($P|ctrtdb$|${P}q$)" || true)
	[ -z "$links" ] || fail "links left: $links" || return 1
	[ -z "$(ls "$CTR_NETWORK_ROOT/run/"*.leases 2>/dev/null)" ] || fail "leases left" || return 1
	[ -z "$(ls -A "$CTR_NETWORK_ROOT/run/phys" 2>/dev/null)" ] || fail "phys records left" || return 1
}

# parent NAME: a dummy interface NAME (a veth pair NAME + NAMEp without dummy), up.
parent() {
	if ! ip link add "$1" type dummy 2>/dev/null; then
		ip link add "$1" type veth peer name "${1}p" || return 1
		ip link set "${1}p" up
	fi
	ip link set "$1" up
}

# requires_link_kind CONFIG KIND [ARGS]: skip unless the kernel makes KIND links on a parent.
requires_link_kind() {
	local config=$1
	shift
	parent "${P}x" || return 1
	if ! ip link add link "${P}x" name "${P}q" type "$@" 2>/dev/null; then
		ip link del "${P}x"
		skip "the kernel has no $1 links (CONFIG_$config)"
	fi
	ip link del "${P}q"
	ip link del "${P}x"
}

# in_netns ID CMD...: CMD (the host's) in the container's network namespace.
in_netns() {
	local id=$1
	shift
	nsenter -t "$(ctr state "$id" | jq -r .pid)" -n "$@"
}

# addr_of ID: the container's address on eth0 (no prefix length).
addr_of() {
	ctr exec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1
}

# two_ping NET: two containers on NET get addresses of its subnet and ping each other.
two_ping() {
	run_detached --net "$1"
	run_logged ctr run -d --bundle "$BUNDLE" --net "$1" "$(cid b)"
	assert_success
	a=$(addr_of "$(cid)")
	b=$(addr_of "$(cid b)")
	[[ $a == 10.231.* && $b == 10.231.* && $a != "$b" ]] || fail "addresses: $a $b"
	run ctr exec "$(cid)" ping -c 1 -W 2 "$b"
	assert_success
	run ctr exec "$(cid b)" ping -c 1 -W 2 "$a"
	assert_success
}

@test "macvlan (bridge mode): two containers on one parent reach each other, no host end, MTU" {
	requires_link_kind MACVLAN macvlan mode bridge
	parent "$P"
	run ctr network create ctrtdm --driver macvlan --parent "$P" --subnet 10.231.101.0/24 \
		--gateway 10.231.101.254 --mtu 1400
	assert_success
	run ctr network inspect ctrtdm
	[ "$(jq -r '[.driver, .parent, .mode, .gateway, .nat, .dns, (.bridge // "-")] | join(" ")' <<<"$output")" = \
		"macvlan $P bridge 10.231.101.254 false false -" ] || fail "$output"
	two_ping ctrtdm
	[ "$a" = 10.231.101.1 ] || fail "first address: $a"
	run in_netns "$(cid)" ip -d link show eth0
	[[ $output == *"mtu 1400"* && $output == *"macvlan mode bridge"* ]] || fail "$output"
	run ctr exec "$(cid)" ip route
	[[ $output == *"default via 10.231.101.254"* ]] || fail "$output"
	run ctr network inspect ctrtdm
	[ "$(jq -r '.leases | length' <<<"$output")" = 2 ] || fail "$output"
	[ "$(jq -r '.leases[0].hostInterface // "none"' <<<"$output")" = none ] || fail "$output"
	run ctr network ls
	assert_output_contains ctrtdm macvlan "$P"
	ctr delete -f "$(cid)"
	ctr delete -f "$(cid b)"
	run ctr network inspect ctrtdm
	[ "$(jq -r '.leases | length' <<<"$output")" = 0 ] || fail "$output"
}

@test "macvlan: --publish is refused with one line, nothing is left" {
	requires_link_kind MACVLAN macvlan mode bridge
	parent "$P"
	ctr network create ctrtdm --driver macvlan --parent "$P" --subnet 10.231.102.0/24
	run_logged ctr run -d --bundle "$BUNDLE" --net ctrtdm --publish 8080:80 "$(cid)"
	assert_failure
	[[ $output == *"network \`ctrtdm\` is a macvlan network: it publishes no ports"* ]] || fail "$output"
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || fail "one line expected: $output"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left"
}

# the host's kernel has no such links: the guest's has
# bats test_tags=v2
@test "ipvlan (l2): two containers on one parent reach each other" {
	requires_link_kind IPVLAN ipvlan mode l2
	parent "$P"
	ctr network create ctrtdi --driver ipvlan --parent "$P" --subnet 10.231.103.0/24
	run ctr network inspect ctrtdi
	[ "$(jq -r '[.driver, .mode, (.gateway // "none")] | join(" ")' <<<"$output")" = "ipvlan l2 none" ] || fail "$output"
	two_ping ctrtdi
	run in_netns "$(cid)" ip -d link show eth0
	[[ $output == *"ipvlan"*"mode l2"* ]] || fail "$output"
}

# the host's kernel has no such links: the guest's has
# bats test_tags=v2
@test "vlan: the link PARENT.ID is made with the right id and goes with the last container" {
	requires_link_kind VLAN_8021Q vlan id 7
	requires_link_kind MACVLAN macvlan mode bridge
	parent "$P"
	ctr network create ctrtdv --driver macvlan --parent "$P" --vlan 42 --subnet 10.231.104.0/24
	run ctr network inspect ctrtdv
	[ "$(jq -r '[.vlan, .vlanLink] | join(" ")' <<<"$output")" = "42 $P.42" ] || fail "$output"
	! ip link show "$P.42" >/dev/null 2>&1 || fail "a VLAN link before the first container"
	two_ping ctrtdv
	run ip -d link show "$P.42"
	assert_success
	[[ $output == *"vlan protocol 802.1Q id 42"* ]] || fail "$output"
	ctr delete -f "$(cid)"
	ip link show "$P.42" >/dev/null || fail "the VLAN link went with the first of two containers"
	ctr delete -f "$(cid b)"
	run ip link show "$P.42"
	assert_failure
}

# the host's kernel has no such links: the guest's has
# bats test_tags=v2
@test "vlan on a bridge network: the VLAN link is a port of the bridge while containers run" {
	requires_link_kind VLAN_8021Q vlan id 7
	parent "$P"
	ctr network create ctrtdb --parent "$P" --vlan 43 --subnet 10.231.105.0/24 --no-dns
	run_detached --net ctrtdb
	run ip -d link show "$P.43"
	[[ $output == *"master ctrtdb"* && $output == *"id 43"* ]] || fail "$output"
	ctr delete -f "$(cid)"
	run ip link show "$P.43"
	assert_failure
}

@test "phys: a host interface moves into the container as eth0 and comes back with its name" {
	parent "$P"
	mac=$(cat "/sys/class/net/$P/address")
	run_detached --net "phys:$P"
	run ctr exec "$(cid)" cat /sys/class/net/eth0/address
	[ "$output" = "$mac" ] || fail "eth0 is not $P: $output"
	run ip link show "$P"
	assert_failure
	# a second container cannot take it meanwhile
	run_logged ctr run -d --bundle "$BUNDLE" --net "phys:$P" "$(cid b)"
	assert_failure
	[[ $output == *"net \`phys:$P\`: lent to container \`$(cid)\`"* ]] || fail "$output"
	# the container stops: its namespace is held until delete gives the interface back
	ctr kill "$(cid)" KILL
	wait_for_state "$(cid)" stopped
	ctr delete "$(cid)"
	[ "$(cat "/sys/class/net/$P/address")" = "$mac" ] || fail "$P did not come back"
}

@test "phys: after a kill -9 of the container's ctr, delete -f gives the interface back" {
	parent "$P"
	mac=$(cat "/sys/class/net/$P/address")
	bg ctr run --bundle "$BUNDLE" --net "phys:$P" "$(cid)" </dev/null
	wait_for_state "$(cid)" running
	wait_until eval "! ip link show $P >/dev/null 2>&1"
	kill -KILL "$(pgrep -f -- "^$CTR .*--net phys:$P $(cid)\$")"
	run ctr delete -f "$(cid)"
	assert_success
	[ "$(cat "/sys/class/net/$P/address")" = "$mac" ] || fail "$P did not come back"
}

@test "network create refuses bad driver options with one line naming the value, and writes nothing" {
	parent "$P"
	check() {
		run ctr network create ctrtdx "$@"
		[ "$status" -ne 0 ] || fail "accepted: $*"
		[ "$(printf '%s\n' "$output" | grep -c .)" -le 2 ] || fail "$output"
		[ ! -e "$CTR_NETWORK_ROOT/networks/ctrtdx.json" ] || fail "definition written for: $*"
	}
	check --driver vxlan --parent "$P"
	assert_output_contains 'network create ctrtdx: --driver vxlan: unknown driver'
	check --driver macvlan --parent ctrtd9x
	[ "$output" = "ctr: network create ctrtdx: --parent ctrtd9x: no such interface" ] || fail "$output"
	check --driver macvlan
	assert_output_contains "--driver macvlan needs --parent"
	check --driver macvlan --parent "$P" --mode l3
	assert_output_contains '--mode l3: not a mode of macvlan (bridge, private, vepa or passthru)'
	check --driver ipvlan --parent "$P" --mode vepa
	assert_output_contains '--mode vepa: not a mode of ipvlan (l2, l3 or l3s)'
	check --mode private
	assert_output_contains 'the bridge driver has no modes'
	check --driver macvlan --parent "$P" --bridge ctrtdbr
	assert_output_contains '--bridge is not an option of driver macvlan'
	check --driver ipvlan --parent "$P" --dns-upstream 192.0.2.1
	assert_output_contains '--dns-upstream is not an option of driver ipvlan'
	check --driver macvlan --parent "$P" --dhcp
	assert_output_contains '--dhcp is not an option of driver macvlan'
	check --driver macvlan --parent "$P" --vlan 4095
	assert_output_contains 'invalid --vlan "4095": from 1 to 4094'
	check --driver macvlan --parent "$P" --vlan 0
	check --vlan 5
	assert_output_contains '--vlan needs --parent'
	check --parent "$P"
	assert_output_contains '--parent on a bridge network needs --vlan'
	check --driver macvlan --parent lo
	assert_output_contains '--parent lo: loopback cannot be a parent'
	check --driver macvlan --parent "$P" --mtu 9000
	assert_output_contains "--mtu 9000: above the MTU"
	run ctr run -d --bundle "$BUNDLE" --net phys:ctrtd9x "$(cid)" </dev/null
	assert_failure
	assert_output_contains "net \`phys:ctrtd9x\`: no such interface on the host"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left"
}

@test "a definition without driver is a bridge" {
	mkdir -p "$CTR_NETWORK_ROOT/networks"
	printf '%s\n' '{"name":"ctrtdx","bridge":"ctrtdx","subnet":"10.231.106.0/24","gateway":"10.231.106.1","nat":false,"mtu":1500}' \
		>"$CTR_NETWORK_ROOT/networks/ctrtdx.json"
	chmod 0600 "$CTR_NETWORK_ROOT/networks/ctrtdx.json"
	run ctr network inspect ctrtdx
	assert_success
	[ "$(jq -r '[.driver, .bridge] | join(" ")' <<<"$output")" = "bridge ctrtdx" ] || fail "$output"
}

@test "phys: a system container (net key) borrows the interface while it runs" {
	export CTR_STORE=$BATS_TEST_TMPDIR/store
	export CTR_TEMPLATE_PATH=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}/templates
	export CTR_INIT=$(dirname "$CTR")/init/ctr-init
	parent "$P"
	mac=$(cat "/sys/class/net/$P/address")
	ctr create -t busybox "$(cid sys)" --net "phys:$P"
	run ctr config "$(cid sys)" get net
	[ "$output" = "phys:$P" ] || fail "$output"
	ctr start "$(cid sys)"
	run ctr attach "$(cid sys)" -- cat /sys/class/net/eth0/address
	# (attach may pass a stray byte of the console before the command's output)
	[[ $output == *"$mac" ]] || fail "eth0 is not $P: $output"
	ctr stop "$(cid sys)"
	[ "$(cat "/sys/class/net/$P/address")" = "$mac" ] || fail "$P did not come back"
	ctr destroy -f "$(cid sys)"
}
