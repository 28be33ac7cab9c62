# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Each installs what it needs (node_modules from the lock file, checkov in .venv).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# cdktf and terraform phone home unless told not to; this machine has no such network.
export CHECKPOINT_DISABLE := 1
# No ~/.terraformrc is needed; an empty CLI config keeps terraform from warning about it.
export TF_CLI_CONFIG_FILE ?= /dev/null

NPM_STAMP := node_modules/.package-lock.json
VENV := .venv
CHECKOV := $(VENV)/bin/checkov
SOURCES := $(shell find main.ts config constructs stacks lambda-src -name '*.ts' 2>/dev/null) cdktf.json package-lock.json

.PHONY: help install synth demo test typecheck lint unit checkov clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(CHECKOV): requirements-checkov.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

install: $(NPM_STAMP) $(CHECKOV) ## Install node_modules (npm ci) and checkov (.venv)

cdktf.out/stacks/caller/cdk.tf.json: $(NPM_STAMP) $(SOURCES)
	npx cdktf synth
	@test -f cdktf.out/stacks/callee/cdk.tf.json && test -f cdktf.out/stacks/caller/cdk.tf.json

synth: cdktf.out/stacks/caller/cdk.tf.json ## Synthesize all stacks into cdktf.out/ with the cdktf CLI

demo: synth ## Synthesize and show, per account, what would be deployed
	npx tsx scripts/describe-stacks.ts cdktf.out

typecheck: $(NPM_STAMP) ## tsc --noEmit, strict
	npx tsc --noEmit

lint: $(NPM_STAMP) ## eslint
	npx eslint --max-warnings 0 .

unit: $(NPM_STAMP) ## jest: config, constructs, stacks, handlers
	@mkdir -p build
	npx jest --json --outputFile=build/jest-results.json
	@node -e 'const r=require("./build/jest-results.json"); if (r.numTotalTests === 0) { console.error("jest ran no test"); process.exit(1); } console.log(`jest: $${r.numPassedTests} passed, $${r.numFailedTests} failed`)'

checkov: synth $(CHECKOV) ## checkov on every synthesized stack; zero failed checks allowed
	scripts/checkov.sh $(CHECKOV) cdktf.out/stacks

test: typecheck lint unit checkov ## Everything CI runs: types, lint, jest, synth, checkov

clean: ## Remove generated files (keeps node_modules and .venv)
	rm -rf cdktf.out build
