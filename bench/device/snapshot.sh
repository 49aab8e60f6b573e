#!/usr/bin/env bash
# Pack the tree the GPU run measures: the last commit, plus this checkout's
# changes (committed or not) under the paths given, and nothing else.
#
#   bash bench/device/snapshot.sh PATH...
#
# Writes bench/device/build/src.tar.xz. A device call carries the whole
# working tree, where others may be halfway through a change; a run from this
# snapshot measures HEAD with only the named paths' edits. On the box:
#   mkdir -p /tmp/src && tar -xJf bench/device/build/src.tar.xz -C /tmp/src &&
#   cp -r bench/device/build /tmp/src/bench/device/ && cd /tmp/src && bash bench/device/run.sh ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$here/build"
[ "$#" -gt 0 ] || { echo "usage: $0 PATH..." >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"
git archive HEAD | tar -x -C "$tmp"
# Tracked files changed or deleted under the paths, then untracked ones there.
git diff --name-only --diff-filter=D HEAD -- "$@" | while read -r f; do rm -f "$tmp/$f"; done
{
  git diff --name-only --diff-filter=d HEAD -- "$@"
  git ls-files --others --exclude-standard -- "$@"
} | sort -u | while read -r f; do
  mkdir -p "$tmp/$(dirname "$f")"
  cp -p "$f" "$tmp/$f"
done
mkdir -p "$build"
git rev-parse HEAD >"$tmp/.snapshot-head"
git status --short -- "$@" >"$tmp/.snapshot-changes"
tar -C "$tmp" -cJf "$build/src.tar.xz" .
ls -l "$build/src.tar.xz"
cat "$tmp/.snapshot-changes"
