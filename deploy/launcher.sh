#!/bin/sh
# Launcher of the gpuwatch distribution, installed as bin/gpuwatch-exporter and bin/gpuwatch-receiver: the
# name it is called by picks the app. It runs lib/<name>.jar on the bundled runtime with the JVM flags the app
# was measured with (conf/<name>.jvm.options, a java @argument file: the same file as exporter/jvm.options or
# webhook-receiver/jvm.options in the repository), then GPUWATCH_JAVA_OPTS (extra JVM flags, split on spaces;
# they come after the shipped ones, so they can also change them), then every argument given.
set -eu
self=$(readlink -f "$0")
name=$(basename "$0")
home=$(dirname "$(dirname "$self")")
case "$name" in
  gpuwatch-exporter | gpuwatch-receiver) ;;
  *) echo "$name: call me as gpuwatch-exporter or gpuwatch-receiver" >&2; exit 2 ;;
esac
# glibc's per-thread malloc arenas would multiply the resident memory for nothing (docs/benchmarks.md).
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export MALLOC_ARENA_MAX
# shellcheck disable=SC2086 # GPUWATCH_JAVA_OPTS is a list of flags, like JAVA_OPTS
exec "$home/runtime/bin/java" "@$home/conf/$name.jvm.options" ${GPUWATCH_JAVA_OPTS:-} \
  -jar "$home/lib/$name.jar" "$@"
