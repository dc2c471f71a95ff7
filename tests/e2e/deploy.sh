#!/bin/bash
# The offline checks of deploy/ (no cluster runs here): the Kubernetes
# manifests parse, and the DaemonSet runs what the image holds, with the
# ConfigMap's file where it reads it, the capabilities capabilities.sh
# measured and the mounts docs/deploy.md names (tests/e2e/deploy_check.py).
#   bash tests/e2e/deploy.sh path/to/lwfp
# Needs root (a cgroup named lwfp-deploytest-$$ stands in for the
# ConfigMap's, for apply --check; removed on exit) and python3-yaml.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

need_root_and_lwfp "path/to/lwfp" "$@"
python3 -c 'import yaml' 2>/dev/null ||
	{ echo "1..0 # SKIP no python3-yaml"; exit 0; }
TAG=lwfp-deploytest-$$
CGDIR=$(cgroup2_mount)/$TAG
trap 'remove_cgroups' EXIT
mkdir -p "$CGDIR" || bail "no cgroup"
python3 "$HERE/deploy_check.py" "$HERE/../.." "$LWFP" "/$TAG"
