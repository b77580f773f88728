#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (Debian's
# redis-server and redis-tools: the differential tests compare against a real Redis 7.0;
# moto's S3 server from PyPI for the backup tests, in a venv under target/), builds the
# binaries, then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
moto=target/s3-venv/bin/moto_server
if [ ! -x "$moto" ]; then
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
redis-server --version
if [ ! -x "$moto" ]; then
  echo "installing moto's S3 server into target/s3-venv"
  rm -rf target/s3-venv
  python3 -m venv target/s3-venv
  target/s3-venv/bin/pip install -q 'moto[server]==5.2.5'
fi

# Test binaries find snapkv-server next to them (target/debug), so build it first.
cargo build --locked --workspace --bins
cargo test --locked --workspace
