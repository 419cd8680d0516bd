package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sort"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	kcppkg "sigs.k8s.io/cluster-api/controlplane/kubeadm/pkg"
	"sigs.k8s.io/cluster-api/controlplane/kubeadm/pkg/etcd"
	"sigs.k8s.io/cluster-api/controlplane/kubeadm/pkg/proxy"
)

// etcdTLS builds a client certificate signed by the cluster's etcd CA (from the `<cluster>-etcd` Secret),
// the way KCP does, and verifies the serving chain against that CA.
func etcdTLS(t *testing.T, e *managementEnv, cluster string) *tls.Config {
	t.Helper()
	secret := &corev1.Secret{}
	ctx := testContext(t, 30*time.Second)
	if err := e.management.Client.Get(ctx, client.ObjectKey{Namespace: clusterNamespace, Name: cluster + "-etcd"}, secret); err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode(secret.Data["tls.crt"])
	keyBlock, _ := pem.Decode(secret.Data["tls.key"])
	if caBlock == nil || keyBlock == nil {
		t.Fatal("etcd CA secret without PEM tls.crt/tls.key")
	}
	caCert, err := x509.ParseCertificate(caBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := parsePrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return clientTLSFor(t, caCert, caKey)
}

func parsePrivateKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return x509.ParsePKCS8PrivateKey(der)
}

func clientTLSFor(t *testing.T, caCert *x509.Certificate, caKey any) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "kube-apiserver-etcd-client", Organization: []string{"system:masters"}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
		// Like KCP: the member is reached by pod name, so verify the chain, not the host name.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool})
			return err
		},
	}
}

func etcdClientFor(t *testing.T, restConfig *rest.Config, tlsConfig *tls.Config, node string) *etcd.Client {
	t.Helper()
	ctx := testContext(t, time.Minute)
	c, err := etcd.NewClient(ctx, etcd.ClientConfiguration{
		Endpoint:    "etcd-" + node,
		Proxy:       proxy.Proxy{Kind: "pods", Namespace: "kube-system", KubeConfig: restConfig, Port: 2379},
		TLSConfig:   tlsConfig,
		DialTimeout: 10 * time.Second,
		CallTimeout: 15 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcd.NewClient(etcd-%s): %v", node, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func controlPlaneNodes(t *testing.T, c client.Client) []string {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := c.List(testContext(t, 30*time.Second), nodes, client.MatchingLabels{"node-role.kubernetes.io/control-plane": ""}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	return names
}

// Status, MemberList and AlarmList through KCP's etcd client and port-forward dialer, on every member.
func TestEtcdThroughKCPClient(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[0]
	c := connectedClient(t, e, name)
	ctx := testContext(t, 2*time.Minute)
	restConfig := restConfigFor(t, e, name)
	tlsConfig := etcdTLS(t, e, name)
	cps := controlPlaneNodes(t, c)
	if len(cps) != controlPlanes {
		t.Fatalf("control-plane nodes %v", cps)
	}
	var leader uint64
	for _, node := range cps {
		ec := etcdClientFor(t, restConfig, tlsConfig, node)
		if ec.LeaderID == 0 {
			t.Fatalf("member %s reports no leader", node)
		}
		if leader == 0 {
			leader = ec.LeaderID
		} else if ec.LeaderID != leader {
			t.Fatalf("member %s reports leader %x, others %x", node, ec.LeaderID, leader)
		}
		members, err := ec.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		ids := map[uint64]bool{}
		for _, m := range members {
			names = append(names, m.Name)
			if m.ID == 0 || ids[m.ID] {
				t.Fatalf("member ids not unique and non-zero: %+v", members)
			}
			ids[m.ID] = true
		}
		sort.Strings(names)
		if len(names) != len(cps) || names[0] != cps[0] || names[len(names)-1] != cps[len(cps)-1] {
			t.Fatalf("members %v, control-plane nodes %v", names, cps)
		}
		if !ids[leader] {
			t.Fatalf("leader %x is not a member", leader)
		}
		alarms, err := ec.Alarms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(alarms) != 0 {
			t.Fatalf("alarms on a healthy cluster: %+v", alarms)
		}
	}

	// The apiserver certificate expiry, read through the 6443 tunnel like KCP does.
	w := workloadCluster(t, e, name)
	expiry, err := w.GetAPIServerCertificateExpiry(ctx, &bootstrapv1.KubeadmConfig{}, cps[0])
	if err != nil {
		t.Fatalf("GetAPIServerCertificateExpiry: %v", err)
	}
	if !expiry.After(time.Now().Add(24 * time.Hour)) {
		t.Fatalf("apiserver certificate expires at %s", expiry)
	}
}

// KCP scale-down: move leadership off a member, then remove it.
func TestEtcdMoveLeaderAndRemoveMember(t *testing.T) {
	e := sharedEnv(t)
	name := clusterNames()[1]
	c := connectedClient(t, e, name)
	ctx := testContext(t, 2*time.Minute)
	restConfig := restConfigFor(t, e, name)
	tlsConfig := etcdTLS(t, e, name)
	cps := controlPlaneNodes(t, c)
	ec := etcdClientFor(t, restConfig, tlsConfig, cps[0])
	members, err := ec.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uint64]*etcd.Member{}
	for _, m := range members {
		byID[m.ID] = m
	}
	leader := byID[ec.LeaderID]
	if leader == nil {
		t.Fatalf("leader %x not among members", ec.LeaderID)
	}
	var follower *etcd.Member
	for _, m := range members {
		if m.ID != leader.ID {
			follower = m
			break
		}
	}

	w := workloadCluster(t, e, name)
	if err := w.ForwardEtcdLeadership(ctx, leader.Name, follower.Name); err != nil {
		t.Fatalf("ForwardEtcdLeadership(%s -> %s): %v", leader.Name, follower.Name, err)
	}
	after := etcdClientFor(t, restConfig, tlsConfig, follower.Name)
	if after.LeaderID != follower.ID {
		t.Fatalf("leader after move: %x, want %x (%s)", after.LeaderID, follower.ID, follower.Name)
	}

	nodes, err := kcppkg.ListTransformedNodes(ctx, w.Client, client.MatchingLabels{"node-role.kubernetes.io/control-plane": ""})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RemoveEtcdMember(ctx, leader, nodes); err != nil {
		t.Fatalf("RemoveEtcdMember(%s): %v", leader.Name, err)
	}
	remaining, err := after.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(remaining) != len(members)-1 {
		t.Fatalf("members after remove: %d, want %d", len(remaining), len(members)-1)
	}
	for _, m := range remaining {
		if m.ID == leader.ID {
			t.Fatalf("removed member %s still listed", leader.Name)
		}
	}
	// Removing it again is a no-op for KCP (the member is already gone).
	if err := w.RemoveEtcdMember(ctx, leader, nodes); err != nil {
		t.Fatalf("second RemoveEtcdMember: %v", err)
	}
}
