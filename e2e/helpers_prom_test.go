package e2e

// Helpers of the tests that run the exporter binary together with the real
// Prometheus tools (prometheus_test.go, metrics_test.go). Everything here is
// prefixed prom so it cannot clash with the other e2e helpers.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
)

// promDemoDevices are the devices of `hikvision_exporter --demo`
// (simulator.StartDemoFleet) that these tests make claims about.
var promDemoDevices = []string{"hardened-cam", "weak-cam", "nvr-isapiorg", "wrong-password"}

const (
	promWait    = 60 * time.Second       // deadline of every "wait until" loop
	promPoll    = 250 * time.Millisecond // poll interval of those loops
	promStartup = 30 * time.Second       // a process must answer its readiness URL by then
	promInstall = "install Debian's prometheus package (apt-get install -y prometheus), which provides both prometheus and promtool; stop its system service (systemctl disable --now prometheus), the tests start their own servers"
)

// promTool returns the path of prometheus or promtool and fails the test
// (it never skips) when the program is missing.
func promTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH (%v): this end-to-end test needs the real Prometheus tools; %s", name, err, promInstall)
	}
	return p
}

// promRoot returns the repository root.
func promRoot(t *testing.T) string {
	t.Helper()
	root, err := alerts.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// exporterBinary builds the exporter once per test process, for every
// e2e test. The binary
// goes to a fixed place under the system temp directory, one per checkout
// (so repeated runs replace it instead of leaving a new copy each time; go
// build renames the finished file into place, so a concurrent run keeps
// executing the file it started).
func exporterBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := alerts.Root()
		if err != nil {
			buildErr = err
			return
		}
		sum := sha256.Sum256([]byte(root))
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("hikvision-e2e-prom-%x", sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not on PATH: %w", err)
			return
		}
		bin := filepath.Join(dir, "hikvision_exporter")
		cmd := exec.Command(goCmd, "build", "-o", bin, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build -o %s . (in %s): %v\n%s", bin, root, err, out)
			return
		}
		binPath = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// promTail returns the last n lines of s.
func promTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// promProc is a process started by a test. It is killed and reaped when the
// test ends; its output is logged then if the test failed.
type promProc struct {
	name    string
	addr    string // host:port it listens on
	out     *lockedBuffer
	exited  chan struct{}
	waitErr error
}

func (p *promProc) url(path string) string { return "http://" + p.addr + path }

// promFreeAddr returns a free loopback address (host:port).
func promFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// promStart starts bin with the arguments args(addr) on a free loopback
// address and waits until GET ready answers 200. A port taken between
// choosing and binding it is retried with another one.
func promStart(t *testing.T, name string, env []string, bin string, args func(addr string) []string, ready string) *promProc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := promFreeAddr(t)
		p := promStartOnce(t, name, env, bin, args(addr), addr)
		err := promWaitReady(p, p.url(ready))
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
			t.Logf("%s: %s was taken meanwhile; trying another port", name, addr)
			continue
		}
		t.Fatalf("%s did not become ready at %s: %v\n%s output:\n%s", name, p.url(ready), err, name, promTail(p.out.String(), 40))
	}
}

func promStartOnce(t *testing.T, name string, env []string, bin string, args []string, addr string) *promProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	p := &promProc{name: name, addr: addr, out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.WaitDelay = 5 * time.Second
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		cancel()
		<-p.exited
		if t.Failed() {
			t.Logf("%s (%s) output:\n%s", name, strings.Join(args, " "), promTail(p.out.String(), 60))
		}
	})
	return p
}

func promWaitReady(p *promProc, readyURL string) error {
	deadline := time.Now().Add(promStartup)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited: %v", p.name, p.waitErr)
		default:
		}
		if status, _, err := promHTTPGet(readyURL); err == nil && status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 within %s", promStartup)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var promHTTPClient = &http.Client{Timeout: 15 * time.Second}

func promHTTPGet(u string) (int, []byte, error) {
	res, err := promHTTPClient.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// promMustGet fetches u and fails the test unless it answers 200.
func promMustGet(t *testing.T, u string) []byte {
	t.Helper()
	status, body, err := promHTTPGet(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d\n%s", u, status, body)
	}
	return body
}

// promStartDemoExporter runs `hikvision_exporter --demo`. TMPDIR points into
// the test's temporary directory, so the demo configuration it writes is
// removed with it even though a killed exporter cannot clean up.
func promStartDemoExporter(t *testing.T) *promProc {
	t.Helper()
	tmp := t.TempDir() // before the process: removed after it is killed
	return promStart(t, "hikvision_exporter --demo", []string{"TMPDIR=" + tmp}, exporterBinary(t),
		func(addr string) []string { return []string{"--demo", "--web.listen-address=" + addr} }, "/-/ready")
}

// promStartExporter runs the exporter on the configuration file cfg.
func promStartExporter(t *testing.T, cfg string) *promProc {
	t.Helper()
	storage := t.TempDir()
	return promStart(t, "hikvision_exporter", nil, exporterBinary(t), func(addr string) []string {
		return []string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--storage.path=" + storage}
	}, "/-/ready")
}

// promStartPrometheus runs Prometheus on dir/prometheus.yml with its TSDB in
// a fresh temporary directory.
func promStartPrometheus(t *testing.T, dir string) *promProc {
	t.Helper()
	bin := promTool(t, "prometheus")
	data := t.TempDir() // before the process: removed after it is killed
	return promStart(t, "prometheus", nil, bin, func(addr string) []string {
		return []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + data,
			"--web.listen-address=" + addr,
		}
	}, "/-/ready")
}

// promSDDevices returns the device names the exporter's /sd offers, and
// fails unless every demo device is among them.
func promSDDevices(t *testing.T, exp *promProc) []string {
	t.Helper()
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(promMustGet(t, exp.url("/sd")), &groups); err != nil {
		t.Fatalf("/sd: %v", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, g := range groups {
		for _, target := range g.Targets {
			if dev := g.Labels["__meta_hikvision_device"]; dev != target {
				t.Errorf("/sd: target %q has __meta_hikvision_device %q; the examples' relabelling expects them equal", target, dev)
			}
			if !seen[target] {
				seen[target] = true
				names = append(names, target)
			}
		}
	}
	for _, d := range promDemoDevices {
		if !seen[d] {
			t.Fatalf("/sd of the demo exporter lacks %s (has %v)", d, names)
		}
	}
	sort.Strings(names)
	return names
}

// promParse parses a text exposition into metric families.
func promParse(t *testing.T, what string, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: cannot parse the exposition: %v\n%s", what, err, body)
	}
	return fams
}

// promCheckMetrics runs `promtool check metrics` on an exposition and fails
// the test on any finding.
func promCheckMetrics(t *testing.T, promtool, what string, body []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", what, err, out)
	}
}

// promValue returns the value of the one series of family name whose labels
// include want, and whether there is exactly one such series.
func promValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	var found []float64
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !promSubset(want, labels) {
			continue
		}
		switch {
		case m.Gauge != nil:
			found = append(found, m.GetGauge().GetValue())
		case m.Counter != nil:
			found = append(found, m.GetCounter().GetValue())
		case m.Untyped != nil:
			found = append(found, m.GetUntyped().GetValue())
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// promSubset reports whether every label of want has that value in have.
func promSubset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Prometheus configurations derived from examples/.

// promExample reads examples/<name> as a generic YAML document.
func promExample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(promRoot(t), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("examples/%s: %v", name, err)
	}
	return doc
}

// promExporterPlaceholderRE matches the exporter address the examples use:
// exporter:10729, or exporter-N:10729 for the N-th replica.
var promExporterPlaceholderRE = regexp.MustCompile(`\bexporter(?:-\d+)?:10729\b`)

// promPointAtExporter replaces every exporter placeholder address in v with
// addr and fails the test if there was none (the example changed and the
// test would no longer use it as written).
func promPointAtExporter(t *testing.T, what string, v any, addr string) any {
	t.Helper()
	n := 0
	out := promMapStrings(v, func(s string) string {
		return promExporterPlaceholderRE.ReplaceAllStringFunc(s, func(string) string { n++; return addr })
	})
	if n == 0 {
		t.Fatalf("%s: no exporter:10729 placeholder found; update the test to the example", what)
	}
	return out
}

// promMapStrings returns v with f applied to every string in it.
func promMapStrings(v any, f func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = promMapStrings(e, f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = promMapStrings(e, f)
		}
		return out
	case string:
		return f(v)
	default:
		return v
	}
}

// promTestGlobal is the global section of every test Prometheus: scrape and
// evaluate every second so the tests finish quickly.
func promTestGlobal() map[string]any {
	return map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
}

// promScrapeConfigs returns the scrape_configs list of a configuration.
func promScrapeConfigs(t *testing.T, what string, cfg map[string]any) []any {
	t.Helper()
	sc, ok := cfg["scrape_configs"].([]any)
	if !ok || len(sc) == 0 {
		t.Fatalf("%s: no scrape_configs", what)
	}
	return sc
}

// promJob returns the job of a configuration by name.
func promJob(t *testing.T, what string, cfg map[string]any, name string) map[string]any {
	t.Helper()
	for _, j := range promScrapeConfigs(t, what, cfg) {
		if m, ok := j.(map[string]any); ok && m["job_name"] == name {
			return m
		}
	}
	t.Fatalf("%s: no job %q", what, name)
	return nil
}

// promWriteConfig writes cfg as dir/prometheus.yml and has promtool check
// it, so a broken derivation fails with promtool's message.
func promWriteConfig(t *testing.T, dir string, cfg map[string]any) {
	t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promTool(t, "promtool"), "check", "config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config on the derived configuration: %v\n%s\n--- %s:\n%s", err, out, path, b)
	}
}

// ---------------------------------------------------------------------------
// Prometheus HTTP API.

type promTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	LastError        string            `json:"lastError"`
	LastScrape       time.Time         `json:"lastScrape"`
	Health           string            `json:"health"`
}

type promTargets struct {
	ActiveTargets  []promTarget `json:"activeTargets"`
	DroppedTargets []promTarget `json:"droppedTargets"`
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

type promRuleGroup struct {
	Name           string    `json:"name"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Rules          []struct {
		Name      string `json:"name"`
		Type      string `json:"type"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	} `json:"rules"`
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// promAPI calls a Prometheus API endpoint and decodes its data.
func promAPI(p *promProc, path string, data any) error {
	status, body, err := promHTTPGet(p.url(path))
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: HTTP %d, %v: %s", path, status, err, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: HTTP %d, %s: %s", path, status, env.Status, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

func promTargetsNow(p *promProc) (promTargets, error) {
	var ts promTargets
	err := promAPI(p, "/api/v1/targets?state=any", &ts)
	return ts, err
}

func promAlertsNow(p *promProc) ([]promAlert, error) {
	var d struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := promAPI(p, "/api/v1/alerts", &d)
	return d.Alerts, err
}

func promRulesNow(p *promProc) ([]promRuleGroup, error) {
	var d struct {
		Groups []promRuleGroup `json:"groups"`
	}
	err := promAPI(p, "/api/v1/rules", &d)
	return d.Groups, err
}

// promQuery runs an instant query and returns its vector.
func promQuery(p *promProc, q string) ([]promSample, error) {
	var d struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := promAPI(p, "/api/v1/query?query="+url.QueryEscape(q), &d); err != nil {
		return nil, err
	}
	if d.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, d.ResultType)
	}
	return d.Result, nil
}

// promEventually calls check every promPoll until it reports done, and
// fails the test with check's last status after promWait.
func promEventually(t *testing.T, what string, check func() (done bool, status string, err error)) {
	t.Helper()
	deadline := time.Now().Add(promWait)
	var status string
	var lastErr error
	for {
		done, s, err := check()
		if err == nil && done {
			return
		}
		status, lastErr = s, err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(promPoll)
	}
	if lastErr != nil {
		status += "\nlast error: " + lastErr.Error()
	}
	t.Fatalf("gave up after %s waiting for %s:\n%s", promWait, what, status)
}

// promTargetsByJob groups active targets by job.
func promTargetsByJob(ts promTargets) map[string][]promTarget {
	out := map[string][]promTarget{}
	for _, tg := range ts.ActiveTargets {
		out[tg.Labels["job"]] = append(out[tg.Labels["job"]], tg)
	}
	return out
}

// promDescribeTargets is a status line per active target.
func promDescribeTargets(ts promTargets) string {
	var b strings.Builder
	for _, tg := range ts.ActiveTargets {
		fmt.Fprintf(&b, "  job=%s instance=%s health=%s lastScrape=%s err=%q\n",
			tg.Labels["job"], tg.Labels["instance"], tg.Health, tg.LastScrape.Format(time.RFC3339Nano), tg.LastError)
	}
	return b.String()
}
