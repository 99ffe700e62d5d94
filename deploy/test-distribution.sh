#!/usr/bin/env bash
# Smoke test of the unpacked distribution (what the tarball holds), as a user runs it: bin/gpuwatch-exporter with
# simulated GPUs must serve gpu_up on /metrics, bin/gpuwatch-receiver must serve /healthz and a bundled runbook
# (read from its jar through the jlink'd runtime: a JDK module jdeps cannot see, such as jdk.zipfs, left out of the
# runtime fails here and not in a user's first start). Called by scripts/package after writing the tarball.
#   deploy/test-distribution.sh DIR      # DIR: the distribution's folder (dist/build/gpuwatch-<version>)
set -euo pipefail
cd "$(dirname "$0")/.."

home=$1
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start APP ARG...: bin/gpuwatch-APP with ARGs in the background
start() {
  local app=$1; shift
  "$home/bin/gpuwatch-$app" "$@" > "$work/$app.log" 2>&1 &
  pid=$! running=$app
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# serves PORT URL-PATH EXPECTED-TEXT: the running app answers PATH with EXPECTED-TEXT (30 s to start)
serves() {
  local port=$1 path=$2 expected=$3 body=
  for _ in $(seq 1 150); do
    if body=$(curl -fsS "http://127.0.0.1:$port$path" 2>/dev/null); then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if ! grep -q "$expected" <<<"$body"; then
    echo "distribution test: bin/gpuwatch-$running did not serve $path with '$expected'; its output:" >&2
    cat "$work/$running.log" >&2
    return 1
  fi
  echo "distribution test: bin/gpuwatch-$running served $path" >&2
}

start exporter --gpu.backend=simulated --web.listen-address=127.0.0.1:19645
serves 19645 /metrics '^gpu_up{'
stop
start receiver --web.listen-address=127.0.0.1:19695 --storage.path="$work/receiver.db"
serves 19695 /healthz .
serves 19695 /runbooks/gpufelloffthebus '<h1'
stop
