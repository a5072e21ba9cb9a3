#!/usr/bin/env bash
# Memory cost of idle client sessions: SESSIONS (default 1000) authenticated clients, each having
# run one SELECT 1, sit idle through Understudy, then through pgbouncer in session and in
# transaction pooling, in one run. For each proxy: RSS (VmRSS) before and while the sessions are
# idle, and the per-session difference; for Understudy also the Java heap in use after a full GC
# (jcmd GC.run, GC.heap_info) and the thread counts. Only 127.0.0.1 is used.
#
#   bench/idle-sessions.sh
#   SESSIONS=1000 SETTLE=5 bench/idle-sessions.sh
#
# Environment: SESSIONS (default 1000), SETTLE (s to wait once all are idle, default 5),
# JAVA_OPTS (extra JVM options for Understudy, e.g. -Xmx512m), BENCH_KEEP (keep the work dir).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SESSIONS=${SESSIONS:-1000}
SETTLE=${SETTLE:-5}
CONNECT_LIMIT=$((60 + SESSIONS / 10)) # seconds allowed to open all sessions
read -r -a JVM_OPTS <<<"${JAVA_OPTS:-}"

bench_log "idle-sessions: $SESSIONS sessions through Understudy, pgbouncer session, pgbouncer transaction;" \
  "expect about $((3 * (SETTLE + 30) + 60)) s, at most $((3 * (CONNECT_LIMIT + SETTLE + 40) + 60)) s"

bench_init
bench_install
bench_jdk
LOAD_BEFORE=$(bench_load)
bench_start_pg $((SESSIONS + 100))
bench_start_understudy UNDERSTUDY_PORT "${JVM_OPTS[@]}"
bench_start_pgbouncer session "$SESSIONS" $((SESSIONS + 100)) PGB_SESSION_PORT
bench_start_pgbouncer transaction 20 $((SESSIONS + 100)) PGB_TRANSACTION_PORT

# Each client runs SELECT 1 (so session pooling binds a server connection), then sleeps.
printf 'SELECT 1;\n\\sleep 600 s\n' >"$BENCH_WORK/idle.sql"
printf 'SELECT 1;\n' >"$BENCH_WORK/warm.sql"

# Clients connected to port $1 (established TCP connections whose local port is $1).
established() { ss -Htn state established "( sport = :$1 )" | wc -l; }

# Server connections process $1 holds to PostgreSQL's database $BENCH_DB for its clients, and how
# many of those are idle there (Understudy's health checks log in to database postgres: not counted).
backends() {
  local ports
  ports=$(ss -Htnp state established "( dport = :$BENCH_PG_PORT )" | awk -v p="pid=$1," 'index($0, p) {
    n = split($3, a, ":"); printf "%s%s", (c++ ? "," : ""), a[n] }')
  if [ -z "$ports" ]; then echo "0 0"; return; fi
  bench_psql_admin -At -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'idle')
    FROM pg_stat_activity WHERE client_port IN ($ports) AND datname = '$BENCH_DB'"
}

# Full GC, then the Java heap in use, in KiB.
jvm_heap_used_kb() {
  "$BENCH_JDK/bin/jcmd" "$BENCH_UNDERSTUDY_PID" GC.run >/dev/null
  "$BENCH_JDK/bin/jcmd" "$BENCH_UNDERSTUDY_PID" GC.heap_info \
    | awk '/ heap +total/ {for (i = 1; i <= NF; i++) if ($i == "used") {sub(/K,?$/, "", $(i + 1)); print $(i + 1); exit}}'
}

jvm_heap_committed_kb() {
  "$BENCH_JDK/bin/jcmd" "$BENCH_UNDERSTUDY_PID" GC.heap_info \
    | awk '/ heap +total/ {for (i = 1; i <= NF; i++) if ($i == "committed") {sub(/K,?$/, "", $(i + 1)); print $(i + 1); exit}}'
}

# Virtual threads alive in the JVM (from a JSON thread dump).
jvm_virtual_threads() {
  local f=$BENCH_WORK/threads-$RANDOM.json
  "$BENCH_JDK/bin/jcmd" "$BENCH_UNDERSTUDY_PID" Thread.dump_to_file -format=json "$f" >/dev/null
  grep -cE '"virtual": *true' "$f" || true
}

# Opens SESSIONS idle sessions to port $1 with pgbench in the background; waits until all are
# connected, logged in and idle. Sets PGBENCH_PID.
PGBENCH_PID=""
open_sessions() {
  local port=$1 name=$2 waited=0 n
  PGAPPNAME=idle-$name PGPASSWORD=$BENCH_CLIENT_PASSWORD "$BENCH_PG_BIN/pgbench" -n -h "$BENCH_HOST" -p "$port" \
    -U "$BENCH_CLIENT_USER" -c "$SESSIONS" -j 2 -T 900 -f "$BENCH_WORK/idle.sql" "$BENCH_DB" >"$BENCH_WORK/pgbench-$name.log" 2>&1 &
  PGBENCH_PID=$!
  BENCH_PIDS=("$PGBENCH_PID" "${BENCH_PIDS[@]}")
  while :; do
    n=$(established "$port")
    kill -0 "$PGBENCH_PID" 2>/dev/null || { tail -5 "$BENCH_WORK/pgbench-$name.log" >&2; bench_die "pgbench ($name) ended early"; }
    [ "$n" -ge "$SESSIONS" ] && break
    [ $waited -lt $((CONNECT_LIMIT * 2)) ] || bench_die "only $n of $SESSIONS sessions connected to $name after ${CONNECT_LIMIT}s"
    sleep 0.5
    waited=$((waited + 1))
  done
  if [ "$name" != understudy ]; then
    # pgbouncer opens server connections one at a time: wait until no client waits for one
    while [ "$(bench_pgbouncer_pool "$port" cl_waiting)" != 0 ]; do
      [ $waited -lt $((CONNECT_LIMIT * 2)) ] || bench_die "$name: clients still waiting for a server after ${CONNECT_LIMIT}s"
      sleep 0.5
      waited=$((waited + 1))
    done
  fi
  bench_log "$name: $SESSIONS clients connected and served after about $((waited / 2)) s; settling ${SETTLE}s"
  sleep "$SETTLE" # every client has then sent its SELECT 1 and sleeps
}

# Stops the pgbench holding the sessions of phase $2 on port $1; waits until the clients are gone
# and, with $3 = 1, Understudy's server connections too, but for the US_KEPT its session pool kept
# from the warm-up (pgbouncer keeps its pool).
close_sessions() {
  local port=$1 name=$2 servers_too=$3 waited=0
  bench_stop_pid "$PGBENCH_PID" 10
  while [ "$(established "$port")" -gt 0 ] || { [ "$servers_too" = 1 ] && [ "$(backends "$BENCH_UNDERSTUDY_PID" | cut -d' ' -f1)" -gt "$US_KEPT" ]; }; do
    [ $waited -lt 120 ] || bench_die "sessions on port $port did not close within 60 s"
    sleep 0.5
    waited=$((waited + 1))
  done
}

kb_per_session() { awk -v a="$1" -v b="$2" -v n="$SESSIONS" 'BEGIN {printf "%.1f", (b - a) / n}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# --- Understudy ---
# A few sessions first, so the classes and JIT state of a session exist before the baseline.
PGPASSWORD=$BENCH_CLIENT_PASSWORD "$BENCH_PG_BIN/pgbench" -n -h "$BENCH_HOST" -p "$UNDERSTUDY_PORT" \
  -U "$BENCH_CLIENT_USER" -c 10 -j 2 -T 3 -f "$BENCH_WORK/warm.sql" "$BENCH_DB" >"$BENCH_WORK/pgbench-warmup.log" 2>&1 \
  || { tail -5 "$BENCH_WORK/pgbench-warmup.log" >&2; bench_die "warm-up through Understudy failed"; }
sleep 1
# The warm-up's sessions ended with Terminate: their connections stay in Understudy's session pool
# (backend.pool_size), logged in with pgbench's application_name, which the idle sessions below
# (another application_name) do not take.
US_KEPT=$(backends "$BENCH_UNDERSTUDY_PID" | cut -d' ' -f1)
US_HEAP0=$(jvm_heap_used_kb)
US_COMMIT0=$(jvm_heap_committed_kb)
US_RSS0=$(bench_rss_kb "$BENCH_UNDERSTUDY_PID")
US_THR0=$(bench_threads "$BENCH_UNDERSTUDY_PID")
US_VT0=$(jvm_virtual_threads)
open_sessions "$UNDERSTUDY_PORT" understudy
US_BACKENDS=$(backends "$BENCH_UNDERSTUDY_PID")
US_HEAP1=$(jvm_heap_used_kb)
US_COMMIT1=$(jvm_heap_committed_kb)
US_RSS1=$(bench_rss_kb "$BENCH_UNDERSTUDY_PID")
US_THR1=$(bench_threads "$BENCH_UNDERSTUDY_PID")
US_VT1=$(jvm_virtual_threads)
"$BENCH_JDK/bin/jcmd" "$BENCH_UNDERSTUDY_PID" GC.class_histogram >"$BENCH_WORK/histogram.txt"
close_sessions "$UNDERSTUDY_PORT" understudy 1
sleep 1
US_RSS2=$(bench_rss_kb "$BENCH_UNDERSTUDY_PID")
US_HEAP2=$(jvm_heap_used_kb)

# --- pgbouncer ---
declare -A PGB_RSS0=() PGB_RSS1=() PGB_BACKENDS=()
for mode in session transaction; do
  if [ "$mode" = session ]; then port=$PGB_SESSION_PORT; else port=$PGB_TRANSACTION_PORT; fi
  pid=$(bench_pgbouncer_pid "$mode")
  PGPASSWORD=$BENCH_CLIENT_PASSWORD "$BENCH_PG_BIN/pgbench" -n -h "$BENCH_HOST" -p "$port" \
    -U "$BENCH_CLIENT_USER" -c 10 -j 2 -T 3 -f "$BENCH_WORK/warm.sql" "$BENCH_DB" >"$BENCH_WORK/pgbench-warmup-$mode.log" 2>&1 \
    || { tail -5 "$BENCH_WORK/pgbench-warmup-$mode.log" >&2; bench_die "warm-up through pgbouncer $mode failed"; }
  sleep 1
  PGB_RSS0[$mode]=$(bench_rss_kb "$pid")
  open_sessions "$port" "pgbouncer-$mode"
  PGB_BACKENDS[$mode]=$(backends "$pid")
  PGB_RSS1[$mode]=$(bench_rss_kb "$pid")
  close_sessions "$port" "pgbouncer-$mode" 0
done
LOAD_AFTER=$(bench_load)

echo
echo "## $SESSIONS idle sessions"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "$("$BENCH_PG_BIN/postgres" --version); $("$BENCH_PGBOUNCER" --version | head -1); Understudy $(cd "$BENCH_REPO" && git describe --always --dirty) on $("$BENCH_JDK/bin/java" -version 2>&1 | head -1), JVM options: ${JAVA_OPTS:-none}"
echo "Each client: SCRAM login as $BENCH_CLIENT_USER, one SELECT 1, then idle (pgbench -c $SESSIONS -j 2, \\sleep)."
echo
echo "| proxy | RSS before | RSS with $SESSIONS idle | RSS per session | server connections (all idle) |"
echo "|---|---|---|---|---|"
echo "| Understudy | $(mib "$US_RSS0") MiB | $(mib "$US_RSS1") MiB | **$(kb_per_session "$US_RSS0" "$US_RSS1") KiB** | ${US_BACKENDS% *} (${US_BACKENDS#* }) |"
for mode in session transaction; do
  b=${PGB_BACKENDS[$mode]}
  echo "| pgbouncer $mode | $(mib "${PGB_RSS0[$mode]}") MiB | $(mib "${PGB_RSS1[$mode]}") MiB | **$(kb_per_session "${PGB_RSS0[$mode]}" "${PGB_RSS1[$mode]}") KiB** | ${b% *} (${b#* }) |"
done
echo
echo "Understudy's JVM:"
echo
echo "| | before | with $SESSIONS idle | per session | after they closed |"
echo "|---|---|---|---|---|"
echo "| heap used after full GC | $(mib "$US_HEAP0") MiB | $(mib "$US_HEAP1") MiB | **$(kb_per_session "$US_HEAP0" "$US_HEAP1") KiB** | $(mib "$US_HEAP2") MiB |"
echo "| heap committed | $(mib "$US_COMMIT0") MiB | $(mib "$US_COMMIT1") MiB | | |"
echo "| RSS | $(mib "$US_RSS0") MiB | $(mib "$US_RSS1") MiB | $(kb_per_session "$US_RSS0" "$US_RSS1") KiB | $(mib "$US_RSS2") MiB |"
echo "| OS threads (/proc Threads) | $US_THR0 | $US_THR1 | | |"
echo "| virtual threads (jcmd Thread.dump_to_file) | $US_VT0 | $US_VT1 | | |"
echo
echo "Largest classes on Understudy's heap with the sessions idle (jcmd GC.class_histogram):"
echo
echo '```'
sed -n '1,8p' "$BENCH_WORK/histogram.txt" | sed '/^[0-9]*:$/d'
echo '```'
echo
echo "Virtual threads do not show as OS threads: they run on a few carrier threads (ForkJoinPool,"
echo "one per core by default), so /proc Threads stays flat while each session keeps its own"
echo "virtual threads, whose stacks live on the Java heap while they are parked."
problems=$(grep -cE ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" || true)
echo
echo "Understudy log: $problems WARN/ERROR lines"
grep -E ' (WARN|ERROR) ' "$BENCH_WORK/understudy.log" | head -5 || true
