#!/usr/bin/env bash
# Scrape latency, throughput and resident memory of the gpuwatch exporter (8 simulated GPUs) side by side with
# Debian's prometheus-node-exporter, in one run on this machine. The exporter runs as users run it: the
# distribution's bin/gpuwatch-exporter (jlink'd runtime, exporter/jvm.options; built by scripts/package when
# missing). Each is measured alone (the other idles) with the same wrk loads after a warm-up: throughput and
# latency with CONNECTIONS concurrent connections, and the latency of one connection at a time (no queueing).
# Prints a markdown table for docs/benchmarks.md.
#
#   bench/exporter-scrape.sh                 # defaults: wrk -t2 -c4 -d15s after a 5 s warm-up
#   DURATION=30s CONNECTIONS=16 bench/exporter-scrape.sh
#   GPUWATCH_JAVA_OPTS=-XX:+UseParallelGC bench/exporter-scrape.sh   # a flag to try, after the shipped ones
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
select_jdk25
ensure_packages wrk:wrk prometheus-node-exporter:prometheus-node-exporter curl:curl

home=$(distribution_home)

THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-4}" DURATION="${DURATION:-15s}" WARMUP="${WARMUP:-5s}"
EXPORTER_PORT="${EXPORTER_PORT:-19445}" NODE_PORT="${NODE_PORT:-19100}"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$home/bin/gpuwatch-exporter" \
  --gpu.backend=simulated --gpu.simulated.devices=8 --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
  >/tmp/gpuwatch-bench-exporter.log 2>&1 &
exporter_pid=$!; pids+=("$exporter_pid")
prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" >/tmp/gpuwatch-bench-node.log 2>&1 &
node_pid=$!; pids+=("$node_pid")

wait_ready "http://127.0.0.1:$EXPORTER_PORT/-/ready"
wait_ready "http://127.0.0.1:$NODE_PORT/metrics"

# wrk's "50%   1.23ms" lines, normalised to milliseconds
latency_ms() { # file percentile
  awk -v p="$2" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}' "$1"
}

declare -A rps p50 p90 p99 single50 single99 rss hwm bytes series
for name in gpuwatch node_exporter; do
  if [ "$name" = gpuwatch ]; then port=$EXPORTER_PORT pid=$exporter_pid; else port=$NODE_PORT pid=$node_pid; fi
  url="http://127.0.0.1:$port/metrics"
  body=$(curl -fsS "$url")
  bytes[$name]=$(printf '%s' "$body" | wc -c)
  series[$name]=$(printf '%s\n' "$body" | grep -vc '^#')
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
  out=$(mktemp)
  wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$url" >"$out"
  cat "$out" >&2
  rps[$name]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50[$name]=$(latency_ms "$out" 50%); p90[$name]=$(latency_ms "$out" 90%); p99[$name]=$(latency_ms "$out" 99%)
  wrk --latency -t1 -c1 -d"$DURATION" "$url" >"$out"
  cat "$out" >&2
  single50[$name]=$(latency_ms "$out" 50%); single99[$name]=$(latency_ms "$out" 99%)
  rss[$name]=$(rss_mib "$pid"); hwm[$name]=$(rss_mib "$pid" VmHWM)
  rm -f "$out"
done

ratio=$(awk -v a="${rps[gpuwatch]}" -v b="${rps[node_exporter]}" 'BEGIN {printf "%.1f", a/b}')
echo
echo "wrk --latency -t$THREADS -c$CONNECTIONS -d$DURATION, then -t1 -c1 -d$DURATION (after a $WARMUP warm-up), one target at a time; $(nproc) CPUs; $home/bin/gpuwatch-exporter on $("$home/runtime/bin/java" -version 2>&1 | head -n1)${GPUWATCH_JAVA_OPTS:+ with GPUWATCH_JAVA_OPTS=$GPUWATCH_JAVA_OPTS}; node_exporter $(prometheus-node-exporter --version 2>&1 | head -n1 | awk '{print $3}')"
echo
echo "| target | series | bytes | scrapes/s (c$CONNECTIONS) | p50 ms (c$CONNECTIONS) | p90 ms (c$CONNECTIONS) | p99 ms (c$CONNECTIONS) | p50 ms (c1) | p99 ms (c1) | RSS MiB after | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for name in gpuwatch node_exporter; do
  label=$name; [ "$name" = gpuwatch ] && label="gpuwatch exporter (8 simulated GPUs)"
  echo "| $label | ${series[$name]} | ${bytes[$name]} | ${rps[$name]} | ${p50[$name]} | ${p90[$name]} | ${p99[$name]} | ${single50[$name]} | ${single99[$name]} | ${rss[$name]} | ${hwm[$name]} |"
done
echo
echo "gpuwatch/node_exporter scrapes per second: ${ratio}x; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
