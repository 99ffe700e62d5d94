#!/usr/bin/env bash
# Measures one full NVML sample (every device) with JMH against the stub libnvidia-ml.so.1 the binding tests
# use: builds the stub (gpu-probe/src/test/c/build-stubs.sh) and the benchmark jar, then runs JMH briefly
# (1 fork, 3 warmup + 5 measurement iterations of 1 s) and prints µs per sample and per device.
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

awk -v devices="$devices" '/NvmlSampleBenchmark.sampleAllDevices/ && /us\/op/ {
  printf "\nNVML sample: %s us per sample of %d GPUs (± %s), %.2f us per GPU\n", $4, devices, $6, $4 / devices
}' "$out"
