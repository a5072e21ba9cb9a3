#!/usr/bin/env bash
# The driver's overhead: the same workloads (a prepared point SELECT, a single-row INSERT, a
# statement prepared for every query) through one Understudy proxy with plain pgjdbc and with the
# Understudy driver, both sides at the same time (1 and 4 clients each) so that they meet the same
# machine; then straight to the master with pgjdbc against the driver's direct mode. Prints ops/s,
# the driver/pgjdbc ratio (median over rounds) and the client CPU time per operation.
# Goal: the driver within 2% of pgjdbc (ratio >= 0.98). See docs/driver.md.
# Usage: bench/driver.sh [rounds] [seconds per round] (default 10 and 2; about 5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/java-main.sh
java_main driver dev.understudy.driver.DriverBenchmark '^(setup|result)' "$@"
