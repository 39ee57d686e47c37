#!/usr/bin/env bash
# Installs the external validators the test suite uses, when this machine can:
# qpdf + poppler-utils (PDF checks), chromium (e2e), and npm's gltf-validator (GLB checks).
# Tests that need a missing tool skip with a message; CI (.ci/run) requires them.
set -u
cd "$(dirname "$0")/.."
need_apt=()
command -v qpdf >/dev/null || need_apt+=(qpdf)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing ${need_apt[*]} (apt)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/dev/null 2>&1 \
    || echo "warning: apt-get install ${need_apt[*]} failed; those tests will skip"
fi
if command -v npm >/dev/null && [ -f tools/node/package.json ] && [ ! -d tools/node/node_modules/gltf-validator ]; then
  echo "installing npm tools (gltf-validator)"
  (cd tools/node && npm install --no-audit --no-fund --silent >/dev/null 2>&1) \
    || echo "warning: npm install failed; GLB validator test will skip"
fi
exit 0
