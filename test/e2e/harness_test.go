// Package e2e boots the real commons binary on free ports, on each engine, and drives it the
// way operators and service teams do: the admin CLI, HTTP, and a second node.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "commons-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "commons")
	build := exec.Command("go", "build", "-o", binary, "github.com/commons-gov/commons/cmd/commons")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build commons:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one CLI run produced.
type result struct {
	code           int
	stdout, stderr string
}

// commons runs the binary to completion with env added to a clean environment.
func commons(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run commons %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// baseEnv is the environment without any COMMONS_ settings of the developer's shell.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMMONS_") {
			env = append(env, kv)
		}
	}
	return env
}

// adminJSON runs an admin command that must succeed and decodes its JSON output.
func adminJSON(t *testing.T, env []string, args ...string) map[string]any {
	t.Helper()
	r := commons(t, env, append([]string{"admin"}, args...)...)
	if r.code != 0 {
		t.Fatalf("commons admin %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("commons admin %v printed %q, not one JSON object: %v", args, r.stdout, err)
	}
	return out
}

// node is a running `commons serve`.
type node struct {
	t       *testing.T
	cmd     *exec.Cmd
	BaseURL string
	mu      sync.Mutex
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	exited  chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNode starts `commons serve` on a free port and waits until /readyz answers 200.
func startNode(t *testing.T, env []string, args ...string) *node {
	t.Helper()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := &node{t: t, BaseURL: "http://" + addr, exited: make(chan struct{})}
	n.cmd = exec.Command(binary, append([]string{"serve", "--addr", addr}, args...)...)
	n.cmd.Env = append(baseEnv(), env...)
	n.cmd.Stdout = &lockedWriter{mu: &n.mu, w: &n.stdout}
	n.cmd.Stderr = &lockedWriter{mu: &n.mu, w: &n.stderr}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("node %s stderr:\n%s", n.BaseURL, n.logs())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-n.exited:
			t.Fatalf("commons serve exited early:\n%s", n.logs())
		default:
		}
		resp, err := http.Get(n.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("commons serve not ready after 30s:\n%s", n.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop asks the node to shut down gracefully and waits for it.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.String()
}

func (n *node) output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stdout.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// get fetches a path with an optional Authorization header and returns status and body.
func (n *node) get(path, authorization string) (int, string) {
	n.t.Helper()
	req, _ := http.NewRequest("GET", n.BaseURL+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// firstLine returns the first line of s, trimmed.
func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	if sc.Scan() {
		return strings.TrimSpace(sc.Text())
	}
	return ""
}
