package main

// The workload each system gets, through client-go (the client CAPI's controllers use): fill N clusters
// with the shape of a small workload cluster, then GET, LIST by label, creates (one client and eight),
// watch delivery and a GET on a connection left idle.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	ns            = "bench"
	podsPerFill   = 30
	cmsPerFill    = 5
	listPods      = 200
	fillWorkers   = 8
	parallelUsers = 8
)

type system struct {
	Name      string          `json:"name"`
	Processes processes       `json:"processes"`
	Clusters  []clusterTarget `json:"clusters"`
	// Fill says whether this system stores its own data; "capim-edge direct" reads what the VIP system
	// stored in the same edge.
	Fill    bool `json:"fill"`
	clients []*kubernetes.Clientset
}

func (s *system) connect() error {
	s.clients = make([]*kubernetes.Clientset, len(s.Clusters))
	for i, c := range s.Clusters {
		cfg := &rest.Config{
			Host:            c.Server,
			BearerToken:     c.Token,
			TLSClientConfig: rest.TLSClientConfig{CAData: []byte(c.CA), CertData: []byte(c.Cert), KeyData: []byte(c.Key)},
			QPS:             -1, // no client-side rate limit: measure the server
			Timeout:         60 * time.Second,
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		s.clients[i] = cs
	}
	return nil
}

func pod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
		},
	}
}

func configMap(name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: map[string]string{"key": name}}
}

// fill gives every cluster a namespace, 1 Node, 30 Pods and 5 ConfigMaps (fillWorkers clusters at a
// time), and cluster 0 also the 200 labelled pods the LIST figure reads.
func (s *system) fill(ctx context.Context) error {
	work := make(chan int)
	errs := make(chan error, len(s.clients))
	var wg sync.WaitGroup
	for w := 0; w < fillWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fillOne(ctx, s.clients[i], i == 0); err != nil {
					errs <- fmt.Errorf("%s cluster %d: %w", s.Name, i, err)
				}
			}
		}()
	}
	for i := range s.clients {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func fillOne(ctx context.Context, c *kubernetes.Clientset, listCluster bool) error {
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"kubernetes.io/hostname": "node-1"}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for i := 0; i < podsPerFill; i++ {
		if _, err := c.CoreV1().Pods(ns).Create(ctx, pod(fmt.Sprintf("pod-%d", i), map[string]string{"app": "fill"}), metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	for i := 0; i < cmsPerFill; i++ {
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(fmt.Sprintf("cm-%d", i), nil), metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	if listCluster {
		for i := 0; i < listPods; i++ {
			tier := []string{"a", "b"}[i%2]
			if _, err := c.CoreV1().Pods(ns).Create(ctx, pod(fmt.Sprintf("list-%d", i), map[string]string{"tier": tier}), metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

type latencies []time.Duration

func (l latencies) quantile(q float64) float64 {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
}

// roundResult is one round of one system; figures in ms, or per second for rates.
type roundResult struct {
	GetP50, GetP99         float64
	GetCPU                 map[string]float64 // server CPU ms per GET, by process
	ListP50                float64
	CreatesSeq, CreatesPar float64
	WatchP50, WatchP99     float64
}

func (s *system) round(ctx context.Context, r int, gets, lists, creates, watches int) (roundResult, error) {
	var res roundResult
	rng := rand.New(rand.NewPCG(uint64(r), 7))
	// GET a random pod of a random cluster.
	var l latencies
	cpu0 := s.Processes.cpu()
	for i := 0; i < gets; i++ {
		c := s.clients[rng.IntN(len(s.clients))]
		t := time.Now()
		if _, err := c.CoreV1().Pods(ns).Get(ctx, fmt.Sprintf("pod-%d", rng.IntN(podsPerFill)), metav1.GetOptions{}); err != nil {
			return res, fmt.Errorf("get: %w", err)
		}
		l = append(l, time.Since(t))
	}
	res.GetCPU = map[string]float64{}
	for k, v := range diff(s.Processes.cpu(), cpu0) {
		res.GetCPU[k] = v * 1000 / float64(gets)
	}
	res.GetP50, res.GetP99 = l.quantile(0.5), l.quantile(0.99)
	// LIST 100 of cluster 0's 200 labelled pods.
	l = nil
	for i := 0; i < lists; i++ {
		t := time.Now()
		list, err := s.clients[0].CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "tier=a"})
		if err != nil {
			return res, fmt.Errorf("list: %w", err)
		}
		if len(list.Items) != listPods/2 {
			return res, fmt.Errorf("list: %d items, want %d", len(list.Items), listPods/2)
		}
		l = append(l, time.Since(t))
	}
	res.ListP50 = l.quantile(0.5)
	// Creates: one client in one cluster, then eight clients in eight clusters.
	prefix := fmt.Sprintf("r%d-%s", r, shortName(s.Name))
	c := s.clients[r%len(s.clients)]
	t := time.Now()
	for i := 0; i < creates; i++ {
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(fmt.Sprintf("%s-seq-%d", prefix, i), nil), metav1.CreateOptions{}); err != nil {
			return res, fmt.Errorf("create: %w", err)
		}
	}
	res.CreatesSeq = float64(creates) / time.Since(t).Seconds()
	var wg sync.WaitGroup
	errs := make(chan error, parallelUsers)
	t = time.Now()
	for u := 0; u < parallelUsers; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := s.clients[(r+u)%len(s.clients)]
			for i := 0; i < creates/parallelUsers; i++ {
				if _, err := pc.CoreV1().ConfigMaps(ns).Create(ctx, configMap(fmt.Sprintf("%s-par-%d-%d", prefix, u, i), nil), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return res, fmt.Errorf("parallel create: %w", err)
	}
	res.CreatesPar = float64(creates/parallelUsers*parallelUsers) / time.Since(t).Seconds()
	// Watch delivery: create -> ADDED on a watch of the same cluster.
	l, err := s.watchDelivery(ctx, c, prefix, watches)
	if err != nil {
		return res, err
	}
	res.WatchP50, res.WatchP99 = l.quantile(0.5), l.quantile(0.99)
	return res, nil
}

func (s *system) watchDelivery(ctx context.Context, c *kubernetes.Clientset, prefix string, n int) (latencies, error) {
	sel := "watch=" + prefix
	w, err := c.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	defer w.Stop()
	var l latencies
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-w-%d", prefix, i)
		t := time.Now()
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(name, map[string]string{"watch": prefix}), metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("watch create: %w", err)
		}
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return nil, fmt.Errorf("watch closed")
				}
				if cm, isCM := ev.Object.(*corev1.ConfigMap); ev.Type == watch.Added && isCM && cm.Name == name {
					l = append(l, time.Since(t))
					goto next
				}
			case <-time.After(30 * time.Second):
				return nil, fmt.Errorf("watch: no ADDED for %s in 30 s", name)
			}
		}
	next:
	}
	return l, nil
}

// idleGet is one GET on cluster 0 over the connection the last request used, after the caller idled.
func (s *system) idleGet(ctx context.Context) (time.Duration, error) {
	t := time.Now()
	_, err := s.clients[0].CoreV1().Pods(ns).Get(ctx, "pod-0", metav1.GetOptions{})
	return time.Since(t), err
}

func shortName(name string) string {
	out := []rune{}
	for _, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		}
	}
	if len(out) > 12 {
		out = out[:12]
	}
	return string(out)
}
