#!/usr/bin/env bash
# Runs the node:test suites through tsx, on the Node.js the project installs for itself
# (node_modules/.bin/node, Node 24), whether called through `npm test` or directly.
# Arguments narrow the run to folders or files: scripts/test.sh test/unit test/app/foo.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
# npm finds its global npmrc (registry, CA bundle) beside the node that runs it: keep the
# system npm's, as `npm test` passes it down, when this script is run directly.
if [[ -z ${npm_config_globalconfig:-} ]] && command -v npm >/dev/null 2>&1; then
  npm_config_globalconfig=$(npm config get globalconfig 2>/dev/null || true)
  export npm_config_globalconfig
fi
export PATH="$PWD/node_modules/.bin:$PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 24)); then
  echo "scripts/test.sh: Node.js $(node --version) found, 24 or later needed: run \`npm ci\` first (it installs Node 24 into node_modules)" >&2
  exit 1
fi
roots=("$@")
((${#roots[@]})) || roots=(test)
patterns=()
for root in "${roots[@]}"; do
  if [[ -d $root ]]; then patterns+=("${root%/}/**/*.test.ts"); else patterns+=("$root"); fi
done
# A suite whose component is missing is skipped locally and reports no tests, which reads as
# green: test/helpers/requirements.ts names each skip in this file, and it is said again at the end.
SELFLESSACTS_SKIP_REPORT=$(mktemp "${TMPDIR:-/tmp}/selflessacts-skips.XXXXXX")
export SELFLESSACTS_SKIP_REPORT
trap 'rm -f "$SELFLESSACTS_SKIP_REPORT"' EXIT
# One file at a time: the suites share dockerd, MariaDB and two cores, and timing-sensitive
# orchestrator tests must not compete with each other for CPU.
status=0
node --import tsx --test --test-concurrency=1 "${patterns[@]}" || status=$?
if [[ -s $SELFLESSACTS_SKIP_REPORT ]]; then
  {
    echo
    echo "scripts/test.sh: NOT A FULL RUN: $(sort -u "$SELFLESSACTS_SKIP_REPORT" | wc -l) suite(s) skipped because a component is missing:"
    sort -u "$SELFLESSACTS_SKIP_REPORT" | sed 's/^/  - /'
    echo "  Start the components with: bash scripts/dev-services.sh (CI=true makes a missing one a failure)."
  } >&2
fi
exit "$status"
