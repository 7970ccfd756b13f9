package e2e

// The helpers of every e2e test: building and running the exporter binary
// and the real Prometheus, plain HTTP to them, reading expositions, and
// deriving Prometheus configurations from examples/ and asking the
// Prometheus HTTP API about the result.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
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
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// demoDevices are the devices of `hikvision_exporter --demo`
// (simulator.StartDemoFleet) that these tests make claims about.
var demoDevices = []string{"hardened-cam", "weak-cam", "nvr-isapiorg", "wrong-password"}

const (
	waitTimeout    = 60 * time.Second       // deadline of every "wait until" loop
	pollInterval   = 250 * time.Millisecond // poll interval of those loops
	startupTimeout = 30 * time.Second       // a process must be ready by then
)

// repoRoot returns the repository root.
func repoRoot(t *testing.T) string {
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
// e2e test, with `make build`: the same build metadata flags as a release,
// so that what the tests see of --version and build_info is what users see.
// The binary goes to a fixed place under the system temp directory, one per
// checkout (so repeated runs replace it instead of leaving a new copy each
// time; go build renames the finished file into place, so a concurrent run
// keeps executing the file it started).
func exporterBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { binPath, buildErr = buildExporter() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func buildExporter() (string, error) {
	root, err := alerts.Root()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("hikvision-e2e-prom-%x", sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	makeCmd, err := exec.LookPath("make")
	if err != nil {
		return "", fmt.Errorf("make is not on PATH (the binary is built with `make build`): %w", err)
	}
	bin := filepath.Join(dir, "hikvision_exporter")
	cmd := exec.Command(makeCmd, "--no-print-directory", "build", "OUT="+bin, "GO="+goCmd)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make build OUT=%s (in %s): %w\n%s", bin, root, err, out)
	}
	return bin, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------------------
// Processes: the exporter and Prometheus.

// process is a program started by a test. It is killed and reaped when the
// test ends; its output is logged then if the test failed.
type process struct {
	name    string
	addr    string // host:port it listens on
	cmd     *exec.Cmd
	out     *simulator.SyncBuffer // stdout and stderr
	exited  chan struct{}
	waitErr error
}

func (p *process) url(path string) string { return "http://" + p.addr + path }

// get fetches a path over plain HTTP and returns status and body.
func (p *process) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return httpDo(t, http.MethodGet, p.url(path))
}

// freeAddr returns a free loopback address (host:port).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess starts bin with the arguments args(addr) on a free loopback
// address and waits until ready reports it serves. A port taken between
// choosing and binding it is retried with another one.
func startProcess(t *testing.T, name string, env []string, bin string, args func(addr string) []string, ready func(*process) bool) *process {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		p := startProcessOnce(t, name, env, bin, args(addr), addr)
		err := waitReady(p, ready)
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
			t.Logf("%s: %s was taken meanwhile; trying another port", name, addr)
			continue
		}
		t.Fatalf("%s did not become ready at %s: %v\n%s output:\n%s", name, addr, err, name, lastLines(p.out.String(), 40))
	}
}

func startProcessOnce(t *testing.T, name string, env []string, bin string, args []string, addr string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	p := &process{name: name, addr: addr, cmd: cmd, out: &simulator.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.WaitDelay = 5 * time.Second
	// Should the test binary itself be killed (a -timeout, ^C), the
	// servers it started die with it instead of living on unowned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
			t.Logf("%s (%s) output:\n%s", name, strings.Join(args, " "), lastLines(p.out.String(), 60))
		}
	})
	return p
}

func waitReady(p *process, ready func(*process) bool) error {
	deadline := time.Now().Add(startupTimeout)
	for {
		select {
		case <-p.exited:
			if p.waitErr == nil {
				return fmt.Errorf("%s exited with status 0", p.name)
			}
			return fmt.Errorf("%s exited: %w", p.name, p.waitErr)
		default:
		}
		if ready(p) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s", startupTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answers200 is ready when GET path answers 200 over plain HTTP.
func answers200(path string) func(*process) bool {
	return func(p *process) bool {
		status, _, err := httpGet(p.url(path))
		return err == nil && status == http.StatusOK
	}
}

// servesTLS is ready when the exporter has logged that it serves TLS,
// which the exporter toolkit does once its listener is bound.
func servesTLS(p *process) bool { return strings.Contains(p.out.String(), "TLS is enabled.") }

// startExporter runs the exporter binary with args plus a free listen
// address and, unless args name one, a fresh --storage.path, and waits until it serves: over
// plain HTTP until /-/ready answers, over https (a --web.config.file with
// TLS) until it says it serves TLS. TMPDIR points into the test's
// temporary directory, so the configuration --demo writes is removed with
// it even though a killed exporter cannot clean up.
func startExporter(t *testing.T, scheme string, args ...string) *process {
	t.Helper()
	storage, tmp := t.TempDir(), t.TempDir() // before the process: removed after it is killed
	ready := answers200("/-/ready")
	if scheme == "https" {
		ready = servesTLS
	}
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--storage.path=") }) {
		args = append(slices.Clone(args), "--storage.path="+storage)
	}
	return startProcess(t, "hikvision_exporter", []string{"TMPDIR=" + tmp}, exporterBinary(t), func(addr string) []string {
		return append(slices.Clone(args), "--web.listen-address="+addr)
	}, ready)
}

// demoConfigPath reads the config file the demo printed on startup.
func demoConfigPath(t *testing.T, e *process) string {
	t.Helper()
	m := regexp.MustCompile(`configuration in (\S+)`).FindStringSubmatch(e.out.String())
	if m == nil {
		t.Fatalf("demo did not print its configuration path:\n%s", e.out.String())
	}
	return m[1]
}

// startPrometheus runs Prometheus on dir/prometheus.yml with its TSDB in
// a fresh temporary directory.
func startPrometheus(t *testing.T, dir string) *process {
	t.Helper()
	bin := promtest.Tool(t, "prometheus")
	data := t.TempDir() // before the process: removed after it is killed
	return startProcess(t, "prometheus", nil, bin, func(addr string) []string {
		return []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + data,
			"--web.listen-address=" + addr,
		}
	}, answers200("/-/ready"))
}

// ---------------------------------------------------------------------------
// Plain HTTP.

var httpClient = &http.Client{Timeout: 30 * time.Second}

func httpGet(u string) (int, []byte, error) {
	res, err := httpClient.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// httpDo sends a request without a body and returns status and body,
// failing the test when there is no answer.
func httpDo(t *testing.T, method, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// mustGet fetches u and fails the test unless it answers 200.
func mustGet(t *testing.T, u string) []byte {
	t.Helper()
	status, body, err := httpGet(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d\n%s", u, status, body)
	}
	return body
}

// ---------------------------------------------------------------------------
// What the exporter serves.

// sdDevices returns the device names the exporter's /sd offers, and
// fails unless every demo device is among them.
func sdDevices(t *testing.T, exp *process) []string {
	t.Helper()
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(mustGet(t, exp.url("/sd")), &groups); err != nil {
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
	for _, d := range demoDevices {
		if !seen[d] {
			t.Fatalf("/sd of the demo exporter lacks %s (has %v)", d, names)
		}
	}
	sort.Strings(names)
	return names
}

// parseExposition parses a text exposition into metric families.
func parseExposition(t *testing.T, what string, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: cannot parse the exposition: %v\n%s", what, err, body)
	}
	return fams
}

// checkMetrics runs `promtool check metrics` on an exposition and fails
// the test on any finding.
func checkMetrics(t *testing.T, promtool, what string, body []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", what, err, out)
	}
}

// seriesValue returns the value of the one series of family name whose labels
// include want, and whether there is exactly one such series.
func seriesValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
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
		if !hasLabels(want, labels) {
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

// hasLabels reports whether every label of want has that value in have.
func hasLabels(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Prometheus configurations derived from examples/.

// readExample reads examples/<name> as a generic YAML document.
func readExample(t *testing.T, name string) map[string]any {
	t.Helper()
	return readYAML(t, filepath.Join(repoRoot(t), "examples", name))
}

// readYAML reads path as a generic YAML document, to be edited as such so
// that whatever else it holds stays as it is.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeYAML(t, path, b)
}

// decodeYAML decodes b, from what, as a generic YAML document.
func decodeYAML(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return doc
}

// exporterPlaceholderRE matches the exporter address the examples use:
// exporter:10729, or exporter-N:10729 for the N-th replica.
var exporterPlaceholderRE = regexp.MustCompile(`\bexporter(?:-\d+)?:10729\b`)

// hashmod is Prometheus' hashmod relabel action on one label value: the
// last 8 bytes of its MD5, big-endian, modulo m.
func hashmod(value string, m uint64) uint64 {
	sum := md5.Sum([]byte(value))
	return binary.BigEndian.Uint64(sum[8:]) % m
}

// hashmodModulus returns the modulus of the job's hashmod rule on the
// device name, and checks that the job keeps shard 0.
func hashmodModulus(t *testing.T, what string, job map[string]any) int {
	t.Helper()
	modulus, keeps := 0, 0
	for _, r := range job["relabel_configs"].([]any) {
		r := r.(map[string]any)
		switch {
		case r["action"] == "hashmod" && fmt.Sprint(r["source_labels"]) == "[__meta_hikvision_device]":
			modulus, _ = r["modulus"].(int)
		case r["action"] == "keep" && fmt.Sprint(r["source_labels"]) == "[__tmp_hash]":
			keeps++
			if r["regex"] != "0" {
				t.Fatalf("%s: the written-out job keeps regex %v, want \"0\" (shard 0)", what, r["regex"])
			}
		}
	}
	if modulus < 2 || keeps != 1 {
		t.Fatalf("%s: hashmod modulus %d and %d keep rules on __tmp_hash; want a modulus of 2 or more and one keep rule", what, modulus, keeps)
	}
	return modulus
}

// shardJob is the example's job for shard n: its keep regex "n", its name,
// and its exporter placeholders pointing at addr. Nothing else changes.
func shardJob(t *testing.T, what string, shard0 map[string]any, n int, name, addr string) any {
	t.Helper()
	b, err := yaml.Marshal(shard0)
	if err != nil {
		t.Fatal(err)
	}
	job := decodeYAML(t, what, b) // a deep copy: shard 0's rules stay as they are
	job["job_name"] = name
	for _, r := range job["relabel_configs"].([]any) {
		if r := r.(map[string]any); r["action"] == "keep" && fmt.Sprint(r["source_labels"]) == "[__tmp_hash]" {
			r["regex"] = strconv.Itoa(n)
		}
	}
	return pointAtExporter(t, what, job, addr)
}

// pointAtExporter replaces every exporter placeholder address in v with
// addr and fails the test if there was none (the example changed and the
// test would no longer use it as written).
func pointAtExporter(t *testing.T, what string, v any, addr string) any {
	t.Helper()
	n := 0
	out := mapStrings(v, func(s string) string {
		return exporterPlaceholderRE.ReplaceAllStringFunc(s, func(string) string { n++; return addr })
	})
	if n == 0 {
		t.Fatalf("%s: no exporter:10729 placeholder found; update the test to the example", what)
	}
	return out
}

// mapStrings returns v with f applied to every string in it.
func mapStrings(v any, f func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = mapStrings(e, f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = mapStrings(e, f)
		}
		return out
	case string:
		return f(v)
	default:
		return v
	}
}

// fastGlobal is the global section of every test Prometheus: scrape and
// evaluate every second so the tests finish quickly.
func fastGlobal() map[string]any {
	return map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
}

// scrapeConfigs returns the scrape_configs list of a configuration.
func scrapeConfigs(t *testing.T, what string, cfg map[string]any) []any {
	t.Helper()
	sc, ok := cfg["scrape_configs"].([]any)
	if !ok || len(sc) == 0 {
		t.Fatalf("%s: no scrape_configs", what)
	}
	return sc
}

// scrapeJob returns the job of a configuration by name.
func scrapeJob(t *testing.T, what string, cfg map[string]any, name string) map[string]any {
	t.Helper()
	for _, j := range scrapeConfigs(t, what, cfg) {
		if m, ok := j.(map[string]any); ok && m["job_name"] == name {
			return m
		}
	}
	t.Fatalf("%s: no job %q", what, name)
	return nil
}

// writeYAML writes v as YAML to path, readable by its owner only (a
// configuration may carry passwords), and returns what it wrote.
func writeYAML(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// writePrometheusConfig writes cfg as dir/prometheus.yml and has promtool check
// it, so a broken derivation fails with promtool's message.
func writePrometheusConfig(t *testing.T, dir string, cfg map[string]any) {
	t.Helper()
	path := filepath.Join(dir, "prometheus.yml")
	b := writeYAML(t, path, cfg)
	out, err := exec.Command(promtest.Tool(t, "promtool"), "check", "config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config on the derived configuration: %v\n%s\n--- %s:\n%s", err, out, path, b)
	}
}

// ---------------------------------------------------------------------------
// Prometheus HTTP API.

type scrapeTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	LastError        string            `json:"lastError"`
	LastScrape       time.Time         `json:"lastScrape"`
	Health           string            `json:"health"`
}

type targetsResponse struct {
	ActiveTargets  []scrapeTarget `json:"activeTargets"`
	DroppedTargets []scrapeTarget `json:"droppedTargets"`
}

type activeAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

type ruleGroup struct {
	Name           string    `json:"name"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Rules          []struct {
		Name      string `json:"name"`
		Type      string `json:"type"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	} `json:"rules"`
}

type querySample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// prometheusAPI calls a Prometheus API endpoint and decodes its data.
func prometheusAPI(p *process, path string, data any) error {
	status, body, err := httpGet(p.url(path))
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: HTTP %d, %w: %s", path, status, err, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: HTTP %d, %s: %s", path, status, env.Status, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

func getTargets(p *process) (targetsResponse, error) {
	var ts targetsResponse
	err := prometheusAPI(p, "/api/v1/targets?state=any", &ts)
	return ts, err
}

func getAlerts(p *process) ([]activeAlert, error) {
	var d struct {
		Alerts []activeAlert `json:"alerts"`
	}
	err := prometheusAPI(p, "/api/v1/alerts", &d)
	return d.Alerts, err
}

func getRules(p *process) ([]ruleGroup, error) {
	var d struct {
		Groups []ruleGroup `json:"groups"`
	}
	err := prometheusAPI(p, "/api/v1/rules", &d)
	return d.Groups, err
}

// instantQuery runs an instant query and returns its vector.
func instantQuery(p *process, q string) ([]querySample, error) {
	var d struct {
		ResultType string        `json:"resultType"`
		Result     []querySample `json:"result"`
	}
	if err := prometheusAPI(p, "/api/v1/query?query="+url.QueryEscape(q), &d); err != nil {
		return nil, err
	}
	if d.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, d.ResultType)
	}
	return d.Result, nil
}

// eventually calls check every pollInterval until it reports done, and
// fails the test with check's last status after waitTimeout.
func eventually(t *testing.T, what string, check func() (done bool, status string, err error)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
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
		time.Sleep(pollInterval)
	}
	if lastErr != nil {
		status += "\nlast error: " + lastErr.Error()
	}
	t.Fatalf("gave up after %s waiting for %s:\n%s", waitTimeout, what, status)
}

// targetsStatus reads p's targets and a status line per active target, for
// an eventually check to report.
func targetsStatus(p *process) (targetsResponse, string, error) {
	ts, err := getTargets(p)
	if err != nil {
		return ts, "", err
	}
	return ts, "active targets:\n" + describeTargets(ts), nil
}

// targetsByJob groups active targets by job.
func targetsByJob(ts targetsResponse) map[string][]scrapeTarget {
	out := map[string][]scrapeTarget{}
	for _, tg := range ts.ActiveTargets {
		out[tg.Labels["job"]] = append(out[tg.Labels["job"]], tg)
	}
	return out
}

// describeTargets is a status line per active target.
func describeTargets(ts targetsResponse) string {
	var b strings.Builder
	for _, tg := range ts.ActiveTargets {
		fmt.Fprintf(&b, "  job=%s instance=%s health=%s lastScrape=%s err=%q\n",
			tg.Labels["job"], tg.Labels["instance"], tg.Health, tg.LastScrape.Format(time.RFC3339Nano), tg.LastError)
	}
	return b.String()
}
