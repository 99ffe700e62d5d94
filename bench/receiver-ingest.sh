#!/usr/bin/env bash
# Receiver ingest vs Alertmanager, on this machine, over loopback:
#  1. notifications/s acknowledged durably by the receiver and p99 acknowledge latency (wrk, 10 alerts per
#     notification, a new groupKey per request so nothing is a duplicate), with the dispatcher delivering
#     everything to the log sink at the same time;
#  2. the same alerts into a real Alertmanager's POST /api/v2/alerts (in memory, no fsync);
#  3. end-to-end delivery latency (receipt to delivered) to the local Slack server at a calm rate.
# Usage: bench/receiver-ingest.sh [seconds per wrk run, default 30] [connections, default 32]
# The receiver runs as users run it: the distribution's bin/gpuwatch-receiver (jlink'd runtime,
# webhook-receiver/jvm.options; built by scripts/package when missing).
# Environment: BUILD_DIR (the module build directory of the testkit, default target); GPUWATCH_JAVA_OPTS (extra
# JVM flags after those in webhook-receiver/jvm.options, e.g. -Xlog:gc:file=gc.log); RECEIVER_ONLY=1 skips
# Alertmanager and the end-to-end part (for quick before/after runs of the receiver alone); KEEP_WORK=1 keeps
# the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
select_jdk25
ensure_packages wrk:wrk prometheus-alertmanager:prometheus-alertmanager

DURATION="${1:-30}"
CONNECTIONS="${2:-32}"
BUILD_DIR="${BUILD_DIR:-target}"
TESTKIT_JAR="testkit/$BUILD_DIR/gpuwatch-testkit.jar"
RECEIVER_PORT=19095
SLACK_PORT=19101
AM_PORT=19093
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "building $TESTKIT_JAR and the distribution ..." >&2
mvn -B -q -ntp -Dbuild.dir.name="$BUILD_DIR" -Dmaven.test.skip=true -pl testkit -am package >&2
HOME_DIST=$(distribution_home)

metric() { # name-with-labels
  prom_value "http://127.0.0.1:$RECEIVER_PORT/metrics" "$1"
}
wrk_run() { # script url -> "requests/s p99 non-2xx"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$1" "$2" > "$WORK/wrk.out"
  cat "$WORK/wrk.out" >&2
  wrk_summary "$WORK/wrk.out"
}

# --- the local Slack server (the testkit's, as the channels' tests use it) and the receiver -------------
"$JAVA_HOME/bin/java" -cp "$TESTKIT_JAR" dev.gpuwatch.testkit.Sandbox --slack-port "$SLACK_PORT" --pagerduty-port 0 \
  > "$WORK/sandbox.out" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$SLACK_PORT/"
printf '%s\n' "xoxb-local-sandbox-token" > "$WORK/slack-token"
cat > "$WORK/receiver.yml" <<YAML
route:
  receiver: bench-log
  routes:
    - matchers: ['bench="e2e"']
      receiver: bench-slack
dispatch:
  rate_limits: {slack: 0}   # the local server does not rate limit: measure the receiver, not Slack's limit
receivers:
  - name: bench-log
    log_configs: [{file: $WORK/deliveries.log}]
  - name: bench-slack
    slack_configs:
      - bot_token_file: $WORK/slack-token
        channel: alerts
        api_url: http://127.0.0.1:$SLACK_PORT/api/
YAML
"$HOME_DIST/bin/gpuwatch-receiver" --web.listen-address="127.0.0.1:$RECEIVER_PORT" --config.file="$WORK/receiver.yml" \
  --storage.path="$WORK/receiver.db" --log.level=warn > "$WORK/receiver.out" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$RECEIVER_PORT/readyz"

echo "warming up the receiver (10 s, not counted) ..." >&2
wrk -t2 -c"$CONNECTIONS" -d10s -s bench/receiver/webhook.lua "http://127.0.0.1:$RECEIVER_PORT/api/v1/alerts" >/dev/null
before=$(metric 'gpuwatch_receiver_notifications_total{outcome="accepted"}')
read -r r_rps r_p99 r_bad < <(wrk_run bench/receiver/webhook.lua "http://127.0.0.1:$RECEIVER_PORT/api/v1/alerts")
after=$(metric 'gpuwatch_receiver_notifications_total{outcome="accepted"}')
unavailable=$(metric 'gpuwatch_receiver_notifications_total{outcome="unavailable"}')
r_accepted=$(awk -v a="$after" -v b="$before" -v d="$DURATION" 'BEGIN {printf "%.0f", (a - b) / d}')
r_rss=$(awk '/^VmRSS|^VmHWM/ {printf "%s %.0f MiB ", $1, $2 / 1024}' "/proc/${PIDS[1]}/status")
r_wal=$(stat -c %s "$WORK/receiver.db-wal" 2>/dev/null | awk '{printf "%.1f MiB", $1 / 1048576}')
if [ "${RECEIVER_ONLY:-}" = 1 ]; then
  cat <<TABLE

| receiver POST /api/v1/alerts (wrk -t2 -c$CONNECTIONS -d${DURATION}s) | requests/s | p99 latency | non-2xx |
|---|---|---|---|
| durable: SQLite WAL, synchronous=FULL | $r_rps ($r_accepted accepted/s by the metric) | $r_p99 | $r_bad (503 overload: $unavailable in total) |

Receiver memory after the load: $r_rss; WAL file: ${r_wal:-none}.
TABLE
  exit 0
fi

# --- end to end to the local Slack server, at a calm 20 notifications/s --------------------------------
# (while the log sink may still be working through the backlog the wrk run left)
e2e_post() { # groupKey suffix
  curl -fsS -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$RECEIVER_PORT/api/v1/alerts" --data-binary \
    "{\"version\":\"4\",\"groupKey\":\"e2e-$1\",\"status\":\"firing\",\"receiver\":\"gpuwatch\",\"groupLabels\":{\"alertname\":\"E2E$1\"},\"commonLabels\":{\"alertname\":\"E2E$1\",\"bench\":\"e2e\"},\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"E2E$1\",\"bench\":\"e2e\"},\"annotations\":{},\"startsAt\":\"2025-06-01T12:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"\",\"fingerprint\":\"e2e$1\"}]}"
}
slack_le() { # bucket bound -> deliveries so far within it
  metric "gpuwatch_receiver_delivery_latency_seconds_bucket{integration=\"slack\",le=\"$1\"}"
}
# warm-up, not counted: the first messages through a fresh Slack client pay for class loading and the
# connection (a few hundred ms once per process), which is not the steady state this measures
for i in $(seq 1 10); do e2e_post "warmup-$i"; sleep 0.05; done
sleep 1
base_total=$(metric 'gpuwatch_receiver_delivery_latency_seconds_count{integration="slack"}')
base_25=$(slack_le 0.025); base_50=$(slack_le 0.05); base_100=$(slack_le 0.1)
for i in $(seq 1 200); do e2e_post "$i"; sleep 0.05; done
sleep 2
since() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a - b}'; }
slack_total=$(since "$(metric 'gpuwatch_receiver_delivery_latency_seconds_count{integration="slack"}')" "$base_total")
slack_25ms=$(since "$(slack_le 0.025)" "$base_25")
slack_50ms=$(since "$(slack_le 0.05)" "$base_50")
slack_100ms=$(since "$(slack_le 0.1)" "$base_100")
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true

# --- Alertmanager's own ingest, same machine, same alerts ----------------------------------------------
cat > "$WORK/alertmanager.yml" <<YAML
route:
  receiver: none
  group_by: [alertname, instance]
receivers:
  - name: none
YAML
/usr/bin/prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= > "$WORK/am.out" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$AM_PORT/-/ready"
wrk -t2 -c"$CONNECTIONS" -d10s -s bench/receiver/alertmanager.lua "http://127.0.0.1:$AM_PORT/api/v2/alerts" >/dev/null
read -r a_rps a_p99 a_bad < <(wrk_run bench/receiver/alertmanager.lua "http://127.0.0.1:$AM_PORT/api/v2/alerts")

# --- the disk's own cost of durability: 1000 synchronous 4 KiB writes (write + fdatasync each) -------
dsync=$(dd if=/dev/zero of="$WORK/dsync.probe" bs=4k count=1000 oflag=dsync 2>&1 | awk '/copied/ {print $(NF-3)}')
dsync_ms=$(awk -v s="$dsync" 'BEGIN {printf "%.3f", s}')

cat <<TABLE

| what (10 alerts per request, wrk -t2 -c$CONNECTIONS -d${DURATION}s, loopback) | requests/s | p99 latency | non-2xx |
|---|---|---|---|
| gpuwatch receiver POST /api/v1/alerts (durable: SQLite WAL, synchronous=FULL) | $r_rps ($r_accepted accepted/s by the metric) | $r_p99 | $r_bad (503 overload: $unavailable in total) |
| Alertmanager $(/usr/bin/prometheus-alertmanager --version 2>&1 | awk 'NR==1 {print $3}') POST /api/v2/alerts (in memory) | $a_rps | $a_p99 | $a_bad |

End to end, receipt to delivered at the local Slack server (200 notifications at ~20/s, after 10 not counted): $slack_total delivered;
$slack_25ms within 25 ms, $slack_50ms within 50 ms, $slack_100ms within 100 ms.
A synchronous 4 KiB write to the store's disk takes $dsync_ms ms on average (dd oflag=dsync, 1000 writes).
Receiver memory after the wrk load: $r_rss; WAL file then: ${r_wal:-none}.
TABLE
