package conformance

// The local capim-edge stack (the embedded default: miniflare edge, embedded management API, controller
// and the CAPI stand-in driver) is started once for the whole package by TestMain, exactly as a user
// would start it: `npm start -- ...` from the repository root.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	clusterNamespace = "default"
	clusterCount     = 2
	controlPlanes    = 3
	workers          = 1
)

// clusterNames are the workload clusters the embedded driver creates (capim-1 .. capim-N).
func clusterNames() []string {
	names := make([]string, 0, clusterCount)
	for i := 1; i <= clusterCount; i++ {
		names = append(names, fmt.Sprintf("capim-%d", i))
	}
	return names
}

type stack struct {
	repoRoot      string
	kubeconfigDir string
	stateDir      string
	logFile       *os.File

	mu  sync.Mutex
	cmd *exec.Cmd
}

var theStack *stack

func TestMain(m *testing.M) {
	os.Exit(runWithStack(m))
}

func runWithStack(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	work, err := os.MkdirTemp("", "capim-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	logFile, err := os.Create(filepath.Join(work, "stack.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	theStack = &stack{
		repoRoot:      root,
		kubeconfigDir: filepath.Join(work, "kubeconfigs"),
		stateDir:      filepath.Join(work, "state"),
		logFile:       logFile,
	}
	// ClusterCache's self-detection GETs this pod in every workload cluster and must get a 404.
	os.Setenv("POD_NAMESPACE", "capi-system")
	os.Setenv("POD_NAME", "capi-controller-manager-conformance")
	os.Setenv("POD_UID", "00000000-0000-4000-8000-000000000001")

	if err := theStack.start(5 * time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, "starting the capim-edge stack:", err)
		theStack.dumpLog()
		theStack.stop()
		return 1
	}
	code := m.Run()
	theStack.stop()
	if code != 0 {
		theStack.dumpLog()
	}
	return code
}

// start runs `npm start` and waits for the driver's "all N clusters ready" line.
func (s *stack) start(timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{"start", "--silent", "--",
		"--clusters", fmt.Sprint(clusterCount),
		"--control-planes", fmt.Sprint(controlPlanes),
		"--workers", fmt.Sprint(workers),
		"--kubeconfig-dir", s.kubeconfigDir,
		"--state-dir", s.stateDir,
		"--startup-duration", "0s",
	}
	cmd := exec.Command("npm", args...)
	cmd.Dir = s.repoRoot
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "CI=true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = s.logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	ready := make(chan struct{})
	want := fmt.Sprintf("all %d clusters ready", clusterCount)
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		signalled := false
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(s.logFile, line)
			if !signalled && strings.TrimSpace(line) == want {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-ready:
		go func() { <-exited }()
		return nil
	case err := <-exited:
		s.cmd = nil
		return fmt.Errorf("npm start exited before ready: %v", err)
	case <-time.After(timeout):
		return fmt.Errorf("no %q line within %s", want, timeout)
	}
}

// stop interrupts the whole process group, as Ctrl-C would, and waits for it to go away.
func (s *stack) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(-pgid, 0); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	s.cmd = nil
}

func (s *stack) restart(t *testing.T) {
	t.Helper()
	s.stop()
	if err := s.start(5 * time.Minute); err != nil {
		s.dumpLog()
		t.Fatalf("restarting the stack: %v", err)
	}
}

func (s *stack) dumpLog() {
	if s.logFile == nil {
		return
	}
	data, err := os.ReadFile(s.logFile.Name())
	if err != nil {
		return
	}
	const tail = 8000
	if len(data) > tail {
		data = data[len(data)-tail:]
	}
	fmt.Fprintf(os.Stderr, "---- stack log (tail) ----\n%s\n--------------------------\n", data)
}

func (s *stack) managementKubeconfig() string {
	return filepath.Join(s.kubeconfigDir, "management.kubeconfig")
}

func (s *stack) clusterKubeconfig(name string) string {
	return filepath.Join(s.kubeconfigDir, fmt.Sprintf("%s-%s.kubeconfig", clusterNamespace, name))
}

func testContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
