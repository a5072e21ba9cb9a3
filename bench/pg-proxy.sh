#!/usr/bin/env bash
# pgbench through Understudy and through pgbouncer (session and transaction pooling), against the
# same throwaway PostgreSQL 15 directly, in one run: every workload line runs on every target
# back to back (round-robin, the order rotating each round), for several rounds; the table shows
# the median TPS per target and its ratio to direct. Only 127.0.0.1 is used.
#
#   bench/pg-proxy.sh                      # ROUNDS=3 DURATION=10 (seconds per run)
#   ROUNDS=5 DURATION=20 bench/pg-proxy.sh # the settings of shared/BASELINES.md
#
# Environment: ROUNDS (>= 2, default 3), DURATION (s, default 10), SCALE (default 10),
# WARMUP (s per target before round 1, default 5), TPCB (1: add a TPC-B line at -c 8; default 1),
# BENCH_KEEP (set: keep the work dir with every pgbench log).
# Nothing else heavy should run meanwhile; the load average before and after is printed.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SCALE=${SCALE:-10}
WARMUP=${WARMUP:-5}
TPCB=${TPCB:-1}
[ "$ROUNDS" -ge 2 ] || bench_die "ROUNDS must be at least 2"
[ "$DURATION" -ge 1 ] || bench_die "DURATION must be at least 1"

TARGETS=(direct understudy pgbouncer-session pgbouncer-transaction)
# workload lines: script mode clients (script S = pgbench -S, B = TPC-B)
WORKLOADS=()
for c in 8 32; do
  for m in simple extended prepared; do
    WORKLOADS+=("S $m $c")
  done
done
[ "$TPCB" = 1 ] && WORKLOADS+=("B simple 8")
MAX_CLIENTS=32

runs=$((ROUNDS * ${#WORKLOADS[@]} * ${#TARGETS[@]}))
expected=$((runs * (DURATION + 1) + ${#TARGETS[@]} * WARMUP + 60))
bench_log "pg-proxy: $ROUNDS rounds x ${#WORKLOADS[@]} workloads x ${#TARGETS[@]} targets x ${DURATION}s;" \
  "expect about $((expected / 60)) min $((expected % 60)) s"

bench_init
bench_install
LOAD_BEFORE=$(bench_load)
bench_start_pg $((4 * MAX_CLIENTS + 40))
bench_log "pgbench -i -s $SCALE"
bench_pgbench_direct -i -q -s "$SCALE" >"$BENCH_WORK/pgbench-init.log" 2>&1 \
  || { cat "$BENCH_WORK/pgbench-init.log" >&2; bench_die "pgbench -i failed"; }
bench_start_pgbouncer session "$MAX_CLIENTS" 200 PGB_SESSION_PORT
bench_start_pgbouncer transaction "$MAX_CLIENTS" 200 PGB_TRANSACTION_PORT
bench_start_understudy UNDERSTUDY_PORT
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$BENCH_WORK/runs"

# Pid of the proxy process behind a target (empty for direct).
target_pid() {
  case $1 in
    direct) ;;
    understudy) echo "$BENCH_UNDERSTUDY_PID" ;;
    pgbouncer-session) bench_pgbouncer_pid session ;;
    pgbouncer-transaction) bench_pgbouncer_pid transaction ;;
  esac
}

# Runs pgbench once: target $1, script $2, mode $3, clients $4, seconds $5, log file $6.
run_pgbench() {
  local target=$1 script=$2 mode=$3 clients=$4 seconds=$5 log=$6 args
  args=(-n -M "$mode" -c "$clients" -j 2 -T "$seconds")
  [ "$script" = S ] && args+=(-S)
  case $target in
    direct) bench_pgbench_direct "${args[@]}" ;;
    understudy) bench_pgbench_proxy "$UNDERSTUDY_PORT" "${args[@]}" ;;
    pgbouncer-session) bench_pgbench_proxy "$PGB_SESSION_PORT" "${args[@]}" ;;
    pgbouncer-transaction) bench_pgbench_proxy "$PGB_TRANSACTION_PORT" "${args[@]}" ;;
  esac >"$log" 2>&1
}

declare -A TPS=() LAT=() CPU=() BUSY=() FAILS=() NOTE=()

bench_log "warm-up: ${WARMUP}s per target"
for t in "${TARGETS[@]}"; do
  run_pgbench "$t" S extended 8 "$WARMUP" "$BENCH_WORK/runs/warmup-$t.log" || true
done

for ((r = 1; r <= ROUNDS; r++)); do
  bench_log "round $r/$ROUNDS (load $(bench_load))"
  for w in "${WORKLOADS[@]}"; do
    read -r script mode clients <<<"$w"
    for ((i = 0; i < ${#TARGETS[@]}; i++)); do
      t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      key="$w|$t"
      log="$BENCH_WORK/runs/r$r-$script-$mode-c$clients-$t.log"
      pid=$(target_pid "$t")
      cpu0=$(cpu_ticks "$pid")
      read -r busy0 total0 < <(machine_ticks)
      status=0
      run_pgbench "$t" "$script" "$mode" "$clients" "$DURATION" "$log" || status=$?
      read -r busy1 total1 < <(machine_ticks)
      cpu1=$(cpu_ticks "$pid")
      tps=$(awk '/^tps = / {printf "%.0f", $3}' "$log")
      failed=$(awk '/^number of failed transactions:/ {print $5}' "$log")
      if [ "$status" -ne 0 ] || [ -z "$tps" ] || [ "${failed:-0}" != 0 ] || grep -q 'aborted' "$log"; then
        FAILS[$key]=$((${FAILS[$key]:-0} + 1))
        [ -n "${NOTE[$key]:-}" ] || NOTE[$key]="$(grep -m1 -iE 'error|abort|fatal' "$log" || echo "exit $status")"
        bench_log "  $w $t: fails (exit $status)"
        continue
      fi
      lat=$(awk '/^latency average = / {print $4}' "$log")
      cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" -v s="$DURATION" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / s}')
      busy=$(awk -v b0="$busy0" -v b1="$busy1" -v t0="$total0" -v t1="$total1" 'BEGIN {printf "%.0f", 100 * (b1 - b0) / (t1 - t0)}')
      TPS[$key]="${TPS[$key]:-} $tps"
      LAT[$key]="${LAT[$key]:-} $lat"
      CPU[$key]="${CPU[$key]:-} $cpu"
      BUSY[$key]="${BUSY[$key]:-} $busy"
      bench_log "  $w $t: $tps tps, proxy cpu ${cpu}%, machine busy ${busy}%"
    done
    if [ "$script" = B ]; then
      # TPC-B leaves dead rows and dirty pages; clean up now so the next run does not pay for it.
      bench_psql_admin -d "$BENCH_DB" -c "VACUUM" -c "CHECKPOINT"
    fi
  done
done
LOAD_AFTER=$(bench_load)

label() { # workload line as shown in the table
  local script mode clients
  read -r script mode clients <<<"$1"
  if [ "$script" = S ]; then echo "-S $mode c$clients"; else echo "TPC-B $mode c$clients"; fi
}

echo
echo "## pgbench through proxies, median of $ROUNDS rounds x ${DURATION}s, scale $SCALE, -j 2"
echo
echo "machine: $(nproc) cores; load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "$("$BENCH_PG_BIN/postgres" --version); $("$BENCH_PGBOUNCER" --version | head -1); Understudy $(cd "$BENCH_REPO" && git describe --always --dirty) on $("$BENCH_JDK/bin/java" -version 2>&1 | head -1)"
echo
echo "TPS (ratio to direct). cpu = the proxy process's CPU, % of one core; busy = whole machine."
echo
header="| workload | direct |"
rule="|---|---|"
for t in "${TARGETS[@]:1}"; do header+=" $t |"; rule+="---|"; done
echo "$header"
echo "$rule"
for w in "${WORKLOADS[@]}"; do
  d=$(median "${TPS[$w|direct]:-}")
  if [ -n "$d" ]; then line="| $(label "$w") | $(printf '%.0f' "$d") |"; else line="| $(label "$w") | fails |"; fi
  for t in "${TARGETS[@]:1}"; do
    key="$w|$t"
    line+=" $(bench_tps_cell "$key" "$d") |"
  done
  echo "$line"
done
echo
bench_latency_table "${TARGETS[*]:1}"
echo
echo "Per-round TPS:"
for w in "${WORKLOADS[@]}"; do
  for t in "${TARGETS[@]}"; do
    printf '  %-22s %-22s %s\n' "$(label "$w")" "$t" "${TPS[$w|$t]:-} ${FAILS[$w|$t]:+(failed ${FAILS[$w|$t]})}"
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
problems=$(grep -cE ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" || true)
echo "Understudy log: $problems WARN/ERROR lines"
grep -E ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" | head -5 || true
