#!/usr/bin/env bash
# Automatic failover under a steady write load: three Understudy nodes over a three-server
# ZooKeeper and three embedded PostgreSQL servers, the master's postmaster killed with SIGKILL.
# Prints, for asynchronous and synchronous mode, the time from the kill to the first write on the
# new master, the failed client operations and the lost acknowledged writes (median and maximum
# over the runs), and the write latency through the proxy against a direct connection.
# See docs/failover.md. Usage: bench/failover.sh [runs] (default 5; about 40 s per run and mode)
set -euo pipefail
cd "$(dirname "$0")/.."
jdk=$(bin/find-jdk)
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
./mvnw -q -B -ntp -pl proxy -am -DskipTests test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
echo "load average before: $(uptime | sed 's/.*load average: //')"
log=$(mktemp)
trap 'rm -f "$cp" "$log"' EXIT
if ! "$jdk/bin/java" -cp "proxy/target/test-classes:proxy/target/classes:$(cat "$cp")" \
    dev.understudy.proxy.failover.FailoverBenchmark "$@" >"$log" 2>&1; then
  tail -50 "$log" >&2
  exit 1
fi
grep -E '^(run |mode |asynchronous |synchronous|goal)' "$log"
echo "load average after: $(uptime | sed 's/.*load average: //')"
