#!/usr/bin/env bash
# Runs the node:test suites through tsx. Node 20's test runner does not expand globs itself,
# so the files are listed here. Arguments narrow the run: scripts/test.sh test/unit test/app
set -euo pipefail
cd "$(dirname "$0")/.."
roots=("$@")
((${#roots[@]})) || roots=(test)
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if ((${#files[@]} == 0)); then echo "no test files under: ${roots[*]}"; exit 1; fi
# One file at a time: the suites share dockerd, MariaDB and two cores, and timing-sensitive
# orchestrator tests must not compete with each other for CPU.
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
