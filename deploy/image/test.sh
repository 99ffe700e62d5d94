#!/usr/bin/env bash
# Smoke test of the OCI images scripts/package writes: each image is unpacked with umoci (its root filesystem and
# the runtime configuration its config makes: entrypoint, environment, user), its entrypoint runs inside that
# root filesystem (chroot, in a mount namespace of its own with /proc mounted there) as the image's user, and
# it is scraped: the exporter's /metrics (simulated GPUs) must hold gpu_up, the receiver's /healthz must answer.
# Needs root (chroot, unshare). Called by scripts/package after building the images.
#   deploy/image/test.sh IMAGES VERSION      # IMAGES: dist/images
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
ensure_packages umoci:umoci jq:jq curl:curl unshare:util-linux

images=$1 version=$2
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

run_image() { # APP PORT URL-PATH EXPECTED-TEXT ARG...
  local app=$1 port=$2 path=$3 expected=$4; shift 4
  local bundle="$work/$app" config args env user body
  umoci unpack --image "$images/gpuwatch-$app:$version" "$bundle" >/dev/null
  config="$bundle/config.json"
  mapfile -t args < <(jq -r '.process.args[]' "$config")
  mapfile -t env < <(jq -r '.process.env[]' "$config")
  user=$(jq -r '"\(.process.user.uid):\(.process.user.gid)"' "$config")
  # a mount namespace of its own with /proc mounted in the root filesystem; every step execs the next, so $pid
  # ends up the JVM's own
  unshare --mount --propagation private sh -c 'mount -t proc proc "$1/proc" && shift && exec "$@"' sh \
    "$bundle/rootfs" env -i "${env[@]}" "$(command -v chroot)" --userspec="$user" "$bundle/rootfs" "${args[@]}" "$@" \
    > "$work/$app.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    if body=$(curl -fsS "http://127.0.0.1:$port$path" 2>/dev/null); then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if ! grep -q "$expected" <<<"${body:-}"; then
    echo "image test: gpuwatch-$app:$version did not serve $path with '$expected'; its output:" >&2
    cat "$work/$app.log" >&2
    return 1
  fi
  echo "image test: gpuwatch-$app:$version ran as $user in its unpacked root filesystem and served $path" >&2
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

run_image exporter 19545 /metrics '^gpu_up{' --gpu.backend=simulated --web.listen-address=127.0.0.1:19545
run_image receiver 19595 /healthz . --web.listen-address=127.0.0.1:19595 --storage.path=/home/nonroot/receiver.db
# the receiver's graphs draw text through fontconfig (headless AWT): its library, configuration and a font are there
for file in usr/lib/x86_64-linux-gnu/libfontconfig.so.1 etc/fonts/fonts.conf usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; do
  if [ ! -e "$work/receiver/rootfs/$file" ]; then
    echo "image test: gpuwatch-receiver:$version lacks /$file, which its graphs' fonts need" >&2
    exit 1
  fi
done
echo "image test: gpuwatch-receiver:$version carries fontconfig and the DejaVu fonts for its graphs" >&2
