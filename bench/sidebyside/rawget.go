package main

// `sidebyside get`: sequential GETs of one URL over Go's own HTTP/2 (or HTTP/1.1 for http://) transport,
// not client-go, for the floor benchmark (bench/floor.ts): client-go's decoding and rate limiting are the
// same on every side, so the raw transport shows the servers' own latency and CPU per request.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func rawGet(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	url := fs.String("url", "", "the URL to GET")
	caFile := fs.String("ca", "", "PEM CA that signed the server's certificate")
	certFile := fs.String("cert", "", "PEM client certificate (optional)")
	keyFile := fs.String("key", "", "PEM client key (optional)")
	pidList := fs.String("pids", "", "comma-separated server pids whose CPU is measured")
	n := fs.Int("n", 5000, "measured requests (after 500 to warm up)")
	_ = fs.Parse(args)
	cfg := &tls.Config{}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(pem)
	}
	if *certFile != "" {
		c, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
	token := os.Getenv("SIDEBYSIDE_TOKEN")
	get := func() (time.Duration, error) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, *url, nil)
		req.Header.Set("Accept", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", *url, res.Status)
		}
		return time.Since(start), nil
	}
	var pids []int
	for _, p := range strings.Split(*pidList, ",") {
		if v, err := strconv.Atoi(p); err == nil {
			pids = append(pids, v)
		}
	}
	cpu := func() []float64 {
		out := make([]float64, len(pids))
		for i, p := range pids {
			out[i] = cpuSeconds(p)
		}
		return out
	}
	for i := 0; i < 500; i++ {
		if _, err := get(); err != nil {
			return err
		}
	}
	lat := make([]float64, *n)
	before := cpu()
	for i := range lat {
		d, err := get()
		if err != nil {
			return err
		}
		lat[i] = float64(d.Microseconds()) / 1000
	}
	after := cpu()
	cpuMs := map[string]float64{}
	for i, p := range pids {
		cpuMs[strconv.Itoa(p)] = (after[i] - before[i]) * 1000 / float64(*n)
	}
	sort.Float64s(lat)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"p50": lat[*n/2], "p99": lat[*n*99/100], "cpuMsPerRequest": cpuMs})
}
