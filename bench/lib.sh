# shellcheck shell=bash
# Shared functions for the end-to-end benchmarks in bench/: install PostgreSQL 15 and pgbouncer on
# demand, start a throwaway PostgreSQL cluster (optionally with hot standbys), pgbouncer and
# Understudy on free ports of 127.0.0.1, and stop all of them (and delete their files) when the
# calling script exits.
#
# Source it from a script that runs `set -euo pipefail`, then call bench_init once:
#   . "$(dirname "$0")/lib.sh"; bench_init
# Everything started through these functions is stopped by the EXIT trap bench_init installs.

BENCH_PG_BIN=/usr/lib/postgresql/15/bin
BENCH_PGBOUNCER=/usr/sbin/pgbouncer
BENCH_HOST=127.0.0.1
# The database role Understudy and pgbouncer log in with, and the role clients use on the proxies.
BENCH_DB=bench
BENCH_DB_USER=understudy
BENCH_DB_PASSWORD=understudy-bench
BENCH_CLIENT_USER=bench
BENCH_CLIENT_PASSWORD=bench

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_WORK=""          # temp dir holding every file of this run
BENCH_PG_DATA=""
BENCH_PG_PORT=""
BENCH_STANDBY_NAMES=() # hot standbys started by bench_start_standby, in start order
BENCH_STANDBY_PORTS=()
BENCH_STANDBY_DATA=()
BENCH_JDK=""
BENCH_PIDS=()          # processes started by this run, stopped on exit (newest first)
BENCH_PIDFILES=()      # daemons' pid files (pgbouncer), stopped on exit
BENCH_APT_UPDATED=0

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Creates the work dir and installs the cleanup trap. Call once, first.
bench_init() {
  [ "$(id -u)" -eq 0 ] || bench_die "run as root (PostgreSQL and pgbouncer are started as the postgres user)"
  BENCH_WORK=$(mktemp -d /tmp/understudy-bench.XXXXXX)
  chown postgres: "$BENCH_WORK"
  chmod 755 "$BENCH_WORK"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Installs the Debian packages of the tools that are missing; apt-get update at most once.
bench_install() {
  local missing=()
  [ -x "$BENCH_PG_BIN/initdb" ] && [ -x "$BENCH_PG_BIN/pgbench" ] || missing+=(postgresql-15)
  [ -x "$BENCH_PGBOUNCER" ] || missing+=(pgbouncer)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    bench_log "installing ${missing[*]}"
    if [ "$BENCH_APT_UPDATED" -eq 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      BENCH_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  getent passwd postgres >/dev/null || bench_die "no postgres OS user after installing postgresql-15"
}

# Sets BENCH_JDK to a JDK 21+ home (bin/find-jdk).
bench_jdk() {
  if [ -z "$BENCH_JDK" ]; then
    BENCH_JDK=$("$BENCH_REPO/bin/find-jdk") || bench_die "no JDK 21+ found"
  fi
}

# Prints a TCP port of 127.0.0.1 that nothing listens on, below the ephemeral range.
bench_free_port() {
  local port tries=0
  while [ $tries -lt 200 ]; do
    port=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$port")" ]; then
      printf '%s\n' "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  bench_die "no free port found"
}

# Waits until something accepts TCP connections on 127.0.0.1:$1 (at most $2 seconds).
bench_wait_port() {
  local port=$1 limit=${2:-30} waited=0
  until (exec 3<>"/dev/tcp/$BENCH_HOST/$port") 2>/dev/null; do
    sleep 0.2
    waited=$((waited + 1))
    [ $waited -lt $((limit * 5)) ] || return 1
  done
}

# Runs a command as the postgres OS user, with this shell's open-files limit: runuser goes through
# PAM, which would reset the soft limit to 1024, too few for pgbouncer with 1,000 clients.
bench_as_postgres() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  runuser -u postgres -- /bin/sh -c 'ulimit -n "$1"; shift; exec "$@"' sh "$(ulimit -n)" "$@"
}

# psql as the superuser over the Unix socket (trust) of the server on port $1 (the master or a
# standby).
bench_psql_port() {
  local port=$1
  shift
  bench_as_postgres "$BENCH_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$BENCH_WORK" -p "$port" \
    -U postgres -d postgres "$@"
}

# psql as the superuser over the cluster's Unix socket (trust), on the master.
bench_psql_admin() { bench_psql_port "$BENCH_PG_PORT" "$@"; }

# Starts a PostgreSQL 15 cluster on a free port of 127.0.0.1 with max_connections $1, a role
# understudy (SCRAM password) and a database bench it owns. Sets BENCH_PG_PORT.
bench_start_pg() {
  local max_connections=${1:-200}
  BENCH_PG_DATA=$BENCH_WORK/pgdata
  BENCH_PG_PORT=$(bench_free_port)
  bench_log "PostgreSQL 15: initdb, port $BENCH_PG_PORT, max_connections $max_connections"
  bench_as_postgres "$BENCH_PG_BIN/initdb" -D "$BENCH_PG_DATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$BENCH_WORK/initdb.log" 2>&1 \
    || { cat "$BENCH_WORK/initdb.log" >&2; bench_die "initdb failed"; }
  cat >>"$BENCH_PG_DATA/postgresql.conf" <<EOF
# understudy bench
listen_addresses = '$BENCH_HOST'
port = $BENCH_PG_PORT
unix_socket_directories = '$BENCH_WORK'
max_connections = $max_connections
password_encryption = scram-sha-256
logging_collector = off
EOF
  bench_as_postgres "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DATA" -l "$BENCH_WORK/postgres.log" -w -t 60 start \
    >/dev/null || { tail -20 "$BENCH_WORK/postgres.log" >&2; bench_die "PostgreSQL did not start"; }
  bench_psql_admin -c "CREATE ROLE $BENCH_DB_USER LOGIN PASSWORD '$BENCH_DB_PASSWORD'" \
    -c "CREATE DATABASE $BENCH_DB OWNER $BENCH_DB_USER"
}

# Starts a hot standby named $1 of the cluster (bench_start_pg first): pg_basebackup -R (physical
# streaming replication over the Unix socket as postgres, WAL streamed during the copy) into
# $BENCH_WORK/pgdata-$1, its own free port, cluster_name $1 (its application_name in
# pg_stat_replication), hot_standby_feedback on. Roles, databases, pg_hba.conf and the other
# settings are the master's (a physical copy), so the understudy role can log in to it as to the
# master. Records it in BENCH_STANDBY_NAMES/PORTS/DATA; bench_start_understudy names every standby
# started before it as a replica, and the cleanup stops it. Sets the variable named $2 to its port.
bench_start_standby() {
  local name=$1 port_var=$2 port data=$BENCH_WORK/pgdata-$1
  [ -n "$BENCH_PG_PORT" ] || bench_die "bench_start_standby: start the master first"
  port=$(bench_free_port)
  bench_log "PostgreSQL 15 standby $name: pg_basebackup -R, port $port"
  bench_as_postgres "$BENCH_PG_BIN/pg_basebackup" -h "$BENCH_WORK" -p "$BENCH_PG_PORT" -U postgres \
    -D "$data" -R -X stream -c fast >"$BENCH_WORK/basebackup-$name.log" 2>&1 \
    || { cat "$BENCH_WORK/basebackup-$name.log" >&2; bench_die "pg_basebackup for standby $name failed"; }
  cat >>"$data/postgresql.conf" <<EOF
# understudy bench: standby $name
port = $port
cluster_name = '$name'
hot_standby = on
hot_standby_feedback = on
EOF
  BENCH_STANDBY_NAMES+=("$name")
  BENCH_STANDBY_PORTS+=("$port")
  BENCH_STANDBY_DATA+=("$data")
  bench_as_postgres "$BENCH_PG_BIN/pg_ctl" -D "$data" -l "$BENCH_WORK/postgres-$name.log" -w -t 120 start \
    >/dev/null || { tail -20 "$BENCH_WORK/postgres-$name.log" >&2; bench_die "standby $name did not start"; }
  printf -v "$port_var" '%s' "$port"
}

# Waits (at most $1 seconds, default 120) until every standby streams WAL from the master and has
# replayed everything the master had written when the wait began (pg_current_wal_lsn() on the
# master against pg_last_wal_replay_lsn() on each standby). Call it after loading data.
bench_wait_standbys() {
  local limit=${1:-120} target i port state waited=0
  target=$(bench_psql_admin -At -c "SELECT pg_current_wal_lsn()")
  for i in "${!BENCH_STANDBY_NAMES[@]}"; do
    port=${BENCH_STANDBY_PORTS[$i]}
    while :; do
      state=$(bench_psql_port "$port" -At -c "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')
        || ' ' || coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$target') >= 0, false)" 2>/dev/null || true)
      [ "$state" = "streaming true" ] && break
      [ $waited -lt $((limit * 5)) ] \
        || { tail -20 "$BENCH_WORK/postgres-${BENCH_STANDBY_NAMES[$i]}.log" >&2
             bench_die "standby ${BENCH_STANDBY_NAMES[$i]} not streaming or not caught up with $target (${state:-no answer})"; }
      sleep 0.2
      waited=$((waited + 1))
    done
  done
  bench_log "standbys ${BENCH_STANDBY_NAMES[*]} streaming, replayed up to $target"
}

# Runs pgbench directly against the server on port $1 (the master or a standby) as the database
# role (extra arguments as given).
bench_pgbench_port() {
  local port=$1
  shift
  PGPASSWORD=$BENCH_DB_PASSWORD "$BENCH_PG_BIN/pgbench" -h "$BENCH_HOST" -p "$port" \
    -U "$BENCH_DB_USER" "$@" "$BENCH_DB"
}

# Runs pgbench directly against the cluster's master as the database role (extra arguments as given).
bench_pgbench_direct() { bench_pgbench_port "$BENCH_PG_PORT" "$@"; }

# Starts pgbouncer (as postgres) in front of the cluster: pool mode $1 (session|transaction),
# pool size $2, max client connections $3. Clients log in as bench/bench (SCRAM against a
# userlist); pgbouncer logs in to PostgreSQL as understudy. Sets the variable named $4 to its port.
# (Not called as $(...): the pid file it registers for cleanup must stay in this shell.)
bench_start_pgbouncer() {
  local mode=$1 pool_size=$2 max_clients=$3 port_var=$4 port dir
  port=$(bench_free_port)
  dir=$BENCH_WORK/pgbouncer-$mode
  mkdir -p "$dir"
  printf '"%s" "%s"\n' "$BENCH_CLIENT_USER" "$BENCH_CLIENT_PASSWORD" >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
$BENCH_DB = host=$BENCH_HOST port=$BENCH_PG_PORT dbname=$BENCH_DB user=$BENCH_DB_USER password=$BENCH_DB_PASSWORD

[pgbouncer]
listen_addr = $BENCH_HOST
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = $mode
default_pool_size = $pool_size
max_db_connections = 0
max_client_conn = $max_clients
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
stats_users = $BENCH_CLIENT_USER
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
  chown -R postgres: "$dir"
  chmod 600 "$dir/userlist.txt" "$dir/pgbouncer.ini"
  BENCH_PIDFILES+=("$dir/pgbouncer.pid")
  bench_as_postgres "$BENCH_PGBOUNCER" -d -q "$dir/pgbouncer.ini" \
    || { tail -20 "$dir/pgbouncer.log" >&2; bench_die "pgbouncer ($mode) did not start"; }
  bench_wait_port "$port" 30 || { tail -20 "$dir/pgbouncer.log" >&2; bench_die "pgbouncer ($mode) not listening"; }
  bench_log "$("$BENCH_PGBOUNCER" --version | head -1), $mode mode, pool $pool_size, port $port"
  printf -v "$port_var" '%s' "$port"
}

# Column $2 of pgbouncer's SHOW POOLS for the bench database, pgbouncer on port $1.
bench_pgbouncer_pool() {
  PGPASSWORD=$BENCH_CLIENT_PASSWORD "$BENCH_PG_BIN/psql" -X -A -F, -h "$BENCH_HOST" -p "$1" \
    -U "$BENCH_CLIENT_USER" -d pgbouncer -c "SHOW POOLS" \
    | awk -F, -v col="$2" -v db="$BENCH_DB" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == col) c = i; next}
      $1 == db {print $c}'
}

# Pid of the pgbouncer started in mode $1.
bench_pgbouncer_pid() { cat "$BENCH_WORK/pgbouncer-$1/pgbouncer.pid"; }

# Starts Understudy (proxy/target/understudy.jar, rebuilt first) in front of the cluster with a
# generated config: the master as node pg1 (role master), every standby started so far under its
# name (role replica); clients log in as bench/bench (SCRAM), the proxy as understudy.
# Sets the variable named $1 to its port and BENCH_UNDERSTUDY_PID; further arguments go to the JVM.
# (Not called as $(...): the process must stay a child of this shell for the cleanup.)
BENCH_UNDERSTUDY_PID=""
bench_start_understudy() {
  local port_var=$1 jar=$BENCH_REPO/proxy/target/understudy.jar port jdk config=$BENCH_WORK/understudy.yaml i
  shift
  bench_jdk
  jdk=$BENCH_JDK
  # Always (re)build: the scripts print the commit they measured, so the jar must be that commit's.
  bench_log "building $jar"
  (cd "$BENCH_REPO" && ./mvnw -q -B -ntp -DskipTests package) >&2
  port=$(bench_free_port)
  cat >"$config" <<EOF
cluster:
  name: bench
listen:
  host: $BENCH_HOST
  port: $port
  max_connections: 5000
auth:
  method: scram-sha-256
backend:
  user: $BENCH_DB_USER
  password: $BENCH_DB_PASSWORD
  pool_size: 32 # as pgbouncer's default_pool_size here (the most clients of any run)
nodes:
  - name: pg1
    host: $BENCH_HOST
    port: $BENCH_PG_PORT
    role: master
EOF
  for i in "${!BENCH_STANDBY_NAMES[@]}"; do
    cat >>"$config" <<EOF
  - name: ${BENCH_STANDBY_NAMES[$i]}
    host: $BENCH_HOST
    port: ${BENCH_STANDBY_PORTS[$i]}
    role: replica
EOF
  done
  cat >>"$config" <<EOF
users:
  - name: $BENCH_CLIENT_USER
    password: $BENCH_CLIENT_PASSWORD
EOF
  # In a session of its own, as a service manager would start it and as pgbouncer (-d) and
  # PostgreSQL (pg_ctl) start themselves: with the kernel's autogroup scheduling (on by default),
  # a process started from this shell shares one scheduling group, and so one share of the CPU,
  # with the pgbench runs the shell starts (docs/benchmarks.md, "Set-up"). This shell has no job
  # control, so the background child is no process group leader and setsid execs java in place:
  # $! is the JVM's pid, which the check below makes sure of.
  setsid "$jdk/bin/java" "$@" -jar "$jar" --config "$config" >"$BENCH_WORK/understudy.log" 2>&1 &
  BENCH_UNDERSTUDY_PID=$!
  BENCH_PIDS=("$BENCH_UNDERSTUDY_PID" "${BENCH_PIDS[@]}")
  bench_wait_port "$port" 60 || { tail -20 "$BENCH_WORK/understudy.log" >&2; bench_die "Understudy did not start"; }
  [ "$(cat "/proc/$BENCH_UNDERSTUDY_PID/comm" 2>/dev/null)" = java ] \
    || bench_die "Understudy's pid $BENCH_UNDERSTUDY_PID is not the JVM (setsid forked?)"
  bench_log "Understudy on $("$jdk/bin/java" -version 2>&1 | head -1), port $port, pid $BENCH_UNDERSTUDY_PID"
  printf -v "$port_var" '%s' "$port"
}

# Runs pgbench through a proxy on port $1 as the client role (extra arguments as given).
bench_pgbench_proxy() {
  local port=$1
  shift
  PGPASSWORD=$BENCH_CLIENT_PASSWORD "$BENCH_PG_BIN/pgbench" -h "$BENCH_HOST" -p "$port" \
    -U "$BENCH_CLIENT_USER" "$@" "$BENCH_DB"
}

# Resident set size of process $1 in KiB (VmRSS).
bench_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# OS threads of process $1.
bench_threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# Load averages, from uptime.
bench_load() { uptime | sed 's/.*load average: //'; }

# Sends TERM to pid $1, then KILL after $2 seconds if it is still there.
bench_stop_pid() {
  local pid=$1 limit=${2:-10} waited=0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((limit * 5)) ]; do
    sleep 0.2
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops the PostgreSQL server with data directory $1 (fast shutdown; the postmaster is killed if
# that fails).
bench_stop_pg() {
  local data=$1
  if [ -f "$data/postmaster.pid" ]; then
    bench_as_postgres "$BENCH_PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || bench_stop_pid "$(head -1 "$data/postmaster.pid")" 5
  fi
}

# The EXIT trap: stops Understudy, pgbouncers, the standbys and PostgreSQL, deletes the work dir.
bench_cleanup() {
  local status=$? pid f i
  trap - EXIT INT TERM
  for pid in "${BENCH_PIDS[@]}"; do
    bench_stop_pid "$pid" 15
  done
  for f in "${BENCH_PIDFILES[@]}"; do
    if [ -f "$f" ]; then
      bench_stop_pid "$(cat "$f")" 10
    fi
  done
  # standbys before the master, whose shutdown would otherwise wait for their WAL senders
  for ((i = ${#BENCH_STANDBY_DATA[@]} - 1; i >= 0; i--)); do
    bench_stop_pg "${BENCH_STANDBY_DATA[$i]}"
  done
  if [ -n "$BENCH_PG_DATA" ]; then
    bench_stop_pg "$BENCH_PG_DATA"
  fi
  if [ -n "$BENCH_WORK" ] && [ -d "$BENCH_WORK" ]; then
    if [ -n "${BENCH_KEEP:-}" ]; then
      bench_log "kept $BENCH_WORK (BENCH_KEEP set)"
    else
      rm -rf "$BENCH_WORK"
    fi
  fi
  exit "$status"
}

# --- measuring and reporting (the caller defines label(), and the arrays below) ---

# CPU time (user + system jiffies) of process $1 so far; 0 without a pid.
cpu_ticks() {
  if [ -z "$1" ]; then echo 0; return; fi
  # fields after the ")" that closes the command name: utime is the 12th, stime the 13th
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# Busy and total jiffies of the whole machine (from /proc/stat).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }

median() { # median of the numbers in $1 (space separated); empty for none
  tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One TPS cell: the median of TPS[$1] and its ratio to $2 (the baseline's median; empty: "?"),
# or "fails (n/rounds)" when the target failed in any round (FAILS[$1]).
bench_tps_cell() {
  local key=$1 d=$2 m ratio
  if [ "${FAILS[$key]:-0}" -gt 0 ]; then
    # a target that fails in some rounds is broken; per-round figures show what passed
    echo "fails (${FAILS[$key]}/$ROUNDS rounds)"
    return
  fi
  m=$(median "${TPS[$key]:-}")
  ratio=$( [ -n "$d" ] && awk -v a="$m" -v b="$d" 'BEGIN {printf "%.2f", a / b}' || echo "?")
  echo "$(printf '%.0f' "$m") (**$ratio**)"
}

# The latency table over WORKLOADS x TARGETS (from LAT, CPU, BUSY); the targets named in $1
# (space separated) are proxies, whose own CPU is shown.
bench_latency_table() {
  local proxies=" $1 " header="| workload |" rule="|---|" w t key line l c b
  echo "Latency average (ms, median), proxy cpu % of a core (median), machine busy % (median):"
  echo
  for t in "${TARGETS[@]}"; do header+=" $t |"; rule+="---|"; done
  echo "$header"
  echo "$rule"
  for w in "${WORKLOADS[@]}"; do
    line="| $(label "$w") |"
    for t in "${TARGETS[@]}"; do
      key="$w|$t"
      l=$(median "${LAT[$key]:-}")
      if [ -z "$l" ]; then line+=" fails |"; continue; fi
      c=$(median "${CPU[$key]:-}")
      b=$(median "${BUSY[$key]:-}")
      if [[ "$proxies" == *" $t "* ]]; then
        line+=" $(printf '%.2f' "$l") ms, cpu $(printf '%.0f' "$c")%, busy $(printf '%.0f' "$b")% |"
      else
        line+=" $(printf '%.2f' "$l") ms, busy $(printf '%.0f' "$b")% |"
      fi
    done
    echo "$line"
  done
}
