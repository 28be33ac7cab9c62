#!/usr/bin/env bash
# Runs checkov (from .venv) on every synthesized stack of one synth and prints one summary line.
# Fails when any check fails, or when nothing was checked (a scan of nothing proves nothing).
# The JSON report goes to REPORT (default build/checkov.json); scripts/test-summary.ts reads the ones make checkov writes.
set -euo pipefail
usage="usage: scripts/checkov.sh PATH_TO_CHECKOV STACKS_DIR [REPORT]"
checkov=${1:?$usage}
stacks=${2:?$usage}
report=${3:-build/checkov.json}
mkdir -p "$(dirname "$report")"
status=0
"$checkov" --config-file .checkov.yaml -d "$stacks" -o json > "$report" || status=$?
"$(dirname "$checkov")/python" - "$report" "$status" "$stacks" <<'PY'
import json, sys
path, status, stacks = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path) as f:
    data = json.load(f)
reports = data if isinstance(data, list) else [data]
passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
failed = sum(r.get("summary", {}).get("failed", 0) for r in reports)
for r in reports:
    for c in r.get("results", {}).get("failed_checks", []):
        print(f"FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
if passed == 0:
    sys.exit(f"checkov checked nothing: is {stacks} synthesized?")
print(f"checkov: {passed} passed, {failed} failed on {stacks}")
sys.exit(1 if failed or status else 0)
PY
