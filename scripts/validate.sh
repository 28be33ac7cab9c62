#!/usr/bin/env bash
# terraform init -backend=false and terraform validate on every synthesized stack, each in a
# temporary copy (cdktf.out gets no .terraform directory). Terraform's own output goes to one log
# file per stack.
#
# Usage: scripts/validate.sh [STACKS_DIR]   (default cdktf.out/stacks; logs in $VALIDATE_LOG_DIR, default build/validate)
# Exit 0: every stack is valid. 1: a stack is invalid, or init failed for a reason other than a download.
# 2: validation cannot run on this machine (no terraform, or a provider cannot be downloaded).
set -euo pipefail

stacks_dir="${1:-cdktf.out/stacks}"
stacks_dir="${stacks_dir%/}"
log_dir="${VALIDATE_LOG_DIR:-build/validate}"

if ! command -v terraform >/dev/null 2>&1; then
  echo "validate: terraform is not on PATH, so validation cannot run here: install Terraform >= 1.10 and run make validate again." >&2
  exit 2
fi

shopt -s nullglob
stacks=()
for dir in "$stacks_dir"/*/; do
  if [[ -f "$dir/cdk.tf.json" ]]; then stacks+=("${dir%/}"); fi
done
if ((${#stacks[@]} == 0)); then
  echo "validate: no synthesized stack (no $stacks_dir/*/cdk.tf.json): run make synth first." >&2
  exit 1
fi

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
work_root="$(mktemp -d "${TMPDIR:-/tmp}/xacct-validate.XXXXXX")"
trap 'rm -rf "$work_root"' EXIT
# A CLI configuration that does not exist makes terraform warn on every command; an empty one does not.
if [[ -z "${TF_CLI_CONFIG_FILE:-}" || ! -e "$TF_CLI_CONFIG_FILE" ]]; then
  : >"$work_root/empty.tfrc"
  export TF_CLI_CONFIG_FILE="$work_root/empty.tfrc"
fi
# The stacks share their providers: download each once per machine, not once per stack. The lock
# files written next to the temporary copies are thrown away, so the cache may skip their checksums.
mkdir -p "$log_dir"
export TF_PLUGIN_CACHE_DIR="${TF_PLUGIN_CACHE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build/terraform-plugin-cache}"
export TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=true
mkdir -p "$TF_PLUGIN_CACHE_DIR"

# Terraform's messages when the registry (or the network) cannot be reached.
DOWNLOAD_FAILURE='Failed to query available provider packages|Failed to install provider|could not connect to|failed to request discovery document|no such host|i/o timeout|connection refused|TLS handshake timeout|network is unreachable'

invalid=()
for dir in "${stacks[@]}"; do
  name="$(basename "$dir")"
  work="$work_root/stacks/$name"
  mkdir -p "$work"
  cp -R "$dir/." "$work/"
  rm -rf "$work/.terraform"
  log="$log_dir/$name.log"
  log_abs="$(cd "$log_dir" && pwd)/$name.log"
  if ! (cd "$work" && terraform init -backend=false -input=false -no-color) >"$log_abs" 2>&1; then
    if grep -Eq "$DOWNLOAD_FAILURE" "$log_abs"; then
      provider="$(grep -Eo 'for provider [a-z0-9_-]+/[a-z0-9_-]+' "$log_abs" | head -n 1 | sed 's/^for provider //' || true)"
      registry="$(grep -Eo 'could not connect to [a-z0-9.-]+' "$log_abs" | head -n 1 | sed 's/^could not connect to //' || true)"
      echo "validate: the ${provider:-hashicorp/aws} provider could not be downloaded from ${registry:-registry.terraform.io} (terraform's output: $log), so validation cannot run on this machine: run make validate on a machine with registry access, or there run terraform init -backend=false && terraform validate in $stacks_dir/<stack>." >&2
      exit 2
    fi
    echo "validate: terraform init -backend=false failed for stack $name, and not for a download: see $log." >&2
    exit 1
  fi
  if (cd "$work" && terraform validate -no-color) >"$work_root/validate.out" 2>&1; then
    cat "$work_root/validate.out" >>"$log_abs"
    echo "validate: stack $name is valid (log: $log)"
  else
    cat "$work_root/validate.out" >>"$log_abs"
    echo "validate: stack $name is NOT valid; terraform validate says (also in $log):" >&2
    cat "$work_root/validate.out" >&2
    invalid+=("$name")
  fi
done

if ((${#invalid[@]} > 0)); then
  echo "validate: invalid stacks: ${invalid[*]}" >&2
  exit 1
fi
