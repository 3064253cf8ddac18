#!/usr/bin/env bats
# system.bats (fault): kill -9 of ctr at each step of the system-container verbs (create -t,
# start, stop, destroy), of `run --net` and of network create/rm, then the normal cleanup
# verb (destroy -f, delete -f, network rm): nothing may remain (store entries and staging
# dirs, state, cgroups, mounts, processes, leases, veths, bridges, nft rules).
# shellcheck disable=SC2154

load fault-helpers

setup() {
	system_setup || return 1
	NAME=f-${BATS_SUITE_TEST_NUMBER}-$$
	NET=ctrtf$$
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	ctr destroy -f "$NAME" >/dev/null 2>&1 || true
	ctr network rm "$NET" >/dev/null 2>&1 || true
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# Nothing of the system container: no store entry or staging dir, no lease, no process or
# cgroup named after it, no state.
system_gone() {
	check_no_leaks || return 1
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "store left: $(ls -A "$CTR_STORE")" || return 1
	[ -z "$(find /sys/fs/cgroup -mindepth 1 -type d -name "$NAME" 2>/dev/null)" ] ||
		fail "cgroups left: $(find /sys/fs/cgroup -type d -name "$NAME")" || return 1
	[ -z "$(pgrep -f -- "$NAME( |$)")" ] || fail "processes left: $(pgrep -af -- "$NAME( |$)")" || return 1
	! grep -rqs -- "$NAME" "$CTR_NETWORK_ROOT/run" || fail "leases left" || return 1
}

# Nothing of the network: definition, leases, bridge, nft rules.
network_gone() {
	[ -z "$(ls -A "$CTR_NETWORK_ROOT/networks" 2>/dev/null)" ] ||
		fail "definitions left: $(ls -A "$CTR_NETWORK_ROOT/networks")" || return 1
	! ip link show "br-$NET" >/dev/null 2>&1 || fail "bridge br-$NET left" || return 1
	! ip link show "$NET" >/dev/null 2>&1 || fail "bridge $NET left" || return 1
	! nft list table inet ctr 2>/dev/null | grep -q "ctr-net:$NET\"" || fail "nft rules left" || return 1
	no_dns_of_net
}

# Nothing of the network's DNS server: process, pid file, hosts directory, cgroup.
dnsmasq_of_net_gone() { [ -z "$(pgrep -f -- "--pid-file=$CTR_NETWORK_ROOT/run/$NET.dnsmasq.pid")" ]; }
no_dns_of_net() {
	wait_until dnsmasq_of_net_gone 2>/dev/null ||
		fail "dnsmasq of $NET left: $(pgrep -af -- "$NET.dnsmasq.pid")" || return 1
	[ ! -e "$CTR_NETWORK_ROOT/run/$NET.dnsmasq.pid" ] || fail "dnsmasq pid file left" || return 1
	[ ! -e "/run/ctr-dns/$NET" ] || fail "DNS directory /run/ctr-dns/$NET left" || return 1
	[ -z "$(find /sys/fs/cgroup -type d -path "*/ctr.dns/$NET" 2>/dev/null)" ] ||
		fail "DNS cgroups left: $(find /sys/fs/cgroup -type d -path "*/ctr.dns/$NET")" || return 1
}

# destroy -f, where "does not exist" is fine: what remains is for system_gone to find
destroy_force() {
	local out
	out=$(ctr destroy -f "$NAME" 2>&1) && return 0
	echo "$out" >>"$BATS_TEST_TMPDIR/trial.log"
	[[ $out == *"does not exist"* ]]
}
made() { ctr create -t busybox "$NAME" --net none >/dev/null 2>&1; }
started() { made && ctr start "$NAME" >/dev/null 2>&1; }
net_rm() { ctr network rm "$NET" >>"$BATS_TEST_TMPDIR/trial.log" 2>&1 || ! ctr network ls -q 2>/dev/null | grep -qx "$NET"; }
net_made() { ctr network create "$NET" --subnet 10.213.7.0/24 --bridge "$NET" >/dev/null 2>&1; }
net_delete() { delete_force && net_rm; }
all_gone() { check_no_leaks && network_gone_but_defined; }
dns_gone() { all_gone && no_dns_of_net; }
# the network stays defined for the next trial: only this container's lease and veth go.
# The lease goes at once; the host end of the veth is deleted by a detached helper after
# delete returns (src/network/attach.c: delete_links_async), so it is waited for.
no_veth_on_net() { [ -z "$(ip -o link show master "$NET" 2>/dev/null)" ]; }
network_gone_but_defined() {
	! grep -rqs -- "$(cid)" "$CTR_NETWORK_ROOT/run" || fail "leases of $(cid) left" || return 1
	wait_until no_veth_on_net 2>/dev/null ||
		fail "veths left on $NET: $(ip -o link show master "$NET")" || return 1
}

@test "fault: kill -9 at each step of create -t, then destroy -f: nothing left" {
	FAULT_CHECK=system_gone fault_verb "create -t" nothing destroy_force create -t busybox "$NAME" --net none
}

@test "fault: kill -9 at each step of a system container's start and stop, then destroy -f: nothing left" {
	FAULT_CHECK=system_gone fault_verb "system start" made destroy_force start "$NAME"
	FAULT_CHECK=system_gone fault_verb "system stop" started destroy_force stop "$NAME"
}

@test "fault: kill -9 at each step of destroy, then destroy -f: nothing left" {
	FAULT_CHECK=system_gone fault_verb destroy started destroy_force destroy -f "$NAME"
}

@test "fault: kill -9 at each step of network create and rm, then network rm: nothing left" {
	FAULT_CHECK=network_gone fault_verb "network create" nothing net_rm network create "$NET" --subnet 10.213.7.0/24 --bridge "$NET"
	FAULT_CHECK=network_gone fault_verb "network rm" net_made net_rm network rm "$NET"
}

@test "fault: kill -9 at each step of run -d --net, then delete -f: no lease, veth or cgroup left" {
	make_bundle
	net_made
	FAULT_CHECK=all_gone fault_verb "run -d --net" nothing delete_force run -d --net "$NET" --bundle "$BUNDLE" "$(cid)"
}

@test "fault: kill -9 at each step of run -d --net that starts the network's DNS server, then delete -f: no dnsmasq left" {
	make_bundle
	# the steps from the record (the pid file, made before the server starts) to the
	# lease's write (the test above covers the rest); the network is made anew for each
	# trial, so that each runs the steps of the traced run
	net_anew() { net_rm && net_made; }
	FAULT_FROM='dnsmasq\.pid' FAULT_TO='\.leases\.tmp' FAULT_CHECK=dns_gone \
		fault_verb "run -d --net (DNS start)" net_anew delete_force run -d --net "$NET" --bundle "$BUNDLE" "$(cid)"
}
