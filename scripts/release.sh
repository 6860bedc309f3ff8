#!/usr/bin/env bash
# Tags a release of every published module, in the order a user's go
# command needs them: the core first, then the modules that require it
# (stores, adapters), each tag prefixed with its module's directory
# (v0.1.0, stores/redis/v0.1.0, adapters/chi/v0.1.0, …). See RELEASING.md.
#
#   scripts/release.sh v0.2.0          # dry run: check, and print the tags it would make
#   scripts/release.sh -set v0.2.0     # make every module require the others at v0.2.0
#   scripts/release.sh -tag v0.2.0     # create the tags (annotated, local)
#   scripts/release.sh -push v0.2.0    # push them to origin, core first
#
# examples/*, e2e and bench are not published: they are programs to run
# from a clone or to copy, and keep their replace directives.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=dry
case "${1:-}" in
  -set | -tag | -push) mode=${1#-}; shift ;;
esac
version=${1:?usage: scripts/release.sh [-set | -tag | -push] vX.Y.Z}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release: $version is not a semantic version such as v0.2.0" >&2
  exit 2
fi

root=github.com/accesstoken/bearer
published() { # directories of the published modules, core first
  echo .
  go list -m -f '{{.Dir}}' | sed "s|^$PWD/||" | grep -E '^(stores|adapters)/' | sort
}
requires() { # the repository's modules that the module in $1 requires
  (cd "$1" && go mod edit -json) | awk '/"Require"/{r=1} r&&/^\t\]/{r=0} r&&/"Path"/{gsub(/[",]/,"",$2); print $2}' |
    grep -E "^$root(/|\$)" || true
}
tag() { # the tag of the module in $1
  if [ "$1" = . ]; then echo "$version"; else echo "$1/$version"; fi
}

# Every module of the repository, published or not, requires the others at
# the version being released.
if [ "$mode" = set ]; then
  for dir in $(go list -m -f '{{.Dir}}' | sed "s|^$PWD/||;s|^$PWD\$|.|"); do
    for dep in $(requires "$dir"); do
      (cd "$dir" && go mod edit -require="$dep@$version")
    done
  done
  go list -m all >/dev/null # go.work.sum
  echo "release: every module now requires the others at $version; review, commit, then: scripts/release.sh $version"
  exit 0
fi

problems=0
complain() { echo "release: $*" >&2; problems=1; }

[ -z "$(git status --porcelain)" ] || complain "the working tree is not clean"
for dir in $(go list -m -f '{{.Dir}}' | sed "s|^$PWD/||;s|^$PWD\$|.|"); do
  for dep in $(requires "$dir"); do
    have=$(cd "$dir" && go mod edit -json | awk -v p="$dep" '$0 ~ "\"Path\": \""p"\"" {getline; gsub(/[",]/,"",$2); print $2; exit}')
    [ "$have" = "$version" ] || complain "$dir requires $dep at $have, not $version: run scripts/release.sh -set $version"
  done
done
for dir in $(find . -name node_modules -prune -o -name go.mod -print | sed 's|^\./||;s|/\?go.mod$||;s|^$|.|'); do
  go list -m -f '{{.Dir}}' | grep -qx "$PWD${dir#.}" || go list -m -f '{{.Dir}}' | grep -qx "$PWD/$dir" ||
    complain "$dir has a go.mod but is not in go.work"
done

order=()
done_=" "
pending=$(published)
while [ -n "$pending" ]; do
  next=""
  progress=0
  for dir in $pending; do
    ready=1
    for dep in $(requires "$dir"); do
      d=${dep#"$root"}; d=${d#/}; d=${d:-.}
      case "$done_" in *" $d "*) ;; *) ready=0 ;; esac
    done
    if [ $ready = 1 ]; then order+=("$dir"); done_="$done_$dir "; progress=1; else next="$next $dir"; fi
  done
  [ $progress = 1 ] || { complain "a published module requires one that is not published:$next"; break; }
  pending=$next
done

for dir in "${order[@]}"; do
  t=$(tag "$dir")
  if git rev-parse -q --verify "refs/tags/$t" >/dev/null; then
    [ "$mode" = push ] || complain "tag $t exists already"
  fi
done
[ $problems = 0 ] || exit 1

# try_as_user serves the published modules of HEAD at $version from a
# module proxy in a temporary directory, their zips made from git as the
# proxy makes them from a tag, and builds every package of theirs in a
# module outside the repository: what a user's go get meets once the tags
# are pushed. A module cache of its own keeps these versions out of yours.
try_as_user() {
  local tmp; tmp=$(mktemp -d)
  local exclude=() dir path d out
  for dir in $(go list -m -f '{{.Dir}}' | grep -v "^$PWD\$" | sed "s|^$PWD/||"); do
    exclude+=(":(exclude)$dir")
  done
  for dir in "${order[@]}"; do
    path=$root; [ "$dir" = . ] || path=$root/$dir
    d=$tmp/proxy/$path/@v
    mkdir -p "$d"
    echo "$version" >"$d/list"
    printf '{"Version":"%s"}\n' "$version" >"$d/$version.info"
    if [ "$dir" = . ]; then
      git show HEAD:go.mod >"$d/$version.mod"
      git archive --format=zip --prefix="$path@$version/" HEAD -- . "${exclude[@]}" >"$d/$version.zip"
    else
      git show "HEAD:$dir/go.mod" >"$d/$version.mod"
      git archive --format=zip --prefix="$path@$version/" "HEAD:$dir" >"$d/$version.zip"
    fi
  done
  mkdir "$tmp/user"
  printf 'module example.com/user\n\ngo %s\n' "$(go env GOVERSION | sed 's/^go//;s/^\([0-9]*\.[0-9]*\).*/\1/')" >"$tmp/user/go.mod"
  local status=0
  (
    cd "$tmp/user"
    export GOWORK=off GOFLAGS=-mod=mod GONOSUMDB=$root GOMODCACHE=$tmp/modcache
    export GOPROXY="file://$tmp/proxy,file://$(GOMODCACHE= go env GOMODCACHE)/cache/download,$(go env GOPROXY)"
    for dir in "${order[@]}"; do
      path=$root; [ "$dir" = . ] || path=$root/$dir
      out=$(go get "$path@$version" 2>&1) || { echo "$out" >&2; exit 1; }
    done
    for dir in "${order[@]}"; do
      path=$root; [ "$dir" = . ] || path=$root/$dir
      go build "$path/..."
    done
    go list -m all | grep "^$root" | sed 's/^/release:   /'
  ) || status=1
  GOMODCACHE=$tmp/modcache go clean -modcache 2>/dev/null || true
  rm -rf "$tmp"
  return $status
}

case $mode in
  dry)
    echo "release: a module outside the repository gets and builds every published module at $version, from HEAD:"
    try_as_user || { echo "release: it does not: fix that before tagging" >&2; exit 1; }
    echo "release: would tag $(git rev-parse --short HEAD) as, in this order:"
    for dir in "${order[@]}"; do echo "  $(tag "$dir")"; done
    echo "release: scripts/release.sh -tag $version creates them; -push pushes them" ;;
  tag)
    for dir in "${order[@]}"; do
      path=$root; [ "$dir" = . ] || path=$root/$dir
      git tag -a "$(tag "$dir")" -m "$path $version"
      echo "release: tagged $(tag "$dir")"
    done ;;
  push)
    for dir in "${order[@]}"; do git push origin "refs/tags/$(tag "$dir")"; done ;;
esac
