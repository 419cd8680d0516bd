#!/usr/bin/env bash
# Writes capim-edge's clusterctl release artifacts, in the layout of a clusterctl local repository:
#   <out>/infrastructure-capim-edge/<version>/{infrastructure-components.yaml,metadata.yaml,
#                                              cluster-template.yaml,cluster-template-in-memory.yaml,
#                                              cluster-template-in-memory-topology.yaml,
#                                              cluster-template-in-memory-machinepool.yaml,
#                                              cluster-template-in-memory-v1alpha1.yaml,cluster-template-in-memory-v1beta1.yaml,
#                                              clusterclass-in-memory.yaml}
# and <out>/clusterctl.yaml, a clusterctl config that points at them:
#   clusterctl generate provider --infrastructure capim-edge --describe --config <out>/clusterctl.yaml
#   clusterctl init --infrastructure capim-edge --config <out>/clusterctl.yaml   (CAPIM_EDGE_URL, CAPIM_EDGE_TOKEN set)
#   clusterctl generate cluster demo --infrastructure capim-edge:v0.1.0 --flavor in-memory --config <out>/clusterctl.yaml
# Usage: npm run release -- [out-dir] (default out/release); the version is package.json's.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-out/release}" && cd "${1:-out/release}" && pwd)
version="v$(node -p 'require("./package.json").version')"
dir="$out/infrastructure-capim-edge/$version"
mkdir -p "$dir"
# kubectl's built-in kustomize: the same tree `kubectl apply -k config` installs.
kubectl kustomize config > "$dir/infrastructure-components.yaml"
cp config/metadata.yaml "$dir/metadata.yaml"
cp config/templates/cluster-template-in-memory.yaml "$dir/cluster-template-in-memory.yaml"
cp config/templates/cluster-template-in-memory.yaml "$dir/cluster-template.yaml"
cp config/templates/cluster-template-in-memory-topology.yaml config/templates/cluster-template-in-memory-machinepool.yaml config/templates/cluster-template-in-memory-v1alpha1.yaml config/templates/cluster-template-in-memory-v1beta1.yaml config/templates/clusterclass-in-memory.yaml "$dir/"
cat > "$out/clusterctl.yaml" <<YAML
providers:
  - name: capim-edge
    type: InfrastructureProvider
    url: file://$dir/infrastructure-components.yaml
YAML
echo "$dir"
