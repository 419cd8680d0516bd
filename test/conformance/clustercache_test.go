package conformance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"sigs.k8s.io/cluster-api/controllers/clustercache"
)

// devMachineNames lists the DevMachines the embedded driver created for a cluster, from the management API.
func devMachineNames(t *testing.T, e *managementEnv, cluster string) []string {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(schema.GroupVersionKind{Group: "infrastructure.cluster.x-k8s.io", Version: "v1beta2", Kind: "DevMachineList"})
	ctx := testContext(t, 30*time.Second)
	if err := e.management.Client.List(ctx, list, client.InNamespace(clusterNamespace), client.MatchingLabels{"cluster.x-k8s.io/cluster-name": cluster}); err != nil {
		t.Fatalf("list DevMachines of %s: %v", cluster, err)
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.GetName())
	}
	sort.Strings(names)
	return names
}

func TestClusterCacheConnectsProbesAndSyncs(t *testing.T) {
	e := sharedEnv(t)
	for _, name := range clusterNames() {
		t.Run(name, func(t *testing.T) {
			c := connectedClient(t, e, name)
			ctx := testContext(t, time.Minute)
			key := client.ObjectKey{Namespace: clusterNamespace, Name: name}

			// The health probe (GET / every 10 s) ran and succeeded.
			deadline := time.Now().Add(30 * time.Second)
			for {
				state := e.clusterCache.GetHealthCheckingState(ctx, key)
				if !state.LastProbeSuccessTime.IsZero() && state.ConsecutiveFailures == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no successful health probe: %+v", state)
				}
				time.Sleep(200 * time.Millisecond)
			}

			// The dynamic REST mapper resolves v1 Node through discovery.
			mapping, err := c.RESTMapper().RESTMapping(schema.GroupKind{Kind: "Node"}, "v1")
			if err != nil {
				t.Fatalf("RESTMapping(v1 Node): %v", err)
			}
			if mapping.Resource.Resource != "nodes" || mapping.Scope.Name() != "root" {
				t.Fatalf("v1 Node mapped to %v scope %s", mapping.Resource, mapping.Scope.Name())
			}

			// Self-detection: the controller's own pod does not exist in the workload cluster.
			uncached, err := e.clusterCache.GetUncachedClient(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			err = uncached.Get(ctx, client.ObjectKey{Namespace: "capi-system", Name: "capi-controller-manager-conformance"}, &corev1.Pod{})
			if !apierrors.IsNotFound(err) {
				t.Fatalf("self-detection GET: want NotFound, got %v", err)
			}

			// The cache syncs Nodes: one per DevMachine, found by the providerID index.
			machines := devMachineNames(t, e, name)
			if len(machines) != controlPlanes+workers {
				t.Fatalf("DevMachines of %s: %v", name, machines)
			}
			nodes := &corev1.NodeList{}
			if err := c.List(ctx, nodes); err != nil {
				t.Fatal(err)
			}
			var nodeNames []string
			for _, n := range nodes.Items {
				nodeNames = append(nodeNames, n.Name)
			}
			sort.Strings(nodeNames)
			if strings.Join(nodeNames, ",") != strings.Join(machines, ",") {
				t.Fatalf("nodes %v, DevMachines %v", nodeNames, machines)
			}
			for _, m := range machines {
				byID := &corev1.NodeList{}
				providerID := fmt.Sprintf("in-memory://%s", m)
				if err := c.List(ctx, byID, client.MatchingFields{clustercache.NodeProviderIDIndex.Field: providerID}); err != nil {
					t.Fatalf("list by providerID: %v", err)
				}
				if len(byID.Items) != 1 || byID.Items[0].Name != m {
					t.Fatalf("providerID %s matched %d nodes", providerID, len(byID.Items))
				}
			}
		})
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx := testContext(t, timeout)
	var lastErr error
	for {
		ok, err := check(ctx)
		if ok {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
