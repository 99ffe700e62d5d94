#!/usr/bin/env bash
# Compiles each stub driver library used by the binding tests. Every folder here is named after the library
# it produces (e.g. libnvidia-ml.so.1/) and holds its C sources; an optional `variants` file lists extra
# builds, one per line: "<output-folder> <extra gcc flags>", e.g. "nvml-legacy -DSTUB_LEGACY_DRIVER".
# Output: $1/<library> (default build) and $1/<output-folder>/<library> (variants), so tests can point
# LD_LIBRARY_PATH (or an explicit path) at either.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
for dir in "$here"/*/; do
  lib="$(basename "$dir")"
  sources=("$dir"*.c)
  [ -e "${sources[0]}" ] || continue
  gcc -std=c11 -Wall -Wextra -Werror -O1 -shared -fPIC -Wl,-soname,"$lib" -o "$out/$lib" "${sources[@]}" -lpthread
  if [ -f "$dir/variants" ]; then
    while read -r variant flags; do
      [ -n "$variant" ] && [ "${variant#\#}" = "$variant" ] || continue
      mkdir -p "$out/$variant"
      # shellcheck disable=SC2086
      gcc -std=c11 -Wall -Wextra -Werror -O1 -shared -fPIC -Wl,-soname,"$lib" $flags -o "$out/$variant/$lib" "${sources[@]}" -lpthread
    done < "$dir/variants"
  fi
done
