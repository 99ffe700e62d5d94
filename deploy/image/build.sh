#!/usr/bin/env bash
# Builds the OCI image layouts of the exporter and the receiver from a staged distribution, the distroless way:
# no registry, no container engine, no base image. Called by scripts/package; needs root (apt, umoci).
#   deploy/image/build.sh STAGE VERSION OUT     # STAGE: dist/build/gpuwatch-<version>; OUT: dist/images
# Layers, each a tar with sorted entries, owner 0:0 and every time SOURCE_DATE_EPOCH (scripts/lib.sh
# reproducible_tar), so the same inputs give the same digests:
#   1. Debian's libc6, zlib1g, ca-certificates and tzdata, unpacked (no maintainer scripts run, so the CA bundle
#      is made here the way update-ca-certificates makes it), /etc/passwd and /etc/group with root and nonroot
#      (65532), /tmp; nothing else: no shell, no package manager
#   2. exporter only: libgcc-s1 and libstdc++6, which JCuda's native library (the CUDA facts) links against
#   3. the jlink'd runtime, /opt/gpuwatch/runtime (the same layer in both images)
#   4. the app: /opt/gpuwatch/lib/<app>.jar and /opt/gpuwatch/conf/<app>.jvm.options
#   receiver only, before 3: fontconfig's library and configuration with the DejaVu fonts, which the receiver's
#      graphs (JFreeChart, headless AWT) draw their text with: the JDK finds fonts through libfontconfig, and
#      without it and a font headless AWT fails to draw text at all (the graph then goes missing from messages)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

stage=$1 version=$2 out=$3
: "${SOURCE_DATE_EPOCH:?}"
export LC_ALL=C TZ=UTC
umask 022
ensure_packages umoci:umoci apt-get:apt dpkg-deb:dpkg
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
work="$out/.work"
rm -rf "$work"
mkdir -p "$work/debs"

# The packages at the versions this machine's apt lists name (apt-get update refreshes them).
base_packages=(libc6 zlib1g ca-certificates tzdata)
cuda_packages=(libgcc-s1 libstdc++6)
# libfontconfig1 and what it links (the runtime bundles its own FreeType, fontconfig's needs Debian's), its
# configuration, one font family; not the fontconfig CLI package: nothing runs fc-cache in the image
font_packages=(libfontconfig1 fontconfig-config fonts-dejavu-core libfreetype6 libpng16-16 libbrotli1 libexpat1)
if ! (cd "$work/debs" && apt-get download -qq "${base_packages[@]}" "${cuda_packages[@]}" "${font_packages[@]}" >/dev/null 2>&1); then
  apt-get update -qq >/dev/null
  (cd "$work/debs" && apt-get download -qq "${base_packages[@]}" "${cuda_packages[@]}" "${font_packages[@]}")
fi

unpack() { # DIR PACKAGE...: the packages' files under DIR, without their documentation
  local dir=$1 package; shift
  mkdir -p "$dir"
  for package in "$@"; do dpkg-deb -x "$work/debs/${package}"_*.deb "$dir"; done
  rm -rf "$dir/usr/share/doc" "$dir/usr/share/man" "$dir/usr/share/info" "$dir/usr/share/lintian" "$dir/usr/share/locale"
}

# layer 1: the base root filesystem
base="$work/base"
unpack "$base" "${base_packages[@]}"
mkdir -p "$base/etc/ssl/certs" "$base/tmp" "$base/home/nonroot" "$base/root" "$base/proc" "$base/sys" "$base/dev"
find "$base/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat > "$base/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$base/etc/group"
printf 'hosts: files dns\n' > "$base/etc/nsswitch.conf"
chmod 1777 "$base/tmp"
chmod 0700 "$base/root"
chown 65532:65532 "$base/home/nonroot"
# layer 2: what JCuda's native library needs beside libc
cuda="$work/cuda"
unpack "$cuda" "${cuda_packages[@]}"
# receiver layer: fonts for the graphs
fonts="$work/fonts"
unpack "$fonts" "${font_packages[@]}"
# layer 3: the runtime
runtime="$work/runtime/opt/gpuwatch"
mkdir -p "$runtime"
cp -a "$stage/runtime" "$runtime/runtime"

layer() { # DIR: the directory's contents as a reproducible tar (numeric owners kept: nonroot's home)
  tar --create --format=posix --sort=name --mtime="@$SOURCE_DATE_EPOCH" --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --file=- -C "$1" .
}
layer "$base" > "$work/base.tar"
layer "$cuda" > "$work/cuda.tar"
layer "$work/runtime" > "$work/runtime.tar"
layer "$fonts" > "$work/fonts.tar"

build_image() { # APP PORT USER LAYER...
  local app=$1 port=$2 user=$3; shift 3
  local image="$out/gpuwatch-$app" ref="$out/gpuwatch-$app:$version" tar
  local appdir="$work/app-$app/opt/gpuwatch"
  mkdir -p "$appdir/lib" "$appdir/conf"
  install -m 0644 "$stage/lib/gpuwatch-$app.jar" "$appdir/lib/"
  install -m 0644 "$stage/conf/gpuwatch-$app.jvm.options" "$appdir/conf/"
  layer "$work/app-$app" > "$work/app-$app.tar"
  rm -rf "$image"
  umoci init --layout "$image"
  umoci new --image "$ref"
  for tar in "$@" "$work/app-$app.tar"; do
    umoci raw add-layer --image "$ref" --history.created="$created" --history.author=gpuwatch \
      --history.created_by="gpuwatch deploy/image/build.sh: $(basename "$tar" .tar)" "$tar"
  done
  local args=(--image "$ref" --no-history --created="$created" --author=gpuwatch --os=linux --architecture=amd64
    --config.user="$user" --config.workingdir=/ --config.exposedports="$port/tcp"
    --config.env=PATH=/opt/gpuwatch/runtime/bin:/usr/bin:/bin --config.env=MALLOC_ARENA_MAX=2
    --config.entrypoint=/opt/gpuwatch/runtime/bin/java
    --config.entrypoint="@/opt/gpuwatch/conf/gpuwatch-$app.jvm.options"
    --config.entrypoint=-jar --config.entrypoint="/opt/gpuwatch/lib/gpuwatch-$app.jar"
    --config.label=org.opencontainers.image.title="gpuwatch-$app"
    --config.label=org.opencontainers.image.version="$version"
    --config.label=org.opencontainers.image.source=https://github.com/gpuwatch/gpuwatch
    --manifest.annotation=org.opencontainers.image.version="$version"
    --manifest.annotation=org.opencontainers.image.created="$created")
  if [ "$app" = receiver ]; then
    # fontconfig (the graphs' fonts) keeps its cache under XDG_CACHE_HOME; HOME is unset in the image, and without a
    # writable cache directory it prints "Fontconfig error: No writable cache directories" to stderr, outside the logs
    args+=(--config.env=XDG_CACHE_HOME=/tmp/.cache)
  fi
  if [ "$app" = exporter ]; then
    # the NVIDIA container toolkit mounts the driver and the GPUs these name (deploy/README.md)
    args+=(--config.env=NVIDIA_VISIBLE_DEVICES=all --config.env=NVIDIA_DRIVER_CAPABILITIES=compute,utility)
  fi
  umoci config "${args[@]}"
  umoci gc --layout "$image"
  echo "package: $image ($(du -sh "$image" | cut -f1), tag $version)" >&2
}

build_image exporter 9445 0:0 "$work/base.tar" "$work/cuda.tar" "$work/runtime.tar"
build_image receiver 9095 65532:65532 "$work/base.tar" "$work/fonts.tar" "$work/runtime.tar"
rm -rf "$work"
