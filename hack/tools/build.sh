#!/usr/bin/env bash
# build.sh builds the binaries of the local control plane (pkg/testenv)
# from the Go module proxy, one small Go module per upstream project:
#
#   hack/tools/kube               kube-apiserver, kube-controller-manager, kube-scheduler
#   hack/tools/etcd               etcd
#   hack/tools/kwok               kwok
#   hack/tools/vela/<release>     vela-core, vela (CLI) of one KubeVela release
#   hack/tools/training-operator  training-operator (our own main.go)
#   hack/tools/cluster-gateway    cluster-gateway (KubeVela's gateway to managed
#                                 clusters; only with ML_PLATFORM_CLUSTERS=3)
#   hack/tools/prometheus         prometheus (the server, without the web UI's
#                                 builtinassets and, by the remove_all_sd tag,
#                                 without the cloud service discoveries: tests
#                                 use its HTTP API and its remote-write receiver)
#
# Usage: [VELA=<release>] [ML_PLATFORM_CLUSTERS=1|3] hack/tools/build.sh [--force] [name...]
#
# No names: all the binaries the control plane runs. cluster-gateway is among
# them only when ML_PLATFORM_CLUSTERS=3 (the hub and the managed clusters dev
# and prod, pkg/testenv's Environment.Clusters), so the default single-cluster
# stack's cold build does not grow; it can always be named explicitly.
#
# VELA picks the KubeVela release of vela-core and vela (default v1.11.0): one
# of the folders under hack/tools/vela, which are the supported releases
# (pkg/testenv's TestKubeVelaReleasesMatchToolModules keeps them equal
# to the Go list, pkg/testenv/vela.Releases). Any other value fails at once.
#
# Each binary lands in ${ML_PLATFORM_CACHE:-$HOME/.cache/ml-platform}/bin/<name>-<version>,
# where <version> is the version of the upstream module pinned in that tool
# module's go.mod. A binary whose versioned file exists is not rebuilt, so a warm
# run builds nothing; --force rebuilds anyway (e.g. after editing
# training-operator/main.go). Builds run one after another: a cold
# kube-apiserver link alone peaks at ~2 GiB.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN_DIR=${ML_PLATFORM_CACHE:-$HOME/.cache/ml-platform}/bin
export GOFLAGS=-buildvcs=false
export GONOSUMDB=github.com/oam-dev/kubevela,github.com/kubevela/workflow,github.com/kubevela/pkg

DEFAULT_VELA=v1.11.0
VELA=${VELA:-$DEFAULT_VELA}
SUPPORTED_VELA=$(cd "$TOOLS_DIR/vela" && ls -d v*/ | tr -d / | sort -V | tr '\n' ' ')
if [[ ! -f $TOOLS_DIR/vela/$VELA/go.mod || $VELA == */* ]]; then
  echo "unsupported KubeVela release VELA=$VELA (supported: ${SUPPORTED_VELA% }; default $DEFAULT_VELA)" >&2
  exit 1
fi

ALL=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok vela-core vela training-operator prometheus)
KNOWN=("${ALL[@]}" cluster-gateway)
case ${ML_PLATFORM_CLUSTERS:-1} in
  1) ;;
  3) ALL+=(cluster-gateway) ;;
  *) echo "unsupported ML_PLATFORM_CLUSTERS=$ML_PLATFORM_CLUSTERS (1: the hub only; 3: the hub, dev and prod)" >&2; exit 1 ;;
esac

# spec NAME prints "<tool module dir> <upstream module> <package>" for NAME.
spec() {
  case $1 in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      echo "kube k8s.io/kubernetes k8s.io/kubernetes/cmd/$1" ;;
    etcd)              echo "etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3" ;;
    kwok)              echo "kwok sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok" ;;
    vela-core)         echo "vela/$VELA github.com/oam-dev/kubevela github.com/oam-dev/kubevela/cmd/core" ;;
    vela)              echo "vela/$VELA github.com/oam-dev/kubevela github.com/oam-dev/kubevela/references/cmd/cli" ;;
    training-operator) echo "training-operator github.com/kubeflow/training-operator ." ;;
    prometheus)        echo "prometheus github.com/prometheus/prometheus github.com/prometheus/prometheus/cmd/prometheus" ;;
    cluster-gateway)   echo "cluster-gateway github.com/oam-dev/cluster-gateway github.com/oam-dev/cluster-gateway/cmd/apiserver" ;;
    *) echo "unknown binary $1 (known: ${KNOWN[*]})" >&2; return 1 ;;
  esac
}

# module_version DIR MODULE prints the version of MODULE required by DIR/go.mod.
module_version() {
  awk -v m="$2" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$TOOLS_DIR/$1/go.mod"
}

# ldflags NAME VERSION prints the -X flags that stamp VERSION into NAME.
ldflags() {
  case $1 in
    kube-*)
      local minor=${2#v1.}; minor=${minor%%.*}
      local x
      for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s ' "$x" "$2" "$x" "$x" "$minor"
      done
      printf -- '-X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z' ;;
    vela-core | vela)
      printf -- '-X github.com/oam-dev/kubevela/version.VelaVersion=%s -X github.com/oam-dev/kubevela/version.GitRevision=%s' "$2" "$2" ;;
    prometheus)
      printf -- '-X github.com/prometheus/common/version.Version=%s -X github.com/prometheus/common/version.Revision=%s' "$2" "$2" ;;
  esac
}

# tags NAME prints the build tags of NAME.
tags() {
  case $1 in
    prometheus) printf 'remove_all_sd' ;; # only the file and http discoveries: half the binary (52 MB), a cold build of 634 s here against 1968 s with all of them (at a higher load)
  esac
}

force=false
names=()
for arg in "$@"; do
  case $arg in
    --force) force=true ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) spec "$arg" >/dev/null; names+=("$arg") ;;
  esac
done
[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
echo "KubeVela release $VELA (VELA=...; supported: ${SUPPORTED_VELA% })"

mkdir -p "$BIN_DIR"
total_start=$SECONDS
built=0
for i in "${!names[@]}"; do
  name=${names[$i]}
  read -r dir module pkg < <(spec "$name")
  version=$(module_version "$dir" "$module")
  [[ -n $version ]] || { echo "failed to find the version of $module in $TOOLS_DIR/$dir/go.mod" >&2; exit 1; }
  out=$BIN_DIR/$name-$version
  step="[$((i + 1))/${#names[@]}]"
  if [[ -x $out ]] && ! $force; then
    echo "$step $name $version is up to date ($out)"
    continue
  fi
  echo "$step building $name $version ..."
  start=$SECONDS
  (cd "$TOOLS_DIR/$dir" && go build -trimpath -tags "$(tags "$name")" -ldflags "-s -w $(ldflags "$name" "$version")" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  built=$((built + 1))
  echo "$step done in $((SECONDS - start))s"
done
echo "built $built of ${#names[@]} binaries into $BIN_DIR in $((SECONDS - total_start))s"
