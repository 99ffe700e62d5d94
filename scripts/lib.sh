# Shared by scripts/run, scripts/test, scripts/package and bench/: pick JDK 25, install the Debian packages a step
# needs, the project version and reproducible tar archives.
# Sourced, not executed.

# Selects a JDK whose major version is 25: $JAVA_HOME if it is one, else the first under /usr/lib/jvm.
select_jdk25() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    if "$candidate/bin/java" -version 2>&1 | head -n1 | grep -q '"25'; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      # Maven 3.8's bundled Guava calls sun.misc.Unsafe; JDK 25 warns on every run without this.
      export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
      return 0
    fi
  done
  echo "gpuwatch: JDK 25 not found (looked at \$JAVA_HOME and /usr/lib/jvm/*25*). Install Temurin 25 or set JAVA_HOME." >&2
  return 1
}

# ensure_packages BINARY:DEBIAN_PACKAGE ... installs each package whose binary is missing (root only).
# BINARY is a name on the PATH, or a path pattern for programs Debian keeps off the PATH
# (/usr/lib/postgresql/*/bin/initdb).
ensure_packages() {
  local pair binary package missing=()
  for pair in "$@"; do
    binary="${pair%%:*}"; package="${pair#*:}"
    if [[ "$binary" == */* ]]; then
      compgen -G "$binary" >/dev/null || missing+=("$package")
    else
      command -v "$binary" >/dev/null 2>&1 || missing+=("$package")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "gpuwatch: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "gpuwatch: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The project's version, from the root pom.xml (the parent's own <version>, the first one in the file).
project_version() {
  sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -n1
}

# reproducible_tar [tar options] PATH...: an uncompressed tar on stdout whose bytes depend only on the files'
# contents, names and modes: sorted entries, every time SOURCE_DATE_EPOCH, owner 0:0, no atime/ctime headers.
reproducible_tar() {
  tar --create --format=posix --sort=name --mtime="@${SOURCE_DATE_EPOCH:?}" \
    --owner=0 --group=0 --numeric-owner --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --file=- "$@"
}

# The schema validator of the Kubernetes manifests (deploy/kubernetes/validate, versions pinned in its
# package-lock.json) into its node_modules/, when missing or older than the lock file.
ensure_kubernetes_validator() {
  local dir=deploy/kubernetes/validate
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  echo "gpuwatch: installing the Kubernetes schema validator (npm ci in $dir)" >&2
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
}
