#!/usr/bin/env bash
# Measures one full NVML sample (every device) with JMH against the stub libnvidia-ml.so.1 the binding tests
# use: builds the stub (gpu-probe/src/test/c/build-stubs.sh) and the benchmark jar, then runs JMH briefly
# (1 fork, 3 warmup + 5 measurement iterations of 1 s), once with GPM on and once off, and prints µs per
# sample and per device for each, and what GPM adds per device; then the same samples timed by the thread's
# CPU time (NvmlSampleCpuTime), which a shared machine's load does not inflate.
# Environment: BUILD_DIR_NAME (default target), STUB_NVML_DEVICE_COUNT (stub fleet size, default 4, max 16).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
select_jdk25
ensure_packages gcc:gcc

build="${BUILD_DIR_NAME:-target}"
devices="${STUB_NVML_DEVICE_COUNT:-4}"
stubs="bench/$build/stubs"
bash gpu-probe/src/test/c/build-stubs.sh "$stubs"
mvn -B -ntp -q -Pbench -Dbuild.dir.name="$build" -Dmaven.test.skip=true -pl bench -am package

out="bench/$build/nvml-sample.txt"
LD_LIBRARY_PATH="$stubs" STUB_NVML_DEVICE_COUNT="$devices" \
  java --enable-native-access=ALL-UNNAMED -jar "bench/$build/gpuwatch-bench.jar" NvmlSampleBenchmark \
  -f 1 -wi 3 -i 5 -w 1s -r 1s | tee "$out"

# JMH rows: Benchmark (gpm) Mode Cnt Score ± Error Units
awk -v devices="$devices" '/NvmlSampleBenchmark.sampleAllDevices/ && /us\/op/ {
  score[$2] = $5
  printf "\nNVML sample, GPM %s: %s us per sample of %d GPUs (± %s), %.2f us per GPU", ($2 == "true" ? "on" : "off"), $5, devices, $7, $5 / devices
}
END {
  if (("true" in score) && ("false" in score)) printf "\nGPM adds %.2f us per GPU per sample\n", (score["true"] - score["false"]) / devices
  else print ""
}' "$out"

LD_LIBRARY_PATH="$stubs" STUB_NVML_DEVICE_COUNT="$devices" \
  java --enable-native-access=ALL-UNNAMED -cp "bench/$build/gpuwatch-bench.jar" dev.gpuwatch.bench.NvmlSampleCpuTime \
  | tee -a "$out"
