#!/usr/bin/env bash
# Change data capture against PostgreSQL's own logical replication, same run, same servers:
# apply throughput of a backlog (single-row and 10-row transactions) and per-row lag under a
# paced load, with ratios; and how long a new replica takes to be ready (Understudy's seed
# against a subscription's initial copy). See docs/benchmarks.md.
# Usage: bench/cdc.sh [single-row backlog] [10-row backlog] [paced tx/s] [paced seconds] [seed rows]
#        (defaults 20000 2000 1000 10 500000; about 3 minutes)
#        bench/cdc.sh --ceiling [single-row backlog]   (default 40000): Debezium alone with a consumer
#        that only counts, with and without transaction metadata, twice each: what any applier
#        behind it can reach at most
set -euo pipefail
cd "$(dirname "$0")/.."
jdk=$(bin/find-jdk)
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
./mvnw -q -B -ntp -pl cdc -am -DskipTests test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
echo "load average before: $(uptime | sed 's/.*load average: //')"
main=dev.understudy.cdc.CdcBenchmark
if [ "${1:-}" = --ceiling ]; then
  main=dev.understudy.cdc.DebeziumCeiling
  shift
fi
"$jdk/bin/java" -cp "cdc/target/test-classes:cdc/target/classes:$(cat "$cp")" "$main" "$@" \
  2> >(grep -v -E ' (INFO|DEBUG) ' >&2)
echo "load average after: $(uptime | sed 's/.*load average: //')"
