#!/usr/bin/env bash
# Runs checkov (from .venv) on every synthesized stack and prints one summary line.
# Fails when any check fails, or when nothing was checked (a scan of nothing proves nothing).
set -euo pipefail
checkov=${1:?usage: scripts/checkov.sh PATH_TO_CHECKOV STACKS_DIR}
stacks=${2:?usage: scripts/checkov.sh PATH_TO_CHECKOV STACKS_DIR}
mkdir -p build
report=build/checkov.json
status=0
"$checkov" --config-file .checkov.yaml -d "$stacks" -o json > "$report" || status=$?
"$(dirname "$checkov")/python" - "$report" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    data = json.load(f)
reports = data if isinstance(data, list) else [data]
passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
failed = sum(r.get("summary", {}).get("failed", 0) for r in reports)
for r in reports:
    for c in r.get("results", {}).get("failed_checks", []):
        print(f"FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
if passed == 0:
    sys.exit("checkov checked nothing: is cdktf.out/stacks synthesized?")
print(f"checkov: {passed} passed, {failed} failed")
sys.exit(1 if failed or status else 0)
PY
