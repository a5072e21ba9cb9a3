#!/usr/bin/env bash
# pgbench -S through Understudy in front of a master and two hot standbys (replicas), against the
# master directly and, for reference, one standby directly, in one run: every workload line runs
# on every target back to back (round-robin, the order rotating each round), for several rounds;
# the table shows the median TPS per target and its ratio to direct-to-master. Only 127.0.0.1 is
# used.
#
# Where Understudy's statements ran is measured on the database side, not taken from the proxy:
# before and after each run the script reads pg_stat_database.xact_commit + xact_rollback of the
# bench database on every node, waits until the nodes account for every transaction pgbench
# reports, and prints the split (master / r1 / r2). pgbench -S is one SELECT per transaction, so
# transactions are statements. A build that sends everything to the master shows master 100%.
#
#   bench/pg-routing.sh                          # ROUNDS=3 DURATION=10 (seconds per run)
#   ROUNDS=2 DURATION=3 bench/pg-routing.sh      # a quick check that it all works
#
# Environment: ROUNDS (>= 2, default 3), DURATION (s, default 10), SCALE (default 10),
# WARMUP (s per server before round 1, default 5), BENCH_KEEP (set: keep the work dir with every
# pgbench log and the servers' logs).
# Nothing else heavy should run meanwhile; the load average before and after is printed.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SCALE=${SCALE:-10}
WARMUP=${WARMUP:-5}
[ "$ROUNDS" -ge 2 ] || bench_die "ROUNDS must be at least 2"
[ "$DURATION" -ge 1 ] || bench_die "DURATION must be at least 1"
ACCOUNT_WAIT=15 # s to wait for the nodes' statistics to count a run (idle backends flush within 10 s)

NODES=(master r1 r2)                        # r1, r2: the standbys, also their node names in Understudy
TARGETS=(direct-master understudy direct-r1)
WORKLOADS=()                                # mode clients
for c in 8 32; do
  for m in simple extended prepared; do
    WORKLOADS+=("$m $c")
  done
done
MAX_CLIENTS=32

runs=$((ROUNDS * ${#WORKLOADS[@]} * ${#TARGETS[@]}))
expected=$((runs * (DURATION + 1) + (${#TARGETS[@]} + 1) * WARMUP + 60))
bench_log "pg-routing: $ROUNDS rounds x ${#WORKLOADS[@]} workloads x ${#TARGETS[@]} targets x ${DURATION}s;" \
  "expect about $((expected / 60)) min $((expected % 60)) s"

bench_init
bench_install
LOAD_BEFORE=$(bench_load)
# The standbys copy the master's settings; Understudy may hold a master and a replica connection per
# client once it splits reads, next to the direct runs' clients.
bench_start_pg $((4 * MAX_CLIENTS + 40))
declare -A NODE_PORT=([master]=$BENCH_PG_PORT)
bench_start_standby r1 R1_PORT
bench_start_standby r2 R2_PORT
NODE_PORT[r1]=$R1_PORT
NODE_PORT[r2]=$R2_PORT
bench_log "pgbench -i -s $SCALE on the master"
bench_pgbench_direct -i -q -s "$SCALE" >"$BENCH_WORK/pgbench-init.log" 2>&1 \
  || { cat "$BENCH_WORK/pgbench-init.log" >&2; bench_die "pgbench -i failed"; }
bench_wait_standbys 300
REPLICATION=$(bench_psql_admin -At -F ' ' -c "SELECT application_name, state, sync_state FROM pg_stat_replication
  ORDER BY application_name" | paste -sd ';' | sed 's/;/; /g')
bench_start_understudy UNDERSTUDY_PORT
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$BENCH_WORK/runs"

# Transactions (committed + rolled back) of the bench database so far, one number per node in the
# order of NODES, from each node's pg_stat_database.
node_xacts() {
  local n out=()
  for n in "${NODES[@]}"; do
    out+=("$(bench_psql_port "${NODE_PORT[$n]}" -At -c \
      "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$BENCH_DB'")")
  done
  echo "${out[*]}"
}

# Runs pgbench -S once: target $1, mode $2, clients $3, seconds $4, log file $5. A target
# direct-NODE connects to that node as the database role, understudy to the proxy as the client role.
run_pgbench() {
  local target=$1 mode=$2 clients=$3 seconds=$4 log=$5 args
  args=(-n -S -M "$mode" -c "$clients" -j 2 -T "$seconds")
  case $target in
    understudy) bench_pgbench_proxy "$UNDERSTUDY_PORT" "${args[@]}" ;;
    direct-*) bench_pgbench_port "${NODE_PORT[${target#direct-}]}" "${args[@]}" ;;
  esac >"$log" 2>&1
}

# "master 2% / r1 49% / r2 49%" from per-node counts $1 (space separated, order of NODES).
distribution() {
  awk -v counts="$1" -v names="${NODES[*]}" 'BEGIN {
    n = split(counts, c, " "); split(names, m, " ")
    for (i = 1; i <= n; i++) total += c[i]
    for (i = 1; i <= n; i++) printf "%s%s %.0f%%", (i > 1 ? " / " : ""), m[i], (total ? 100 * c[i] / total : 0)
  }'
}

declare -A TPS=() LAT=() CPU=() BUSY=() FAILS=() NOTE=() SPLIT=() COUNTS=() ROUND_SPLIT=() ACCOUNTED=()

bench_log "warm-up: ${WARMUP}s per target, and r2 directly"
for t in "${TARGETS[@]}" direct-r2; do
  run_pgbench "$t" extended 8 "$WARMUP" "$BENCH_WORK/runs/warmup-$t.log" || true
done

for ((r = 1; r <= ROUNDS; r++)); do
  bench_log "round $r/$ROUNDS (load $(bench_load))"
  for w in "${WORKLOADS[@]}"; do
    read -r mode clients <<<"$w"
    for ((i = 0; i < ${#TARGETS[@]}; i++)); do
      t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      key="$w|$t"
      log="$BENCH_WORK/runs/r$r-$mode-c$clients-$t.log"
      pid=""
      [ "$t" = understudy ] && pid=$BENCH_UNDERSTUDY_PID
      read -r -a xacts0 <<<"$(node_xacts)"
      cpu0=$(cpu_ticks "$pid")
      read -r busy0 total0 < <(machine_ticks)
      status=0
      run_pgbench "$t" "$mode" "$clients" "$DURATION" "$log" || status=$?
      read -r busy1 total1 < <(machine_ticks)
      cpu1=$(cpu_ticks "$pid")
      tps=$(awk '/^tps = / {printf "%.0f", $3}' "$log")
      processed=$(awk '/^number of transactions actually processed:/ {print $6}' "$log")
      # Wait until the nodes' statistics (flushed by each backend at exit, or within 10 s while
      # idle) count at least the transactions pgbench reports.
      waited=0
      while :; do
        read -r -a xacts1 <<<"$(node_xacts)"
        deltas=""
        sum=0
        for ((n = 0; n < ${#NODES[@]}; n++)); do
          d=$((xacts1[n] - xacts0[n]))
          deltas+="${deltas:+ }$d"
          sum=$((sum + d))
        done
        [ "$sum" -ge "${processed:-0}" ] && break
        [ $waited -lt $((ACCOUNT_WAIT * 5)) ] || break
        sleep 0.2
        waited=$((waited + 1))
      done
      split=$(distribution "$deltas")
      accounted=$(awk -v s="$sum" -v p="${processed:-0}" 'BEGIN {if (p > 0) printf "%d", 100 * s / p; else print "?"}')
      failed=$(awk '/^number of failed transactions:/ {print $5}' "$log")
      if [ "$status" -ne 0 ] || [ -z "$tps" ] || [ "${failed:-0}" != 0 ] || grep -q 'aborted' "$log"; then
        FAILS[$key]=$((${FAILS[$key]:-0} + 1))
        [ -n "${NOTE[$key]:-}" ] || NOTE[$key]="$(grep -m1 -iE 'error|abort|fatal' "$log" || echo "exit $status")"
        ROUND_SPLIT[$key]="${ROUND_SPLIT[$key]:-}    round $r: fails; by node: $split ($deltas)"$'\n'
        bench_log "  $w $t: fails (exit $status); by node: $split"
        continue
      fi
      lat=$(awk '/^latency average = / {print $4}' "$log")
      cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" -v s="$DURATION" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / s}')
      busy=$(awk -v b0="$busy0" -v b1="$busy1" -v t0="$total0" -v t1="$total1" 'BEGIN {printf "%.0f", 100 * (b1 - b0) / (t1 - t0)}')
      TPS[$key]="${TPS[$key]:-} $tps"
      LAT[$key]="${LAT[$key]:-} $lat"
      CPU[$key]="${CPU[$key]:-} $cpu"
      BUSY[$key]="${BUSY[$key]:-} $busy"
      # per-node totals over the rounds
      read -r -a prev <<<"${COUNTS[$key]:-0 0 0}"
      read -r -a cur <<<"$deltas"
      COUNTS[$key]="$((prev[0] + cur[0])) $((prev[1] + cur[1])) $((prev[2] + cur[2]))"
      ACCOUNTED[$key]="${ACCOUNTED[$key]:-} $accounted"
      ROUND_SPLIT[$key]="${ROUND_SPLIT[$key]:-}    round $r: $tps tps; by node: $split (transactions $deltas; pgbench $processed, counted $accounted%)"$'\n'
      if [ "$t" = understudy ]; then
        bench_log "  $w $t: $tps tps, proxy cpu ${cpu}%, machine busy ${busy}%; by node: $split"
      else
        bench_log "  $w $t: $tps tps, machine busy ${busy}%; by node: $split"
      fi
    done
  done
done
LOAD_AFTER=$(bench_load)
for w in "${WORKLOADS[@]}"; do
  SPLIT[$w]=$( [ -n "${COUNTS[$w|understudy]:-}" ] && distribution "${COUNTS[$w|understudy]}" || echo "fails")
done

label() { # workload line as shown in the table
  local mode clients
  read -r mode clients <<<"$1"
  echo "-S $mode c$clients"
}

echo
echo "## pgbench -S: Understudy over a master and 2 streaming replicas, median of $ROUNDS rounds x ${DURATION}s, scale $SCALE, -j 2"
echo
echo "machine: $(nproc) cores; load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "$("$BENCH_PG_BIN/postgres" --version); Understudy $(cd "$BENCH_REPO" && git describe --always --dirty) on $("$BENCH_JDK/bin/java" -version 2>&1 | head -1)"
echo "nodes: master (pg1 in Understudy's config) port ${NODE_PORT[master]}; standbys r1 port ${NODE_PORT[r1]}, r2 port ${NODE_PORT[r2]} (pg_basebackup -R); replication: $REPLICATION"
echo
echo "TPS (ratio to direct-master). by node = where Understudy's transactions ran, from each node's"
echo "pg_stat_database (xact_commit + xact_rollback deltas, all rounds)."
echo
echo "| workload | direct-master | understudy | direct-r1 | understudy by node |"
echo "|---|---|---|---|---|"
for w in "${WORKLOADS[@]}"; do
  d=$(median "${TPS[$w|direct-master]:-}")
  if [ -n "$d" ] && [ "${FAILS[$w|direct-master]:-0}" -eq 0 ]; then
    line="| $(label "$w") | $(printf '%.0f' "$d") |"
  else
    line="| $(label "$w") | fails (${FAILS[$w|direct-master]:-0}/$ROUNDS rounds) |"
    d=""
  fi
  for t in "${TARGETS[@]:1}"; do
    key="$w|$t"
    line+=" $(bench_tps_cell "$key" "$d") |"
  done
  line+=" ${SPLIT[$w]} |"
  echo "$line"
done
echo
bench_latency_table understudy
echo
echo "Per round: TPS and where the transactions ran (master r1 r2, from pg_stat_database; counted ="
echo "their sum as a share of the transactions pgbench reports):"
for w in "${WORKLOADS[@]}"; do
  for t in "${TARGETS[@]}"; do
    printf '  %-18s %s\n' "$(label "$w")" "$t"
    printf '%s' "${ROUND_SPLIT[$w|$t]:-}"
  done
done
if [ ${#NOTE[@]} -gt 0 ]; then
  echo
  echo "Failures (first error line of each):"
  for key in "${!NOTE[@]}"; do
    echo "  $(label "${key%%|*}") ${key#*|}: ${NOTE[$key]}"
  done
fi
echo
# The verdict on spreading, from the database side only.
read -r -a total <<<"0 0 0"
for w in "${WORKLOADS[@]}"; do
  read -r -a cur <<<"${COUNTS[$w|understudy]:-0 0 0}"
  total=("$((total[0] + cur[0]))" "$((total[1] + cur[1]))" "$((total[2] + cur[2]))")
done
all=$((total[0] + total[1] + total[2]))
if [ "$all" -eq 0 ]; then
  echo "Reads through Understudy: no transactions counted on any node."
elif [ "${total[1]}" -eq 0 ] && [ "${total[2]}" -eq 0 ]; then
  echo "Reads through Understudy: all ${total[0]} transactions ran on the master; none on r1 or r2."
  echo "This build does not spread reads over the replicas; the understudy column measures the master alone."
else
  echo "Reads through Understudy, all workloads: $(distribution "${total[*]}") of $all transactions."
fi
problems=$(grep -cE ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" || true)
echo "Understudy log: $problems WARN/ERROR lines"
grep -E ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" | head -5 || true
