#!/usr/bin/env bash
# Automatic failover under a steady write load: three Understudy nodes over a three-server
# ZooKeeper and three embedded PostgreSQL servers, the master's postmaster killed with SIGKILL.
# Prints, for asynchronous and synchronous mode, the time from the kill to the first write on the
# new master, the failed client operations and the lost acknowledged writes (median and maximum
# over the runs), and the write latency through the proxy against a direct connection.
# See docs/failover.md. Usage: bench/failover.sh [runs] (default 5; about 40 s per run and mode)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/java-main.sh
java_main proxy dev.understudy.proxy.failover.FailoverBenchmark '^(run |mode |asynchronous |synchronous|goal)' "$@"
