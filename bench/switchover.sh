#!/usr/bin/env bash
# Switchover under a steady write load: three Understudy nodes over a three-server ZooKeeper and
# three embedded PostgreSQL servers, two clients writing through two proxies, SWITCHOVER typed on
# the third, back and forth. Prints each switchover's write pause (as the leader measured it and
# as the clients saw it), median and maximum, failed client operations and lost writes.
# See docs/admin.md. Usage: bench/switchover.sh [runs] (default 5; about 1 minute)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/java-main.sh
java_main proxy dev.understudy.proxy.failover.SwitchoverBenchmark '^(run |write pause|failed client|goal)' "$@"
