# Shared by the bench scripts that start the exporter or a peer and measure it. Sourced after scripts/lib.sh.

# The exporter's shipped JVM flags (exporter/jvm.options, one per line) into the array exporter_jvm_options,
# and the allocator setting that goes with them.
load_exporter_jvm_options() {
  mapfile -t exporter_jvm_options < <(grep -v '^#' exporter/jvm.options)
  export MALLOC_ARENA_MAX=2
}

# wait_ready URL: until URL answers 2xx (30 s at most).
wait_ready() {
  for _ in $(seq 1 150); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "bench: $1 did not answer" >&2; return 1
}

# rss_mib PID [VmRSS|VmHWM]: the process's resident (or peak resident) memory in MiB.
rss_mib() { awk -v k="${2:-VmRSS}:" '$1 == k {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# distribution_home: builds the distribution when it is missing or older than the jars or the JVM flags
# (./scripts/package --no-images) and prints its folder, where bin/gpuwatch-exporter and bin/gpuwatch-receiver
# run each app as users run it: the jlink'd runtime, the shipped jvm.options, MALLOC_ARENA_MAX=2.
distribution_home() {
  local home="dist/build/gpuwatch-$(project_version)"
  if [ ! -x "$home/bin/gpuwatch-exporter" ] \
      || [ -n "$(find exporter/jvm.options webhook-receiver/jvm.options deploy/launcher.sh exporter/target/gpuwatch-exporter.jar webhook-receiver/target/gpuwatch-receiver.jar -newer "$home/bin/gpuwatch-exporter" 2>/dev/null)" ]; then
    echo "bench: building the distribution (scripts/package --no-images)..." >&2
    ./scripts/package --no-images >&2
  fi
  echo "$home"
}

# wrk_summary WRK_OUTPUT_FILE: "requests/s p99 non-2xx" from a `wrk --latency` run's output.
wrk_summary() {
  awk '/Requests\/sec/ {rps=$2} $1 == "99%" {p99=$2} /Non-2xx/ {bad=$NF} END {print rps, p99, (bad == "" ? 0 : bad)}' "$1"
}

# prom_value URL NAME{LABELS}: the value of one series on a /metrics page (the sum, when it appears more than once).
prom_value() {
  curl -fsS "$1" | awk -v m="$2" '$1 == m {s += $2; n++} END {if (n) printf "%.0f", s; else print 0}'
}
