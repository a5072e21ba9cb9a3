#!/usr/bin/env bash
# Shared by the benchmarks written in Java (sourced): java_main MODULE CLASS PATTERN [ARGS...]
# builds MODULE's test classes, runs CLASS's main on a JDK 21+ with them, keeps its output in a
# scratch file and prints the lines matching PATTERN (grep -E); on failure, the output's tail.
java_main() {
  local module=$1 class=$2 pattern=$3
  shift 3
  local jdk cp log
  jdk=$(bin/find-jdk)
  cp=$(mktemp)
  log=$(mktemp)
  ./mvnw -q -B -ntp -pl "$module" -am -DskipTests test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
  echo "load average before: $(uptime | sed 's/.*load average: //')"
  if ! "$jdk/bin/java" -cp "$module/target/test-classes:$module/target/classes:$(cat "$cp")" "$class" "$@" >"$log" 2>&1; then
    tail -50 "$log" >&2
    rm -f "$cp" "$log"
    return 1
  fi
  grep -E "$pattern" "$log"
  echo "load average after: $(uptime | sed 's/.*load average: //')"
  rm -f "$cp" "$log"
}
