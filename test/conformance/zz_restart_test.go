package conformance

// Runs last (file order): it restarts the whole local stack.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// A client-go informer across a restart of the edge (and controller) ends up with every change,
// including deletions made before it managed to reconnect.
func TestInformerAcrossEdgeRestart(t *testing.T) {
	name := clusterNames()[0]
	cfg, err := restConfigFromFile(theStack.clusterKubeconfig(name))
	if err != nil {
		t.Fatal(err)
	}
	clientset := kubernetes.NewForConfigOrDie(cfg)
	ctx := testContext(t, 8*time.Minute)
	ns := "informer-restart"
	if _, err := clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"keep", "drop", "change"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}, Data: map[string]string{"v": "1"}}
		if _, err := clientset.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().ConfigMaps().Informer()
	var deletes int
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) { deletes++ },
	})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		t.Fatal("informer did not sync")
	}
	if got := storeState(informer.GetStore()); got != "change=1,drop=1,keep=1" {
		t.Fatalf("initial informer state %s", got)
	}

	theStack.restart(t)

	// Right after the restart, before the informer's backoff lets it reconnect.
	if err := clientset.CoreV1().ConfigMaps(ns).Delete(ctx, "drop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	changed, err := clientset.CoreV1().ConfigMaps(ns).Get(ctx, "change", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed.Data["v"] = "2"
	if _, err := clientset.CoreV1().ConfigMaps(ns).Update(ctx, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	added := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: ns}, Data: map[string]string{"v": "1"}}
	if _, err := clientset.CoreV1().ConfigMaps(ns).Create(ctx, added, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	want := "change=2,keep=1,new=1"
	waitFor(t, 3*time.Minute, "informer to converge to "+want, func(context.Context) (bool, error) {
		got := storeState(informer.GetStore())
		return got == want, fmt.Errorf("informer state %s", got)
	})
	if deletes == 0 {
		t.Fatal("the informer never delivered the deletion")
	}
}

func storeState(store cache.Store) string {
	var parts []string
	for _, obj := range store.List() {
		cm := obj.(*corev1.ConfigMap)
		parts = append(parts, cm.Name+"="+cm.Data["v"])
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
