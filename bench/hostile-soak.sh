#!/usr/bin/env bash
# Hostile and healthy model servers polled together by one exporter running with the shipped JVM flags
# (exporter/jvm.options: a 24 MiB heap) for a bounded soak. Checks that every hostile target is down with its
# reason (200,000 series, 200 MB chunked, a gzip bomb, a 200 KB label, a trickle, 15 MB of tiny JSON tokens), that
# the healthy one and a large but legitimate gzip body are up, that readiness holds, that nothing
# ran out of memory, and prints the heap after a full GC at each sample (flat means bounded).
# Prints markdown for docs/benchmarks.md ("Hostile model servers under the shipped flags"); exit 1 on any miss.
#
#   bench/hostile-soak.sh                        # defaults: a 120 s soak, polls every 5 s (the default), a sample every 10 s
#   DURATION=600 POLL_INTERVAL=1s bench/hostile-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
select_jdk25
ensure_packages curl:curl

build_dir="${BUILD_DIR:-target}"
jar="exporter/$build_dir/gpuwatch-exporter.jar"
testkit_jar="testkit/$build_dir/gpuwatch-testkit.jar" # the healthy simulated vLLM server
if [ ! -f "$jar" ] || [ ! -f "$testkit_jar" ]; then
  echo "bench: building the exporter and the testkit..." >&2
  mvn -B -q -ntp -DskipTests -Dbuild.dir.name="$build_dir" -pl exporter,testkit -am package
fi

DURATION="${DURATION:-120}" SAMPLE_EVERY="${SAMPLE_EVERY:-10}" POLL_INTERVAL="${POLL_INTERVAL:-5s}"
HOSTILE_PORT="${HOSTILE_PORT:-18870}" HEALTHY_PORT="${HEALTHY_PORT:-18871}" EXPORTER_PORT="${EXPORTER_PORT:-19448}"
load_exporter_jvm_options
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if curl -fsS -o /dev/null "http://127.0.0.1:$EXPORTER_PORT/" 2>/dev/null; then
  echo "bench: port $EXPORTER_PORT is in use" >&2; exit 1
fi

"$JAVA_HOME/bin/java" -Xmx512m bench/hostile-targets/HostileTargets.java "$HOSTILE_PORT" >"$work/hostile.log" 2>&1 &
pids+=("$!")
"$JAVA_HOME/bin/java" -Xmx64m -cp "$testkit_jar" dev.gpuwatch.testkit.modelserver.SimulatedModelServer \
  --web.listen-address="127.0.0.1:$HEALTHY_PORT" --kind=vllm --models=4 --model=healthy >"$work/healthy.log" 2>&1 &
pids+=("$!")
wait_ready "http://127.0.0.1:$HEALTHY_PORT/metrics"
wait_ready "http://127.0.0.1:$HOSTILE_PORT/label" # the hostile bodies are built before it listens

# name, path on the hostile server, what the exporter must say of it
expected=(
  "many:/many:too_many_series"
  "huge:/huge:too_large"
  "gzip:/gzip:up"
  "bomb:/bomb:too_large"
  "label:/label:label_too_long"
  "trickle:/trickle:timeout"
)
{
  echo "model_servers:"
  for e in "${expected[@]}"; do
    IFS=: read -r name path _ <<<"$e"
    printf '  - {name: %s, type: vllm, url: "http://127.0.0.1:%s", metrics_url: "http://127.0.0.1:%s%s"}\n' \
      "$name" "$HOSTILE_PORT" "$HOSTILE_PORT" "$path"
  done
  printf '  - {name: json, type: ollama, url: "http://127.0.0.1:%s"}\n' "$HOSTILE_PORT" # its /api/ps
  printf '  - {name: healthy, type: vllm, url: "http://127.0.0.1:%s"}\n' "$HEALTHY_PORT"
  echo "model_server_discovery: {enabled: false, poll_interval: $POLL_INTERVAL, timeout: 3s}"
} >"$work/exporter.yml"
expected+=("json:/api/ps:too_large" "healthy:-:up")

"$JAVA_HOME/bin/java" "${exporter_jvm_options[@]}" --enable-native-access=ALL-UNNAMED -jar "$jar" \
  --gpu.backend=simulated --gpu.simulated.devices=8 --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
  --config.file="$work/exporter.yml" >"$work/exporter.log" 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
wait_ready "http://127.0.0.1:$EXPORTER_PORT/-/ready"

heap_after_gc_kib() { # pid: used heap right after a full collection (the live set), in KiB
  "$JAVA_HOME/bin/jcmd" "$1" GC.run >/dev/null
  "$JAVA_HOME/bin/jcmd" "$1" GC.heap_info | awk '/^(DefNew|Tenured|def new generation|tenured generation) +total/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i+1); sub(/K,?$/, "", v); s += v}} END {print s}'
}
poll_count() { grep -c '^request ' "$work/hostile.log" || true; } # polls the hostile targets have answered

samples=()
start=$(date +%s)
while :; do
  elapsed=$(( $(date +%s) - start ))
  heap=$(heap_after_gc_kib "$exporter_pid")
  samples+=("| $elapsed | $(awk -v k="$heap" 'BEGIN {printf "%.1f", k / 1024}') | $(rss_mib "$exporter_pid") | $(poll_count) |")
  [ "$elapsed" -ge "$DURATION" ] && break
  sleep "$SAMPLE_EVERY"
done

metrics=$(curl -fsS "http://127.0.0.1:$EXPORTER_PORT/metrics")
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EXPORTER_PORT/-/ready")
failed=0
rows=()
for e in "${expected[@]}"; do
  IFS=: read -r name _ want <<<"$e"
  up=$(awk -v t="target=\"$name\"" 'index($0, "inference_target_up{") == 1 && index($0, t) {print $2}' <<<"$metrics")
  reason=$(awk -v t="target=\"$name\"" 'index($0, "inference_target_last_error{") == 1 && index($0, t) {match($0, /reason="[^"]*"/); print substr($0, RSTART + 8, RLENGTH - 9)}' <<<"$metrics")
  got=${reason:-up}
  [ "$up" = "1.0" ] && [ -n "$reason" ] && got="up and $reason"
  # every reason the log gave this target during the soak, with how often (a reason is logged when it changes)
  seen=$({ grep -o "model server $name is down ([a-z_]*)" "$work/exporter.log" || true; } | sed 's/.*(\(.*\))/\1/' | sort | uniq -c |
    awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
  ups=$(grep -c "model server $name is up again" "$work/exporter.log" || true)
  verdict=ok
  if [ "$want" = up ]; then [ "$up" = "1.0" ] && [ -z "$reason" ] || verdict=MISS
  else # down at the end, the expected reason among those logged, never up nor internal_error on the way
    [ "$up" = "0.0" ] && [ "$ups" = 0 ] && grep -q "model server $name is down ($want)" "$work/exporter.log" ||
      verdict=MISS
    case "$seen" in *internal_error*) verdict=MISS ;; esac
  fi
  [ "$verdict" = ok ] || failed=1
  rows+=("| $name | $want | up ${up:-absent}, ${got} | ${seen:-none} | $verdict |")
done
oom=$(grep -c 'OutOfMemoryError' "$work/exporter.log" || true)
[ "$oom" = 0 ] || failed=1
[ "$ready" = 200 ] || failed=1

echo
echo "$DURATION s soak, polls every $POLL_INTERVAL (timeout 3s), exporter with exporter/jvm.options ($(grep -h '^-Xmx' exporter/jvm.options)); $(nproc) CPUs; $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
echo
echo "| target | expected | at the end | reasons logged during the soak | |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "OutOfMemoryError in the exporter's log: $oom; /-/ready: $ready; peak RSS $(rss_mib "$exporter_pid" VmHWM) MiB"
echo
echo "| seconds | heap after full GC MiB | RSS MiB | hostile polls so far |"
echo "|---|---|---|---|"
printf '%s\n' "${samples[@]}"
if [ "$failed" != 0 ]; then
  echo "bench: the exporter did not hold; its log:" >&2
  tail -n 40 "$work/exporter.log" >&2
  exit 1
fi
