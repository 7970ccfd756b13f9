package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// exporter is a running hikvision_exporter process.
type exporter struct {
	addr   string
	cmd    *exec.Cmd
	output *lockedBuffer
	scheme string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startExporter runs the binary with args plus a free listen address and
// waits until /-/healthy answers (over plain HTTP unless scheme is https).
func startExporter(t *testing.T, scheme string, args ...string) *exporter {
	t.Helper()
	e := &exporter{addr: freeAddr(t), output: &lockedBuffer{}, scheme: scheme}
	args = append(args, "--web.listen-address="+e.addr, "--storage.path="+t.TempDir())
	e.cmd = exec.Command(exporterBinary(t), args...)
	e.cmd.Stdout, e.cmd.Stderr = e.output, e.output
	// The demo writes its config under TMPDIR; keep it inside the test's own dir.
	e.cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.cmd.Process.Kill()
		_ = e.cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", e.addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return e
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter did not listen on %s:\n%s", e.addr, e.output.String())
	return nil
}

func (e *exporter) url(path string) string { return "http://" + e.addr + path }

// get fetches a path and returns status and body.
func (e *exporter) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return httpDo(t, http.MethodGet, e.url(path))
}

func httpDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sample returns the value of the first sample line starting with prefix.
func sample(body, prefix string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, prefix) {
			f := strings.Fields(l)
			return f[len(f)-1], true
		}
	}
	return "", false
}
