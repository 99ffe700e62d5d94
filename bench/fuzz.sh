#!/usr/bin/env bash
# A longer coverage-guided fuzzing run (Jazzer) than the 20-second one in the test suite, of the receiver's
# payload parser (TARGET=receiver, the default: PayloadParserFuzzTest) or the exporter's model-server text-format
# parser (TARGET=exporter: TextFormatFuzzTest): ROUNDS rounds of 20 s (default 15, about 5 minutes). The corpus
# Jazzer grows in MODULE/.cifuzz-corpus/ carries over from round to round (and from run to run), so each round goes
# on where the last stopped. A finding stops the run and leaves its input as MODULE/crash-*; once fixed, add it to
# the fuzz test's Inputs folder under MODULE/src/test/resources/ so the ordinary test run replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
select_jdk25
rounds="${ROUNDS:-15}"
case "${TARGET:-receiver}" in
  receiver) module=webhook-receiver test=PayloadParserFuzzTest ;;
  exporter) module=exporter test=TextFormatFuzzTest ;;
  *) echo "TARGET must be receiver or exporter" >&2; exit 2 ;;
esac
for round in $(seq 1 "$rounds"); do
  echo "fuzz round $round of $rounds"
  # -am: the sibling modules come from the reactor; -Dtest keeps their tests (and the receiver's others) from running
  log="$module/target/fuzz-round.log"
  mkdir -p "$module/target"
  if ! mvn -B -ntp -q -pl "$module" -am test -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz round $round failed: see $log and $module/crash-*" >&2
    exit 1
  fi
  grep -h "Done [0-9]* runs" "$log" | tail -n 1
done
echo "corpus: $(find "$module"/.cifuzz-corpus -type f | wc -l) inputs in $module/.cifuzz-corpus"
