package conformance

import (
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workerNode returns the worker node of a cluster (the one without the control-plane label).
func workerNode(t *testing.T, c client.Client) *corev1.Node {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := c.List(testContext(t, 30*time.Second), nodes); err != nil {
		t.Fatal(err)
	}
	for i := range nodes.Items {
		if _, cp := nodes.Items[i].Labels["node-role.kubernetes.io/control-plane"]; !cp {
			return &nodes.Items[i]
		}
	}
	t.Fatal("no worker node")
	return nil
}

// The Machine controller's Node calls: lookup by providerID, SMP with optimistic lock, cordon, drain, delete.
func TestMachineControllerNodeCalls(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[1]
	connectedClient(t, e, name)
	ctx := testContext(t, 3*time.Minute)
	key := client.ObjectKey{Namespace: clusterNamespace, Name: name}
	live, err := e.clusterCache.GetUncachedClient(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	restConfig := restConfigFor(t, e, name)
	clientset := kubernetes.NewForConfigOrDie(restConfig)

	node := workerNode(t, live)
	if node.Spec.ProviderID != "in-memory://"+node.Name {
		t.Fatalf("node %s providerID %q", node.Name, node.Spec.ProviderID)
	}

	// Strategic merge patch carrying metadata.resourceVersion (CAPI's patch helper with optimistic lock).
	original := node.DeepCopy()
	modified := node.DeepCopy()
	modified.Labels["conformance.capim-edge.dev/role"] = "worker"
	modified.Annotations = map[string]string{"cluster.x-k8s.io/machine": node.Name}
	if err := live.Patch(ctx, modified, client.StrategicMergeFrom(original, client.MergeFromWithOptimisticLock{})); err != nil {
		t.Fatalf("SMP with current resourceVersion: %v", err)
	}
	if modified.ResourceVersion == original.ResourceVersion {
		t.Fatal("resourceVersion did not change after a patch")
	}
	stale := original.DeepCopy()
	stale.Labels["conformance.capim-edge.dev/stale"] = "true"
	err = live.Patch(ctx, stale, client.StrategicMergeFrom(original, client.MergeFromWithOptimisticLock{}))
	if !apierrors.IsConflict(err) {
		t.Fatalf("SMP with stale resourceVersion: want Conflict, got %v", err)
	}
	got := &corev1.Node{}
	if err := live.Get(ctx, client.ObjectKeyFromObject(node), got); err != nil {
		t.Fatal(err)
	}
	if got.Labels["conformance.capim-edge.dev/role"] != "worker" || got.Labels["conformance.capim-edge.dev/stale"] != "" {
		t.Fatalf("labels after patches: %v", got.Labels)
	}
	if got.Annotations["cluster.x-k8s.io/machine"] != node.Name {
		t.Fatalf("annotations after patch: %v", got.Annotations)
	}

	// Cordon: merge patch of spec.unschedulable.
	before := got.DeepCopy()
	got.Spec.Unschedulable = true
	if err := live.Patch(ctx, got, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	cordoned, err := clientset.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !cordoned.Spec.Unschedulable {
		t.Fatal("node not cordoned")
	}

	// Drain: pods on the node, listed by field selector with paging, then evicted.
	ns := "drain-conformance"
	if _, err := clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const podCount = 130
	for i := 0; i < podCount; i++ {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%03d", i), Namespace: ns},
			Spec: corev1.PodSpec{
				NodeName:   node.Name,
				Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
			},
		}
		if _, err := clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %d: %v", i, err)
		}
	}
	// An unrelated pod on another node must not be listed.
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: ns},
		Spec: corev1.PodSpec{NodeName: "not-" + node.Name, Containers: []corev1.Container{{Name: "app", Image: "x"}}}}
	if _, err := clientset.CoreV1().Pods(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	pages := 0
	opts := metav1.ListOptions{FieldSelector: "spec.nodeName=" + node.Name, Limit: 100}
	for {
		page, err := clientset.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			t.Fatalf("drain list: %v", err)
		}
		pages++
		if len(page.Items) > 100 {
			t.Fatalf("page of %d items with limit 100", len(page.Items))
		}
		for _, p := range page.Items {
			if p.Spec.NodeName != node.Name {
				t.Fatalf("pod %s/%s on %q listed for %s", p.Namespace, p.Name, p.Spec.NodeName, node.Name)
			}
			listed = append(listed, p.Namespace+"/"+p.Name)
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	sort.Strings(listed)
	if len(listed) != podCount || pages != 2 {
		t.Fatalf("drain listed %d pods in %d pages, want %d in 2", len(listed), pages, podCount)
	}
	for i := 1; i < len(listed); i++ {
		if listed[i] == listed[i-1] {
			t.Fatalf("pod %s listed twice across pages", listed[i])
		}
	}
	victim := "app-007"
	err = clientset.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: victim, Namespace: ns}})
	if err != nil {
		t.Fatalf("evict: %v", err)
	}
	if _, err := clientset.CoreV1().Pods(ns).Get(ctx, victim, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("evicted pod still there: %v", err)
	}
	err = clientset.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "no-such-pod", Namespace: ns}})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("evicting a missing pod: want NotFound, got %v", err)
	}

	// Node DELETE on machine deletion.
	if err := live.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := live.Get(ctx, client.ObjectKeyFromObject(got), &corev1.Node{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deleted node still there: %v", err)
	}
}
