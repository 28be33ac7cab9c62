# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Each installs what it needs (node_modules from the lock file, checkov in .venv).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# cdktf and terraform phone home unless told not to; this machine has no such network.
export CHECKPOINT_DISABLE := 1
# No ~/.terraformrc is needed: without one, or when the environment names one that does not exist (terraform then
# warns on every run; `?=` would keep such a name), an empty CLI configuration is used.
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
export TF_CLI_CONFIG_FILE := /dev/null
endif

# Node.js 22 for every target: the node on PATH when it is Node 22 >= 22.19 (the functions run on nodejs22.x, and
# cdktn-cli needs 22.19), else the pinned Node.js 22 of toolchain/node, installed from the npm registry on first use.
ifeq ($(shell scripts/node-toolchain.sh host-ok),yes)
NODE_STAMP :=
else
NODE_STAMP := toolchain/node/.installed
export PATH := $(CURDIR)/toolchain/node/bin:$(PATH)
# The stamp records which lock and host the install is for; a stale or broken one is installed again.
ifneq ($(shell scripts/node-toolchain.sh installed-ok),yes)
.PHONY: $(NODE_STAMP)
endif
$(NODE_STAMP): toolchain/node/package.json toolchain/node/package-lock.json
	@scripts/node-toolchain.sh install
endif

NPM_STAMP := node_modules/.package-lock.json
VENV := .venv
# checkov and the AWS CLI, pinned in requirements-tools.txt.
TOOLS_STAMP := $(VENV)/.installed
SOURCES := $(shell find main.ts config constructs stacks lambda-src -name '*.ts' 2>/dev/null) cdktf.json package-lock.json
# The opt-in idempotent callee's stacks: checkov scans them, and the soak runs on them.
IDEMPOTENT_EXAMPLE := examples/idempotent-callee.json
IDEMPOTENT_OUT := build/synth/idempotent-callee

.PHONY: help install synth demo local describe verify readme-proof bench soak test typecheck lint unit checkov clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(NPM_STAMP): package.json package-lock.json $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

$(TOOLS_STAMP): requirements-tools.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	@touch $@

install: $(NPM_STAMP) $(TOOLS_STAMP) ## Install node_modules (npm ci) and the Python tools (checkov, AWS CLI) into .venv

# manifest.json: written last by every synth, whichever callers (stacks caller or caller-<name>) the configuration has.
cdktf.out/manifest.json: $(NPM_STAMP) $(SOURCES)
	npx cdktf synth
	@test -f cdktf.out/stacks/callee/cdk.tf.json && ls cdktf.out/stacks/caller*/cdk.tf.json >/dev/null

synth: cdktf.out/manifest.json ## Synthesize all stacks into cdktf.out/ with the cdktf CLI

# exec: the runtime replaces the recipe's shell, so a signal to make's child reaches it directly,
# and it notices (and stops) when make itself is killed.
demo: synth ## The chain on the local two-account runtime, then three refusals (exit 0 = all as expected)
	exec node --import tsx scripts/demo.ts

local: synth ## Start the local runtime in the foreground and write .local-aws/{config,credentials}
	exec node --import tsx local/cli.ts $(LOCAL_ARGS)

describe: synth ## Show, per account, every resource that would be deployed
	npx tsx scripts/describe-stacks.ts cdktf.out

verify: synth ## Access proof of cdktf.out: who can assume, invoke, read, write, use and administer what (exit 1 = beyond the intended path)
	node --import tsx verify/cli.ts --dir cdktf.out

readme-proof: synth ## Rewrite the README's access matrix and diagram from the current stacks
	node --import tsx scripts/update-readme-proof.ts

bench: synth ## Measure synth, unit tests, cold start, credential reuse, latency, overhead and a soak; writes bench/results.json
	node --import tsx bench/bench.ts

soak: $(IDEMPOTENT_OUT)/manifest.json $(TOOLS_STAMP) ## 10,000 invocations at concurrency 32 on the local runtime, idempotent callee: fails if any is lost or any operation runs twice (build/soak-results.json)
	node --import tsx bench/soak.ts

typecheck: $(NPM_STAMP) ## tsc --noEmit, strict
	npx tsc --noEmit

lint: $(NPM_STAMP) ## eslint, and the Prettier check (npx prettier --write "**/*.{ts,js,mjs,cjs}" fixes it)
	npx eslint --max-warnings 0 .
	npx prettier --check --log-level warn "**/*.{ts,js,mjs,cjs}"

unit: $(NPM_STAMP) $(TOOLS_STAMP) ## jest: config, constructs, stacks, handlers, local runtime (end to end)
	@mkdir -p build
	npx jest --json --outputFile=build/jest-results.json
	@node -e 'const r=require("./build/jest-results.json"); if (r.numTotalTests === 0) { console.error("jest ran no test"); process.exit(1); } console.log(`jest: $${r.numPassedTests} passed, $${r.numFailedTests} failed`)'

# The opt-in idempotent callee (DynamoDB table, gateway endpoint) is in no default stack: checkov scans it from its own synth.
# After cdktf.out (order only): both synths bundle the functions into build/<side>, so they never run at once under make -j.
$(IDEMPOTENT_OUT)/manifest.json: $(NPM_STAMP) $(SOURCES) $(IDEMPOTENT_EXAMPLE) | cdktf.out/manifest.json
	@mkdir -p $(dir $(IDEMPOTENT_OUT))
	XACCT_CONFIG_FILE=$(IDEMPOTENT_EXAMPLE) npx cdktf synth --output $(IDEMPOTENT_OUT)
	@test -f $(IDEMPOTENT_OUT)/stacks/callee/cdk.tf.json && ls $(IDEMPOTENT_OUT)/stacks/caller*/cdk.tf.json >/dev/null

# Both scans run, and either failing fails the target; each writes its own report, and test-summary.ts counts both.
checkov: synth $(IDEMPOTENT_OUT)/manifest.json $(TOOLS_STAMP) ## checkov on every synthesized stack (default and idempotent-callee configs); zero failed checks allowed
	status=0; \
	scripts/checkov.sh $(VENV)/bin/checkov cdktf.out/stacks build/checkov.json || status=1; \
	scripts/checkov.sh $(VENV)/bin/checkov $(IDEMPOTENT_OUT)/stacks build/checkov-idempotent-callee.json || status=1; \
	exit $$status

.PHONY: validate
validate: synth ## terraform init -backend=false and validate on every synthesized stack (exit 2 = providers cannot be downloaded here)
	scripts/validate.sh cdktf.out/stacks

test: typecheck lint unit checkov verify soak test-cdktn ## Everything CI runs: types, lint, jest, synth, checkov, access proof, soak, CDK Terrain
	@echo "Summary:"
	@node --import tsx scripts/test-summary.ts

clean: ## Remove generated files (keeps node_modules and .venv)
	rm -rf cdktf.out build

.PHONY: test-cdktn
test-cdktn: synth $(TOOLS_STAMP) ## The project migrated to CDK Terrain in build/cdktn: cdktn synth vs cdktf.out, stack tests, tsc, checkov, access proof
	node --import tsx scripts/cdktn/test-cdktn.ts

# Never run by CI: it rewrites the working copy it runs in (the script refuses when CI is set).
.PHONY: migrate-cdktn
migrate-cdktn: | $(NODE_STAMP) ## Migrate this working copy to CDK Terrain (refuses uncommitted changes), then make test
	@test -e node_modules/tsx/package.json || $(MAKE) --no-print-directory $(NPM_STAMP)
	node --import tsx scripts/cdktn/migrate-cdktn.ts
	$(MAKE) test
