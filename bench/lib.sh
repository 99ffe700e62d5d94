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
