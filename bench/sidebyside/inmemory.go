package main

// The `serve` mode: CAPI's in-memory server (sigs.k8s.io/cluster-api/test/infrastructure/inmemory, what
// CAPD's in-memory backend runs) with N workload clusters, in a process of its own so that its CPU and
// RSS are measured apart from the client. It prints one JSON line with each cluster's endpoint and admin
// credentials (the listener's own RESTConfig, as CAPI's tests use), then serves until stdin closes.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	inmemoryruntime "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/runtime"
	inmemoryserver "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/server"
	"sigs.k8s.io/cluster-api/util/certs"
)

type clusterTarget struct {
	Server string `json:"server"`
	CA     string `json:"ca"`
	Cert   string `json:"cert,omitempty"`
	Key    string `json:"key,omitempty"`
	Token  string `json:"token,omitempty"`
}

func serveInMemory(clusters, minPort, maxPort, debugPort int) error {
	ctrl.SetLogger(klog.Background())
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{metav1.AddMetaToScheme, corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	manager := inmemoryruntime.NewManager(scheme)
	mux, err := inmemoryserver.NewWorkloadClustersMux(manager, "127.0.0.1", inmemoryserver.CustomPorts{
		MinPort: int32(minPort), MaxPort: int32(maxPort), DebugPort: int32(debugPort),
	})
	if err != nil {
		return err
	}
	caCert, caKey, err := newCA()
	if err != nil {
		return err
	}
	out := make([]clusterTarget, 0, clusters)
	for i := 0; i < clusters; i++ {
		name := fmt.Sprintf("c%d", i)
		manager.AddResourceGroup(name)
		listener, err := mux.InitWorkloadClusterListener(name)
		if err != nil {
			return err
		}
		if err := mux.RegisterResourceGroup(name, name); err != nil {
			return err
		}
		if err := mux.AddAPIServer(name, "kube-apiserver-"+name, caCert, caKey); err != nil {
			return err
		}
		cfg, err := listener.RESTConfig()
		if err != nil {
			return err
		}
		out = append(out, clusterTarget{Server: cfg.Host, CA: string(cfg.CAData), Cert: string(cfg.CertData), Key: string(cfg.KeyData)})
	}
	line, _ := json.Marshal(map[string]any{"pid": os.Getpid(), "clusters": out})
	fmt.Println(string(line))
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
	return nil
}

// newCA is one cluster CA for every cluster: generating 1000 RSA keys would measure keygen, which CAPI
// does once per cluster in both systems alike.
func newCA() (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := certs.NewPrivateKey()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}
