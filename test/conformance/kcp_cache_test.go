package conformance

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KCP caches only kube-system pods with the control-plane selector, and Nodes.
func TestKCPCachedReads(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[0]
	connectedClient(t, e, name)
	ctx := testContext(t, 2*time.Minute)
	restConfig := restConfigFor(t, e, name)
	tier, _ := labels.NewRequirement("tier", selection.Equals, []string{"control-plane"})
	component, _ := labels.NewRequirement("component", selection.In, []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"})
	selector := labels.NewSelector().Add(*tier, *component)
	cache, err := ctrlcache.New(restConfig, ctrlcache.Options{
		Scheme: newScheme(),
		ByObject: map[client.Object]ctrlcache.ByObject{
			&corev1.Pod{}: {Label: selector, Namespaces: map[string]ctrlcache.Config{"kube-system": {}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cacheCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = cache.Start(cacheCtx) }()
	if !cache.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	pods := &corev1.PodList{}
	if err := cache.List(ctx, pods, client.InNamespace("kube-system")); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 4*controlPlanes {
		t.Fatalf("want %d control-plane pods, got %d", 4*controlPlanes, len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || !podReady(&p) || p.Spec.NodeName == "" {
			t.Fatalf("pod %s: phase %s ready %v node %q", p.Name, p.Status.Phase, podReady(&p), p.Spec.NodeName)
		}
		if p.Name != p.Labels["component"]+"-"+p.Spec.NodeName {
			t.Fatalf("pod %s: component %q on node %q", p.Name, p.Labels["component"], p.Spec.NodeName)
		}
	}
	nodes := &corev1.NodeList{}
	if err := cache.List(ctx, nodes, client.MatchingLabels{"node-role.kubernetes.io/control-plane": ""}); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != controlPlanes {
		t.Fatalf("want %d control-plane nodes, got %d", controlPlanes, len(nodes.Items))
	}

	// A change made on the edge reaches the cache through its watch.
	live, err := client.New(restConfig, client.Options{Scheme: newScheme()})
	if err != nil {
		t.Fatal(err)
	}
	target := pods.Items[0].DeepCopy()
	patched := target.DeepCopy()
	if patched.Annotations == nil {
		patched.Annotations = map[string]string{}
	}
	patched.Annotations["conformance.capim-edge.dev/touched"] = "yes"
	if err := live.Patch(ctx, patched, client.MergeFrom(target)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "annotation in the cache", func(ctx context.Context) (bool, error) {
		got := &corev1.Pod{}
		if err := cache.Get(ctx, client.ObjectKeyFromObject(target), got); err != nil {
			return false, err
		}
		return got.Annotations["conformance.capim-edge.dev/touched"] == "yes", nil
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
