// Command sidebyside measures capim-edge next to CAPI's in-memory server with one client-go workload
// (`npm run bench -- --only sidebyside` builds and runs it; bench/sidebyside.ts starts capim-edge and
// formats the results into BENCHMARKS.md).
//
//	sidebyside serve --clusters N --min-port P --max-port Q --debug-port D
//	    CAPI's in-memory server with N workload clusters (see inmemory.go).
//	sidebyside run --targets capim.json --clusters N [--rounds 3 ...]
//	    Starts `serve` as a child, reads capim-edge's systems from --targets, fills every system's N
//	    clusters, runs the rounds interleaved (the systems take turns, in a rotating order), and prints
//	    one JSON document with per-round figures, fill CPU and RSS per server process.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sidebyside serve|run|get [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		clusters := fs.Int("clusters", 10, "workload clusters")
		minPort := fs.Int("min-port", 31000, "first listener port")
		maxPort := fs.Int("max-port", 32999, "last listener port")
		debugPort := fs.Int("debug-port", 0, "the mux's debug port")
		_ = fs.Parse(os.Args[2:])
		err = serveInMemory(*clusters, *minPort, *maxPort, *debugPort)
	case "run":
		err = run(os.Args[2:])
	case "get":
		err = rawGet(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

type systemReport struct {
	Name      string             `json:"name"`
	RssEmpty  map[string]float64 `json:"rssEmpty"`
	RssFilled map[string]float64 `json:"rssFilled"`
	FillCPU   map[string]float64 `json:"fillCpu"`
	FillSecs  float64            `json:"fillSeconds"`
	Rounds    []roundResult      `json:"rounds"`
	IdleGetMs []float64          `json:"idleGetMs"`
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	targets := fs.String("targets", "", "capim-edge systems (JSON written by bench/sidebyside.ts)")
	clusters := fs.Int("clusters", 10, "workload clusters per system")
	rounds := fs.Int("rounds", 3, "interleaved rounds")
	gets := fs.Int("gets", 1000, "GETs per round")
	lists := fs.Int("lists", 50, "LISTs per round")
	creates := fs.Int("creates", 400, "creates per round (sequential, and again split over 8 clients)")
	watches := fs.Int("watches", 100, "watch deliveries per round")
	idle := fs.Duration("idle", 20*time.Second, "idle time before the idle GET")
	idleSamples := fs.Int("idle-samples", 3, "idle GETs per system")
	minPort := fs.Int("min-port", 31000, "the in-memory server's first port")
	maxPort := fs.Int("max-port", 32999, "the in-memory server's last port")
	debugPort := fs.Int("debug-port", 0, "the in-memory server's debug port")
	_ = fs.Parse(args)
	ctx := context.Background()

	var capim struct {
		Systems  []*system                     `json:"systems"`
		RssEmpty map[string]map[string]float64 `json:"rssEmpty"`
	}
	b, err := os.ReadFile(*targets)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &capim); err != nil {
		return err
	}

	self, _ := os.Executable()
	serve := exec.Command(self, "serve", fmt.Sprint("--clusters=", *clusters), fmt.Sprint("--min-port=", *minPort), fmt.Sprint("--max-port=", *maxPort), fmt.Sprint("--debug-port=", *debugPort))
	serve.Stderr = nil
	stdin, _ := serve.StdinPipe()
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() { _ = stdin.Close(); _ = serve.Wait() }()
	// The in-memory server's RSS before its clusters exist is not observable from here (they are made
	// before it reports); the parent samples it right after start, which is close: listeners are cheap.
	time.Sleep(200 * time.Millisecond)
	inmemEmpty := rssBytes(serve.Process.Pid)
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("in-memory server: %w", err)
	}
	var inmem struct {
		Pid      int             `json:"pid"`
		Clusters []clusterTarget `json:"clusters"`
	}
	if err := json.Unmarshal(line, &inmem); err != nil {
		return err
	}
	inmemory := &system{Name: "CAPI in-memory server", Processes: processes{"in-memory server": inmem.Pid}, Clusters: inmem.Clusters, Fill: true}
	systems := append([]*system{inmemory}, capim.Systems...)
	reports := map[string]*systemReport{}
	for _, s := range systems {
		if err := s.connect(); err != nil {
			return err
		}
		empty := capim.RssEmpty[s.Name]
		if s == inmemory {
			empty = map[string]float64{"in-memory server": inmemEmpty}
		}
		reports[s.Name] = &systemReport{Name: s.Name, RssEmpty: empty}
	}
	for _, s := range systems {
		if !s.Fill {
			continue
		}
		cpu0 := s.Processes.cpu()
		t := time.Now()
		fmt.Fprintf(os.Stderr, "sidebyside: filling %d clusters of %s\n", len(s.clients), s.Name)
		if err := s.fill(ctx); err != nil {
			return err
		}
		reports[s.Name].FillSecs = time.Since(t).Seconds()
		reports[s.Name].FillCPU = diff(s.Processes.cpu(), cpu0)
	}
	for _, s := range systems {
		reports[s.Name].RssFilled = s.Processes.rss()
	}
	for r := 0; r < *rounds; r++ {
		for k := range systems {
			s := systems[(r+k)%len(systems)]
			fmt.Fprintf(os.Stderr, "sidebyside: round %d, %s\n", r+1, s.Name)
			res, err := s.round(ctx, r, *gets, *lists, *creates, *watches)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", s.Name, r+1, err)
			}
			reports[s.Name].Rounds = append(reports[s.Name].Rounds, res)
		}
	}
	for i := 0; i < *idleSamples; i++ {
		for _, s := range systems {
			if _, err := s.idleGet(ctx); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "sidebyside: idle %s (%d/%d)\n", *idle, i+1, *idleSamples)
		time.Sleep(*idle) // the figure is what an idle connection costs, so idling is the measurement
		for _, s := range systems {
			d, err := s.idleGet(ctx)
			if err != nil {
				return err
			}
			reports[s.Name].IdleGetMs = append(reports[s.Name].IdleGetMs, float64(d.Microseconds())/1000)
		}
	}
	out := make([]*systemReport, 0, len(systems))
	for _, s := range systems {
		out = append(out, reports[s.Name])
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"clusters": *clusters, "systems": out})
}
