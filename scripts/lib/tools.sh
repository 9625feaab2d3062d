# Shared by the build scripts of the Python and JavaScript examples: installs
# each component toolchain once, at a pinned version, into the build tree
# (target/tools/), and rebuilds a component only when its inputs changed.
# Source it; it sets ROOT (the workspace) and OUT_DIR (where guests go).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-wasip2/release
TOOLS=${CARGO_TARGET_DIR:-$ROOT/target}/tools
COMPONENTIZE_PY_VERSION=0.25.1
COMPONENTIZE_JS_VERSION=0.23.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The newest mdbook that builds with rust-toolchain.toml's Rust (0.5.4 needs 1.88).
MDBOOK_VERSION=0.5.4

# ensure_pypi_tool NAME VERSION: PyPI package NAME==VERSION (with a command
# of the same name) in a venv of its own under $TOOLS; prints the venv.
ensure_pypi_tool() {
  local venv=$TOOLS/$1-$2
  if [ ! -x "$venv/bin/$1" ]; then
    echo "installing $1 $2 into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$1==$2" >&2
  fi
  echo "$venv"
}

# componentize-py: prints the command's path.
ensure_componentize_py() {
  echo "$(ensure_pypi_tool componentize-py "$COMPONENTIZE_PY_VERSION")/bin/componentize-py"
}

# kubernetes-validate (Kubernetes' schemas, offline), for tests/deploy.rs:
# prints the venv's python.
ensure_kubernetes_validate() {
  echo "$(ensure_pypi_tool kubernetes-validate "$KUBERNETES_VALIDATE_VERSION")/bin/python"
}

# mdbook (crates.io, for the book in docs/): installed once into
# $TOOLS/mdbook-VERSION; prints the binary's path.
ensure_mdbook() {
  local root=$TOOLS/mdbook-$MDBOOK_VERSION
  if [ ! -x "$root/bin/mdbook" ]; then
    echo "installing mdbook $MDBOOK_VERSION into $root" >&2
    (cd "$ROOT" && cargo install --quiet --locked --version "$MDBOOK_VERSION" --root "$root" mdbook) >&2 || return 1
  fi
  echo "$root/bin/mdbook"
}

# componentize-js (npm, from scripts/tools/package-lock.json): prints the
# directory to pass as PUSH_HOST_JS_TOOLS.
ensure_componentize_js() {
  local dir=$TOOLS/componentize-js-$COMPONENTIZE_JS_VERSION
  if [ ! -f "$dir/node_modules/@bytecodealliance/componentize-js/package.json" ] ||
    ! cmp -s "$ROOT/scripts/tools/package-lock.json" "$dir/package-lock.json"; then
    echo "installing componentize-js $COMPONENTIZE_JS_VERSION into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$ROOT/scripts/tools/package.json" "$ROOT/scripts/tools/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  echo "$dir"
}

# componentize_js SOURCE WIT WORLD OUT [--disable-http]: builds a JS component.
componentize_js() {
  PUSH_HOST_JS_TOOLS=$(ensure_componentize_js) node "$ROOT/scripts/tools/componentize.mjs" "$@"
}

# needs_build NAME INPUT...: sets OUT to the component's path; fails (so the
# caller can stop) when OUT is newer than every input.
needs_build() {
  OUT=$OUT_DIR/$1.wasm
  shift
  mkdir -p "$OUT_DIR"
  ! up_to_date "$OUT" "$@"
}

# up_to_date OUT INPUT...: whether OUT exists and is newer than every input
# file (directories are searched).
up_to_date() {
  local out=$1
  shift
  [ -f "$out" ] || return 1
  [ -z "$(find "$@" -newer "$out" -type f -print -quit)" ]
}
