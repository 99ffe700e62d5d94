#!/usr/bin/env bash
# A longer coverage-guided fuzzing run of the receiver's payload parser (Jazzer, PayloadParserFuzzTest) than the
# 20-second one in the test suite: ROUNDS rounds of 20 s (default 15, about 5 minutes). The corpus Jazzer grows
# in webhook-receiver/.cifuzz-corpus/ carries over from round to round (and from run to run), so each round goes
# on where the last stopped. A finding stops the run and leaves its input as webhook-receiver/crash-*; add it to
# webhook-receiver/src/test/resources/dev/gpuwatch/receiver/ingest/PayloadParserFuzzTestInputs/parse/ once fixed,
# so the ordinary test run replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
select_jdk25
rounds="${ROUNDS:-15}"
for round in $(seq 1 "$rounds"); do
  echo "fuzz round $round of $rounds"
  # -am: the sibling modules come from the reactor; -Dtest keeps their tests (and the receiver's others) from running
  mvn -B -ntp -q -pl webhook-receiver -am test -Dtest=PayloadParserFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
  grep -h "Done [0-9]* runs" webhook-receiver/target/surefire-reports/*PayloadParserFuzzTest-output.txt | tail -n 1
done
echo "corpus: $(find webhook-receiver/.cifuzz-corpus -type f | wc -l) inputs in webhook-receiver/.cifuzz-corpus"
