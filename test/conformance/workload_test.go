package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
)

// KCP's calls on a workload cluster, through KCP's own Workload type (controlplane/kubeadm/pkg).
func TestKCPWorkloadCalls(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[0]
	w := workloadCluster(t, e, name)
	ctx := testContext(t, 3*time.Minute)
	// KCP writes through the ClusterCache's cached client; read results back live, since a cache may
	// lag behind a write that just returned.
	c, err := e.clusterCache.GetUncachedClient(ctx, client.ObjectKey{Namespace: clusterNamespace, Name: name})
	if err != nil {
		t.Fatal(err)
	}

	ok, err := w.HasKubeadmConfig(ctx)
	if err != nil || !ok {
		t.Fatalf("HasKubeadmConfig = %v, %v", ok, err)
	}

	// kubeadm-config: GET, decode ClusterConfiguration, mutate, PUT with resourceVersion (conflict retry inside).
	version := semver.MustParse("1.31.2")
	err = w.UpdateClusterConfiguration(ctx, version, func(cfg *bootstrapv1.ClusterConfiguration) {
		cfg.CertificatesDir = "/etc/kubernetes/conformance-pki"
	})
	if err != nil {
		t.Fatalf("UpdateClusterConfiguration: %v", err)
	}
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "kubeadm-config"}, cm); err != nil {
		t.Fatal(err)
	}
	cfg := cm.Data["ClusterConfiguration"]
	if !strings.Contains(cfg, "/etc/kubernetes/conformance-pki") || !strings.Contains(cfg, "v1.31.2") {
		t.Fatalf("kubeadm-config after update:\n%s", cfg)
	}
	// A stale resourceVersion is refused, which is what makes RetryOnConflict necessary.
	stale := cm.DeepCopy()
	cm.Data["marker"] = "first"
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	stale.Data["marker"] = "second"
	if err := c.Update(ctx, stale); !apierrors.IsConflict(err) {
		t.Fatalf("update with stale resourceVersion: want Conflict, got %v", err)
	}

	// kube-proxy: GET + merge patch of the image.
	kcp := &controlplanev1.KubeadmControlPlane{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: clusterNamespace},
		Spec:       controlplanev1.KubeadmControlPlaneSpec{Version: "v1.31.2"},
	}
	if err := w.UpdateKubeProxyImageInfo(ctx, kcp); err != nil {
		t.Fatalf("UpdateKubeProxyImageInfo: %v", err)
	}
	ds := &appsv1.DaemonSet{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "kube-proxy"}, ds); err != nil {
		t.Fatal(err)
	}
	if img := ds.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, "kube-proxy:v1.31.2") {
		t.Fatalf("kube-proxy image %q", img)
	}

	// CoreDNS: ConfigMap PUT without resourceVersion and Deployment patch, driven by KCP's migration code.
	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "coredns"}, dep); err != nil {
		t.Fatal(err)
	}
	from := dep.Spec.Template.Spec.Containers[0].Image
	target := "v1.11.3"
	if strings.HasSuffix(from, ":"+target) {
		target = "v1.11.4"
	}
	kcp.Spec.KubeadmConfigSpec.ClusterConfiguration.DNS.ImageTag = target
	if err := w.UpdateCoreDNS(ctx, kcp); err != nil {
		t.Fatalf("UpdateCoreDNS from %s to %s: %v", from, target, err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "coredns"}, dep); err != nil {
		t.Fatal(err)
	}
	if img := dep.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, ":"+target) {
		t.Fatalf("coredns image %q after update to %s", img, target)
	}
	corefile := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "coredns"}, corefile); err != nil {
		t.Fatal(err)
	}
	if corefile.Data["Corefile"] == "" || corefile.Data["Corefile-backup"] == "" {
		t.Fatalf("coredns ConfigMap keys after migration: %v", keys(corefile.Data))
	}

	// kubeadm RBAC: GET + POST of the ClusterRole/ClusterRoleBinding KCP needs.
	if err := w.EnsureKubeadmPermissions(ctx, version); err != nil {
		t.Fatalf("EnsureKubeadmPermissions: %v", err)
	}
	crb := &rbacv1.ClusterRoleBinding{}
	if err := c.Get(ctx, client.ObjectKey{Name: "kubeadm:get-nodes"}, crb); err != nil {
		t.Fatal(err)
	}
	if crb.RoleRef.Name != "kubeadm:get-nodes" {
		t.Fatalf("kubeadm:get-nodes roleRef %+v", crb.RoleRef)
	}
}

// CABPK's bootstrap token Secrets: POST, GET, PUT.
func TestBootstrapTokenSecrets(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[0]
	connectedClient(t, e, name)
	ctx := testContext(t, time.Minute)
	live, err := e.clusterCache.GetUncachedClient(ctx, client.ObjectKey{Namespace: clusterNamespace, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-abcdef", Namespace: "kube-system"},
		Type:       corev1.SecretTypeBootstrapToken,
		StringData: map[string]string{
			"token-id": "abcdef", "token-secret": "0123456789abcdef",
			"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
			"expiration": time.Now().Add(15 * time.Minute).UTC().Format(time.RFC3339),
		},
	}
	if err := live.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	got := &corev1.Secret{}
	if err := live.Get(ctx, client.ObjectKeyFromObject(secret), got); err != nil {
		t.Fatal(err)
	}
	if string(got.Data["token-id"]) != "abcdef" || got.Type != corev1.SecretTypeBootstrapToken {
		t.Fatalf("bootstrap token secret read back as %v / %q", keys(stringMap(got.Data)), got.Type)
	}
	newExpiry := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	got.Data["expiration"] = []byte(newExpiry)
	if err := live.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	again := &corev1.Secret{}
	if err := live.Get(ctx, client.ObjectKeyFromObject(secret), again); err != nil {
		t.Fatal(err)
	}
	if string(again.Data["expiration"]) != newExpiry {
		t.Fatalf("expiration after PUT: %q", again.Data["expiration"])
	}
	duplicate := secret.DeepCopy()
	duplicate.ResourceVersion = ""
	if err := live.Create(ctx, duplicate); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: want AlreadyExists, got %v", err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func stringMap(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}
