package conformance

// One controller-runtime manager on the embedded management API, with CAPI's ClusterCache wired exactly as
// CAPI's controllers wire it, and KCP's Management (which hands out the Workload used by KCP).

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/clustercache"
	kcppkg "sigs.k8s.io/cluster-api/controlplane/kubeadm/pkg"
	"sigs.k8s.io/cluster-api/util/cache"
)

type managementEnv struct {
	client       client.Client
	clusterCache clustercache.ClusterCache
	management   *kcppkg.Management
	cancel       context.CancelFunc
}

var (
	envOnce sync.Once
	envErr  error
	env     *managementEnv
)

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = clusterv1.AddToScheme(scheme)
	_ = bootstrapv1.AddToScheme(scheme)
	_ = controlplanev1.AddToScheme(scheme)
	return scheme
}

func restConfigFromFile(path string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", path)
}

// sharedEnv starts the manager and ClusterCache once and waits until every workload cluster is connected.
func sharedEnv(t *testing.T) *managementEnv {
	t.Helper()
	envOnce.Do(func() { env, envErr = startManagementEnv() })
	if envErr != nil {
		t.Fatalf("management environment: %v", envErr)
	}
	return env
}

func startManagementEnv() (*managementEnv, error) {
	cfg, err := restConfigFromFile(theStack.managementKubeconfig())
	if err != nil {
		return nil, err
	}
	scheme := newScheme()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cc, err := clustercache.SetupWithManager(ctx, mgr, clustercache.Options{
		SecretClient: mgr.GetAPIReader(),
		Cache: clustercache.CacheOptions{
			Indexes: []clustercache.CacheOptionsIndex{clustercache.NodeProviderIDIndex},
		},
		Client: clustercache.ClientOptions{
			QPS:       20,
			Burst:     30,
			UserAgent: "capim-conformance",
			Cache: clustercache.ClientCacheOptions{
				DisableFor: []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}},
			},
		},
	}, controller.Options{MaxConcurrentReconciles: 5})
	if err != nil {
		cancel()
		return nil, err
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		cancel()
		return nil, context.Canceled
	}
	e := &managementEnv{
		client:       mgr.GetClient(),
		clusterCache: cc,
		cancel:       cancel,
		management: &kcppkg.Management{
			Client:              mgr.GetAPIReader(),
			SecretCachingClient: mgr.GetClient(),
			ClusterCache:        cc,
			EtcdDialTimeout:     10 * time.Second,
			EtcdCallTimeout:     15 * time.Second,
			EtcdLogger:          zap.NewNop(),
			ClientCertCache:     cache.New[kcppkg.ClientCertEntry](ctx, 24*time.Hour),
		},
	}
	return e, nil
}

// connectedClient waits until the ClusterCache has connected to the cluster and returns its cached client.
func connectedClient(t *testing.T, e *managementEnv, name string) client.Client {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	key := client.ObjectKey{Namespace: clusterNamespace, Name: name}
	for {
		c, err := e.clusterCache.GetClient(ctx, key)
		if err == nil {
			return c
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ClusterCache never connected to %s: %v (last error: %v)", key, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// restConfigFor returns the REST config the ClusterCache built for a connected cluster (its VIP, its client cert).
func restConfigFor(t *testing.T, e *managementEnv, name string) *rest.Config {
	t.Helper()
	cfg, err := e.clusterCache.GetRESTConfig(testContext(t, 30*time.Second), client.ObjectKey{Namespace: clusterNamespace, Name: name})
	if err != nil {
		t.Fatalf("REST config of %s: %v", name, err)
	}
	return cfg
}

func getCluster(t *testing.T, e *managementEnv, name string) *clusterv1.Cluster {
	t.Helper()
	cluster := &clusterv1.Cluster{}
	ctx := testContext(t, 30*time.Second)
	if err := e.management.Client.Get(ctx, client.ObjectKey{Namespace: clusterNamespace, Name: name}, cluster); err != nil {
		t.Fatalf("get Cluster %s: %v", name, err)
	}
	return cluster
}

func workloadCluster(t *testing.T, e *managementEnv, name string) *kcppkg.Workload {
	t.Helper()
	connectedClient(t, e, name)
	ctx := testContext(t, time.Minute)
	w, err := e.management.GetWorkloadCluster(ctx, getCluster(t, e, name), bootstrapv1.EncryptionAlgorithmRSA2048)
	if err != nil {
		t.Fatalf("GetWorkloadCluster(%s): %v", name, err)
	}
	workload, ok := w.(*kcppkg.Workload)
	if !ok {
		t.Fatalf("GetWorkloadCluster returned %T", w)
	}
	return workload
}
