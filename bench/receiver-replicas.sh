#!/usr/bin/env bash
# Durable ingest of 1, 2 and 3 receiver replicas on one PostgreSQL, beside one replica on SQLite and
# Alertmanager's own POST /api/v2/alerts, in one run on this machine, over loopback:
#  1. notifications/s committed (the receivers' own accepted counter over the run) and acknowledge p99 under
#     wrk, the connections split evenly over the replicas as an Alertmanager cluster's peers would spread them
#     (one wrk per replica; the p99 is the worst replica's), 10 alerts per notification, a new groupKey each time,
#     the log sink delivering everything meanwhile;
#  2. delivery latency to a healthy (local) Slack, receipt to delivered, 200 notifications at ~20/s spread over
#     the replicas: how many within 25, 50 and 100 ms (the delivery histogram's buckets, summed over replicas).
# PostgreSQL runs with fsync on (testkit Sandbox --postgres-databases), a fresh database per configuration;
# SQLite with synchronous=FULL, as shipped. The receivers run as users run them (bin/gpuwatch-receiver).
# Usage: bench/receiver-replicas.sh [seconds per wrk run, default 20] [connections in all, default 30]
# Environment: KEEP_WORK=1 keeps the work dir (logs, configs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh
select_jdk25
ensure_packages wrk:wrk prometheus-alertmanager:prometheus-alertmanager '/usr/lib/postgresql/*/bin/initdb:postgresql'

DURATION="${1:-20}"
CONNECTIONS="${2:-30}"
TESTKIT_JAR=testkit/target/gpuwatch-testkit.jar
FIRST_PORT=19195
SLACK_PORT=19201
AM_PORT=19193
WORK="$(mktemp -d)"
SANDBOX_PID=""
REPLICA_PIDS=()
stop_replicas() {
  for pid in "${REPLICA_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${REPLICA_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  REPLICA_PIDS=()
}
cleanup() {
  stop_replicas
  [ -z "$SANDBOX_PID" ] || { kill "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; }
  [ -z "${AM_PID:-}" ] || { kill "$AM_PID" 2>/dev/null || true; wait "$AM_PID" 2>/dev/null || true; }
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "building $TESTKIT_JAR and the distribution ..." >&2
mvn -B -q -ntp -Dmaven.test.skip=true -pl testkit -am package >&2
HOME_DIST=$(distribution_home)

"$JAVA_HOME/bin/java" -cp "$TESTKIT_JAR" dev.gpuwatch.testkit.Sandbox --slack-port "$SLACK_PORT" --pagerduty-port 0 \
  --postgres-databases=replicas1,replicas2,replicas3,replicas3copies --postgres-password-file="$WORK/pg-password" \
  > "$WORK/sandbox.out" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 300); do grep -q '^postgres url: .*replicas3copies' "$WORK/sandbox.out" 2>/dev/null && break; sleep 0.2; done
grep -q '^postgres url: .*replicas3copies' "$WORK/sandbox.out" || { cat "$WORK/sandbox.out" >&2; exit 1; }
PG_PORT=$(sed -n 's|^postgres url: jdbc:postgresql://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/sandbox.out" | head -1)
printf '%s\n' "xoxb-local-sandbox-token" > "$WORK/slack-token"

# receiver_config NAME STORAGE_YAML: a receiver.yml routing bench="e2e" to the local Slack, the rest to a log file
receiver_config() {
  cat > "$WORK/$1.yml" <<YAML
$2
route:
  receiver: bench-log
  routes:
    - matchers: ['bench="e2e"']
      receiver: bench-slack
dispatch:
  rate_limits: {slack: 0}   # the local server does not rate limit: measure the receivers, not Slack's limit
receivers:
  - name: bench-log
    log_configs: [{file: $WORK/$1-deliveries.log}]
  - name: bench-slack
    slack_configs:
      - bot_token_file: $WORK/slack-token
        channel: alerts
        api_url: http://127.0.0.1:$SLACK_PORT/api/
YAML
}

# start_replicas NAME COUNT: COUNT receivers on ports FIRST_PORT.. with config NAME.yml, each ready
start_replicas() {
  local i port
  for i in $(seq 0 $(($2 - 1))); do
    port=$((FIRST_PORT + i))
    "$HOME_DIST/bin/gpuwatch-receiver" --web.listen-address="127.0.0.1:$port" --config.file="$WORK/$1.yml" \
      --storage.path="$WORK/$1-$i.db" --log.level=warn > "$WORK/$1-$i.out" 2>&1 &
    REPLICA_PIDS+=($!)
  done
  for i in $(seq 0 $(($2 - 1))); do wait_ready "http://127.0.0.1:$((FIRST_PORT + i))/readyz"; done
}

# sum_metric COUNT NAME{LABELS}: the series summed over the COUNT replicas
sum_metric() {
  local i total=0 v
  for i in $(seq 0 $(($1 - 1))); do
    v=$(prom_value "http://127.0.0.1:$((FIRST_PORT + i))/metrics" "$2")
    total=$((total + v))
  done
  echo "$total"
}

# split_wrk COUNT SECONDS OUT [copies]: one wrk per replica, the connections split evenly; each wrk sends groups
# of its own, or with "copies" every wrk the same groups at the same time (each peer of an Alertmanager cluster
# sending every notification, the worst case of HA); prints "requests/s worst-p99 non-2xx"
split_wrk() {
  local i per=$((CONNECTIONS / $1)) pids=() run
  for i in $(seq 0 $(($1 - 1))); do
    if [ "${4:-}" = copies ]; then run="-$3"; else run="-$3-$i"; fi
    WRK_RUN="$run" wrk -t1 -c"$per" -d"$2s" --latency -s bench/receiver/webhook.lua \
      "http://127.0.0.1:$((FIRST_PORT + i))/api/v1/alerts" > "$WORK/$3-$i.wrk" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  for i in $(seq 0 $(($1 - 1))); do cat "$WORK/$3-$i.wrk" >&2; wrk_summary "$WORK/$3-$i.wrk"; done | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    {rps += $1; if (ms($2) > p99) p99 = ms($2); bad += $3}
    END {printf "%.0f %.2fms %d\n", rps, p99, bad}'
}

e2e_post() { # port suffix
  curl -fsS -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$1/api/v1/alerts" --data-binary \
    "{\"version\":\"4\",\"groupKey\":\"e2e-$2\",\"status\":\"firing\",\"receiver\":\"gpuwatch\",\"groupLabels\":{\"alertname\":\"E2E$2\"},\"commonLabels\":{\"alertname\":\"E2E$2\",\"bench\":\"e2e\"},\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"E2E$2\",\"bench\":\"e2e\"},\"annotations\":{},\"startsAt\":\"2025-06-01T12:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"\",\"fingerprint\":\"e2e$2\"}]}"
}

ROWS=()
# measure LABEL NAME COUNT [copies]: one configuration, started, loaded, checked end to end, stopped
measure() {
  local label=$1 name=$2 count=$3 mode=${4:-} before after rps p99 bad accepted i
  start_replicas "$name" "$count"
  split_wrk "$count" 5 "$name-warmup" "$mode" > /dev/null
  before=$(sum_metric "$count" 'gpuwatch_receiver_notifications_total{outcome="accepted"}')
  read -r rps p99 bad < <(split_wrk "$count" "$DURATION" "$name" "$mode")
  after=$(sum_metric "$count" 'gpuwatch_receiver_notifications_total{outcome="accepted"}')
  accepted=$(( (after - before) / DURATION ))
  local rss="" pid
  for pid in "${REPLICA_PIDS[@]}"; do rss="$rss$(rss_mib "$pid" VmHWM) "; done
  # end to end: warm-up first (a fresh Slack client pays for class loading and its connection once)
  for i in $(seq 1 $((count * 5))); do e2e_post $((FIRST_PORT + i % count)) "$name-warm-$i"; done
  sleep 2
  local t0 b25 b50 b100
  t0=$(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_count{integration="slack"}')
  b25=$(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.025"}')
  b50=$(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.05"}')
  b100=$(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.1"}')
  for i in $(seq 1 200); do e2e_post $((FIRST_PORT + i % count)) "$name-$i"; sleep 0.05; done
  sleep 3
  local total w25 w50 w100
  total=$(( $(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_count{integration="slack"}') - t0 ))
  w25=$(( $(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.025"}') - b25 ))
  w50=$(( $(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.05"}') - b50 ))
  w100=$(( $(sum_metric "$count" 'gpuwatch_receiver_delivery_latency_seconds_bucket{integration="slack",le="0.1"}') - b100 ))
  stop_replicas
  ROWS+=("| $label | $rps | $accepted | $p99 | $bad | $total: $w25 / $w50 / $w100 | $rss|")
}

pg_storage() { # database
  printf 'storage:\n  postgres:\n    url: jdbc:postgresql://127.0.0.1:%s/%s\n    user: gpuwatch\n    password_file: %s\n' \
    "$PG_PORT" "$1" "$WORK/pg-password"
}
receiver_config sqlite ""
measure "1 replica, SQLite (synchronous=FULL)" sqlite 1
for n in 1 2 3; do
  receiver_config "pg$n" "$(pg_storage "replicas$n")"
  measure "$n replica$([ "$n" = 1 ] || echo s), PostgreSQL (fsync on)" "pg$n" "$n"
done
receiver_config pg3copies "$(pg_storage replicas3copies)"
measure "3 replicas, PostgreSQL, every notification sent to all three at once (HA copies)" pg3copies 3 copies

# --- Alertmanager's own ingest, same machine, same alerts, the same connections ---------------------------
cat > "$WORK/alertmanager.yml" <<YAML
route:
  receiver: none
  group_by: [alertname, instance]
receivers:
  - name: none
YAML
/usr/bin/prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= > "$WORK/am.out" 2>&1 &
AM_PID=$!
wait_ready "http://127.0.0.1:$AM_PORT/-/ready"
wrk -t1 -c"$CONNECTIONS" -d5s -s bench/receiver/alertmanager.lua "http://127.0.0.1:$AM_PORT/api/v2/alerts" > /dev/null
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/receiver/alertmanager.lua \
  "http://127.0.0.1:$AM_PORT/api/v2/alerts" > "$WORK/am.wrk"
read -r a_rps a_p99 a_bad < <(wrk_summary "$WORK/am.wrk")
am_version=$(/usr/bin/prometheus-alertmanager --version 2>&1 | awk 'NR==1 {print $3}')

echo
echo "wrk, 10 alerts per request, $CONNECTIONS connections in all, ${DURATION}s per configuration, loopback; $(nproc) cores"
echo
echo "| configuration | requests/s | committed/s (receivers' metric) | ack p99 (worst replica) | non-2xx | to Slack, 200 at ~20/s: delivered: within 25 / 50 / 100 ms | peak RSS per replica (MiB) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo "| Alertmanager $am_version POST /api/v2/alerts (in memory) | $a_rps | | $a_p99 | $a_bad | | |"
