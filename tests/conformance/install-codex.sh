#!/usr/bin/env bash
# Installs the real Codex CLI 0.171.0 (its Linux binary ships inside the npm package) for the
# conformance tests, and prints the binary's path. Needs node and npm; prints a note and exits 0
# without them, so the tests that need Codex skip, saying why.
set -euo pipefail
version=0.171.0
dir="${CODEX_INSTALL_DIR:-$HOME/.cache/codex-$version}"
bin="$dir/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
if [ ! -x "$bin" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "note: npm not found; the tests that need the real Codex will skip" >&2
    exit 0
  fi
  mkdir -p "$dir"
  if ! npm install --prefix "$dir" --no-audit --no-fund --silent "@openai/codex@$version" >&2; then
    echo "note: npm could not install @openai/codex@$version; the tests that need it will skip" >&2
    exit 0
  fi
fi
"$bin" --version >&2
echo "$bin"
