#!/usr/bin/env bash
# Build the application image jiebang/app (web, worker, CLI) FROM jiebang/python:3.11 with
# no registry and no network inside the build: the wheels of the project and of its runtime
# dependencies, at the versions .venv holds, are made on this host first (PyPI is reached from
# the host only), then `docker build --network none` installs them from that wheelhouse.
# Safe to run again: the build context is made afresh and the tag moved to the new image.
#   bash scripts/build-app-image.sh            # tag jiebang/app:latest
#   JIEBANG_APP_IMAGE=jiebang/app:0.1 bash scripts/build-app-image.sh
# It builds on Jiebang's own engine (JIEBANG_DOCKER_HOST, default
# unix:///run/jiebang/docker.sock), where the base image is; to run the compose stack on the
# host's engine, copy the image there (README.md, "Scale-out").
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${JIEBANG_DOCKER_HOST:-unix:///run/jiebang/docker.sock}
docker() { command docker -H "$ENGINE" "$@"; }

TAG=${JIEBANG_APP_IMAGE:-jiebang/app:latest}
BASE=jiebang/python:3.11
CONTEXT=build/app-image
PIP=.venv/bin/pip

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "no $BASE on $ENGINE: run scripts/setup.sh or .venv/bin/jiebang sandbox build-base first" >&2
  exit 1
fi
[ -x "$PIP" ] || { echo "no $PIP: run scripts/setup.sh first" >&2; exit 1; }

echo "== wheelhouse in $CONTEXT"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/wheels" "$CONTEXT/src"
# A clean copy of the sources: an in-tree build could package stale files from build/lib.
tar -c --exclude=./.venv --exclude=./instance --exclude=./build --exclude=./dist \
  --exclude=./test-artifacts --exclude=./tests --exclude=./docs --exclude='*.egg-info' \
  --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache --exclude=.ruff_cache \
  --exclude=.import_linter_cache --exclude=./.git . | tar -x -C "$CONTEXT/src"
# The exact versions the test suite runs with (the image must not drift from them).
"$PIP" freeze --exclude-editable | grep -v ' @ ' >"$CONTEXT/constraints.txt"
"$PIP" wheel --quiet --prefer-binary --wheel-dir "$CONTEXT/wheels" \
  --constraint "$CONTEXT/constraints.txt" "./$CONTEXT/src" pip
rm -rf "$CONTEXT/src"
# Markers are evaluated for this host's Python; the image's may differ (Debian's 3.11.2 needs
# async-timeout for redis, 3.11.7 does not). Resolve offline with the image's own Python and
# fetch whatever it finds missing, until nothing is.
image_resolve() {
  docker run --rm --network none -v "$PWD/$CONTEXT/wheels:/wheels:ro" "$BASE" sh -c '
    python3 -m venv --without-pip /tmp/venv &&
    /tmp/venv/bin/python "$(ls /wheels/pip-*.whl)/pip" install --dry-run --quiet \
      --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels jiebang 2>&1'
}
for _ in 1 2 3 4 5; do
  missing=$(image_resolve | sed -n 's/.*No matching distribution found for \([^ ]*\).*/\1/p' || true)
  [ -n "$missing" ] || break
  echo "for the image's Python: $missing"
  # shellcheck disable=SC2086  # one requirement per word
  "$PIP" wheel --quiet --prefer-binary --wheel-dir "$CONTEXT/wheels" \
    --constraint "$CONTEXT/constraints.txt" $missing
done
cp Dockerfile "$CONTEXT/Dockerfile"
echo "$(find "$CONTEXT/wheels" -name '*.whl' | wc -l) wheels, $(du -sh "$CONTEXT/wheels" | cut -f1)"

echo "== docker build -t $TAG (no network)"
previous=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
docker build --network none --force-rm --tag "$TAG" "$CONTEXT"
# The first stage's image holds the wheels and a second venv; nothing needs it now.
docker image prune --force --filter label=jiebang.build-stage=app >/dev/null
docker run --rm --network none "$TAG" jiebang --help >/dev/null
current=$(docker image inspect --format '{{.Id}}' "$TAG")
# The image this build replaced, unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "built $TAG ($current) on $ENGINE"
