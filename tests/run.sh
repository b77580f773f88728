#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian's
# redis-server and redis-tools: the differential tests compare against a real Redis 7.0),
# builds the binaries, then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
redis-server --version

# Test binaries find snapkv-server next to them (target/debug), so build it first.
cargo build --locked --workspace --bins
cargo test --locked --workspace
