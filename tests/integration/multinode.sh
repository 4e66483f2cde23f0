# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# multinode.sh - one slurmckptd per slurmd of the private cluster, for the
# multi-node tests (15xx).  Sourced after cluster.sh and cluster_start N.
#
# mn_helpers_start: stops cluster.sh's helper and starts one per node c1..cN:
# the plugstack line's socket becomes ckptd.%n.sock, each helper has its own
# TCP port (PORT[cK]), state_dir and log (slurmckptd.cK.out, printed when a test
# fails), and peer_ports= names every node's port (all on 127.0.0.1).
# MN_HELPER_CONF: more lines for every helper's configuration.
# mn_helper_start cK, mn_helper_kill cK: one of them (SIGKILL: a crash).
# mn_log cK: the path of cK's log.  mn_sock cK: the path of cK's socket.
# mn_node_kill cK: slurmd of cK, its helper, and every process of the job
# steps on cK (their environment says SLURMD_NODENAME=cK), with SIGKILL.

declare -gA PORT MNPID

mn_log() { echo "$CLUSTER_DIR/slurmckptd.$1.out"; }
mn_sock() { echo "$CLUSTER_DIR/ckptd.$1.sock"; }

mn_helper_start() {
	local n=$1
	rm -f "$(mn_sock "$n")"
	CKPT_CLUSTER_DIR=$CLUSTER_DIR setsid "$CLUSTER_DIR/bin/slurmckptd" \
		-f "$CLUSTER_DIR/slurmckptd.$n.conf" -s "$(mn_sock "$n")" -v \
		</dev/null >>"$(mn_log "$n")" 2>&1 &
	MNPID[$n]=$!
	wait_for 10 test -S "$(mn_sock "$n")" || {
		echo "# helper of $n did not start: $(tail -n 5 "$(mn_log "$n")")" >&2
		return 1
	}
}

mn_helpers_start() {
	local i n map=
	helper_stop
	sed -i "s|socket=$CLUSTER_DIR/ckptd.sock|socket=$CLUSTER_DIR/ckptd.%n.sock|" \
		"$CLUSTER_DIR/plugstack.conf"
	for i in $(seq 1 "$CLUSTER_NODES"); do
		PORT[c$i]=$(free_port) || return 1
		map="$map${map:+,}c$i:${PORT[c$i]}"
	done
	for i in $(seq 1 "$CLUSTER_NODES"); do
		n=c$i
		printf 'poll_interval=2\nport=%s\nmunge_socket=%s\nstate_dir=%s\npeer_ports=%s\n' \
			"${PORT[$n]}" "$CLUSTER_DIR/munge/munged.sock" \
			"$CLUSTER_DIR/ckptd-state.$n" "$map" >"$CLUSTER_DIR/slurmckptd.$n.conf"
		[ -z "${MN_HELPER_CONF:-}" ] ||
			printf '%s\n' "$MN_HELPER_CONF" >>"$CLUSTER_DIR/slurmckptd.$n.conf"
		mn_helper_start "$n" || return 1
	done
}

mn_helper_kill() {
	[ -n "${MNPID[$1]:-}" ] || return 0
	kill -KILL "${MNPID[$1]}" 2>/dev/null
	wait "${MNPID[$1]}" 2>/dev/null
	MNPID[$1]=
}

mn_helpers_stop() {
	local n pids=()
	for n in "${!MNPID[@]}"; do pids+=("${MNPID[$n]}"); done
	_kill_pids "${pids[@]}"
}

mn_node_kill() {
	local n=$1 f pid ppid
	mn_helper_kill "$n"
	kill -KILL "$(_pid_from_file "$CLUSTER_DIR/slurmd.$n.pid")" 2>/dev/null
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		grep -qzxF "SLURMD_NODENAME=$n" "$f" 2>/dev/null || continue
		grep -qzxF "CKPT_CLUSTER_DIR=$CLUSTER_DIR" "$f" 2>/dev/null || continue
		ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)
		case $(tr '\0' ' ' <"/proc/$ppid/cmdline" 2>/dev/null) in
		slurmstepd*) kill -KILL "$ppid" 2>/dev/null ;;
		esac
		kill -KILL "$pid" 2>/dev/null
	done
}

# mn_parts <image>: the files of its manifest, sorted, on one line.
mn_parts() {
	manifest_get "$1" '.files[].path' | sort | tr '\n' ' '
}
