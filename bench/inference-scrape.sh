#!/usr/bin/env bash
# Scrape latency of the gpuwatch exporter (8 simulated GPUs) polling 4 model-server targets of about 2,000 series
# each (simulated vLLM servers, 47 models each), next to the same exporter with no model-server target, in one
# run, each uncompressed and with gzip (as Prometheus scrapes). Polls are cached and rendered (and compressed) in the
# background, so a scrape costs little more than writing the cached bytes.
# Prints a markdown table for docs/benchmarks.md ("Exporter scrape with 4 model-server targets").
#
#   bench/inference-scrape.sh                  # defaults: wrk -t2 -c4 -d20s after a 5 s warm-up
#   BUILD_DIR=target-inference DURATION=30s bench/inference-scrape.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
select_jdk25
ensure_packages wrk:wrk curl:curl

build_dir="${BUILD_DIR:-target}"
jar="exporter/$build_dir/gpuwatch-exporter.jar"
testkit_jar="testkit/$build_dir/gpuwatch-testkit.jar" # the simulated model servers
if [ ! -f "$jar" ] || [ ! -f "$testkit_jar" ]; then
  echo "bench: building the exporter and the testkit..." >&2
  mvn -B -q -ntp -DskipTests -Dbuild.dir.name="$build_dir" -pl exporter,testkit -am package
fi

THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-4}" DURATION="${DURATION:-20s}" WARMUP="${WARMUP:-5s}"
MODELS="${MODELS:-47}" BASE_PORT="${BASE_PORT:-18800}"
WITH_PORT="${WITH_PORT:-19446}" WITHOUT_PORT="${WITHOUT_PORT:-19447}"
load_exporter_jvm_options
work=$(mktemp -d)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT


# Four simulated vLLM servers; each model adds 43 series, so 47 models make about 2,000 per target.
{
  echo "model_servers:"
  for i in 1 2 3 4; do
    port=$((BASE_PORT + i))
    "$JAVA_HOME/bin/java" -Xmx64m -cp "$testkit_jar" dev.gpuwatch.testkit.modelserver.SimulatedModelServer \
      --web.listen-address="127.0.0.1:$port" --kind=vllm --models="$MODELS" --model="model-$i" \
      >"$work/sim-$i.log" 2>&1 &
    pids+=("$!")
    printf '  - {name: vllm-%s, type: vllm, url: "http://127.0.0.1:%s"}\n' "$i" "$port"
  done
  echo "model_server_discovery: {enabled: false}"
} >"$work/exporter.yml"
for i in 1 2 3 4; do wait_ready "http://127.0.0.1:$((BASE_PORT + i))/metrics"; done
target_series=$(curl -fsS "http://127.0.0.1:$((BASE_PORT + 1))/metrics" | grep -vc '^#')

start_exporter() { # port [config]
  local args=(--gpu.backend=simulated --gpu.simulated.devices=8 --web.listen-address="127.0.0.1:$1")
  [ -n "${2:-}" ] && args+=(--config.file="$2")
  "$JAVA_HOME/bin/java" "${exporter_jvm_options[@]}" --enable-native-access=ALL-UNNAMED -jar "$jar" "${args[@]}" \
    >"$work/exporter-$1.log" 2>&1 &
  echo "$!"
}
for port in "$WITH_PORT" "$WITHOUT_PORT"; do # a leftover exporter there would be measured instead
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then echo "bench: port $port is in use" >&2; exit 1; fi
done
# start_exporter runs in a command substitution (a subshell): record its pid here, or cleanup would leave it running
with_pid=$(start_exporter "$WITH_PORT" "$work/exporter.yml"); pids+=("$with_pid")
without_pid=$(start_exporter "$WITHOUT_PORT"); pids+=("$without_pid")
wait_ready "http://127.0.0.1:$WITH_PORT/-/ready"
wait_ready "http://127.0.0.1:$WITHOUT_PORT/-/ready"
for _ in $(seq 1 100); do # until all four targets have been polled
  [ "$(curl -fsS "http://127.0.0.1:$WITH_PORT/metrics" | grep -c '^inference_target_up{.*} 1.0$')" = 4 ] && break
  sleep 0.2
done

latency_ms() { # file percentile
  awk -v p="$2" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}' "$1"
}

declare -A rps p50 p90 p99 rss peak bytes series
# Each exporter plain (Prometheus text, identity), then as Prometheus 2.42 asks for it (its Accept header, which
# prefers OpenMetrics, and Accept-Encoding: gzip); wrk does not decompress, so those rows move compressed bytes.
prometheus_accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
for run in with without with-gzip without-gzip; do
  name=${run%-gzip}
  if [ "$name" = with ]; then port=$WITH_PORT pid=$with_pid; else port=$WITHOUT_PORT pid=$without_pid; fi
  url="http://127.0.0.1:$port/metrics"
  headers=()
  [ "$run" != "$name" ] && headers=(-H "Accept: $prometheus_accept" -H "Accept-Encoding: gzip")
  bytes[$run]=$(curl -fsS "${headers[@]}" "$url" | wc -c)
  series[$run]=$(curl -fsS "$url" | grep -vc '^#')
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${headers[@]}" "$url" >/dev/null
  out="$work/wrk-$run.txt"
  wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "${headers[@]}" "$url" >"$out"
  cat "$out" >&2
  rps[$run]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50[$run]=$(latency_ms "$out" 50%); p90[$run]=$(latency_ms "$out" 90%); p99[$run]=$(latency_ms "$out" 99%)
  rss[$run]=$(rss_mib "$pid")
  peak[$run]=$(rss_mib "$pid" VmHWM)
done

echo
echo "wrk --latency -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up), one exporter at a time; 4 simulated vLLM targets of $target_series series each, polled every 5 s; $(nproc) CPUs; $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
echo
echo "| exporter | format, encoding | series | bytes | scrapes/s | p50 ms | p90 ms | p99 ms | RSS MiB after | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for run in with with-gzip without without-gzip; do
  what="8 simulated GPUs, no model-server target"
  [ "${run%-gzip}" = with ] && what="8 simulated GPUs + 4 model-server targets"
  encoding="text, identity"; [ "$run" != "${run%-gzip}" ] && encoding="OpenMetrics, gzip"
  echo "| $what | $encoding | ${series[$run]} | ${bytes[$run]} | ${rps[$run]} | ${p50[$run]} | ${p90[$run]} | ${p99[$run]} | ${rss[$run]} | ${peak[$run]} |"
done

# The module's own share, in-process and without HTTP: collect() of the cached series plus the text rendering.
cat >"$work/CollectCost.java" <<'JAVA'
import dev.gpuwatch.exporter.modelserver.*;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer;
import dev.gpuwatch.probe.simulated.*;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.net.*;
import java.nio.file.Path;
import java.time.*;
import java.util.*;

public class CollectCost {
    public static void main(String[] a) throws Exception {
        List<TargetSettings> targets = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            SimulatedModelServer s = SimulatedModelServer.start(SimulatedModelServer.Kind.VLLM,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), names(i), Scenario.STEADY, InstantSource.system());
            URI u = URI.create("http://127.0.0.1:" + s.port());
            targets.add(new TargetSettings("t" + i, ServerType.VLLM, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(3), Optional.empty(), Map.of(), false, false));
        }
        SimulatedFleet fleet = SimulatedFleet.open(SimulationOptions.defaults());
        InferenceSettings st = new InferenceSettings(targets, new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/proc")),
            new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofSeconds(3), 16L << 20, 10000, false),
            new InferenceSettings.Attribution(true, Optional.empty()));
        try (ModelServers m = ModelServers.open(st, fleet::sample)) {
            Thread.sleep(3000);
            PrometheusTextFormatWriter w = PrometheusTextFormatWriter.create();
            int n = 3000; long[] t = new long[n]; int bytes = 0;
            for (int i = 0; i < n + 500; i++) {
                long s0 = System.nanoTime();
                ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
                w.write(out, m.collector().collect());
                long d = System.nanoTime() - s0;
                if (i >= 500) { t[i - 500] = d; bytes = out.size(); }
            }
            Arrays.sort(t);
            System.out.printf("collect+render of %d bytes: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms%n", bytes, t[n/2]/1e6, t[n*9/10]/1e6, t[n*99/100]/1e6);
            long c0 = System.nanoTime(); for (int i = 0; i < 2000; i++) m.collector().collect(); 
            System.out.printf("collect only: mean %.3f ms%n", (System.nanoTime() - c0) / 2000 / 1e6);
        }
        System.exit(0);
    }
    static List<String> names(int i) { List<String> l = new ArrayList<>(); for (int k = 0; k < 47; k++) l.add("model-" + i + "-" + k); return l; }
}
JAVA
echo
"$JAVA_HOME/bin/java" -Xmx256m -cp "$jar:$testkit_jar" "$work/CollectCost.java" 2>/dev/null | grep -E '^(collect)'
