#!/usr/bin/env bash
# JMH: classification plus routing per statement, cold (new text) and cached (repeated text).
# Usage: bench/routing-jmh.sh [extra JMH options]   (about 2 minutes with the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
jdk=$(bin/find-jdk)
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
# One reactor run, so the sibling modules resolve from their target/classes; proxy is built last,
# so its classpath is the one left in the file.
./mvnw -q -B -ntp -pl proxy -am -DskipTests test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
echo "load average before: $(uptime | sed 's/.*load average: //')"
"$jdk/bin/java" -cp "proxy/target/test-classes:proxy/target/classes:$(cat "$cp")" org.openjdk.jmh.Main \
  RoutingBenchmark -f 1 -wi 3 -w 2s -i 5 -r 2s "$@"
echo "load average after: $(uptime | sed 's/.*load average: //')"
