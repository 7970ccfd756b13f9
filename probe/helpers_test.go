package probe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"go.uber.org/goleak"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of clients kept in pools end with the process.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	)
}

// hClock is a settable clock for hold-off tests.
type hClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *hClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *hClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hExporter is a /probe handler over a config, served on a real listener.
type hExporter struct {
	t      *testing.T
	h      *Handler
	srv    *httptest.Server
	cfg    atomic.Pointer[config.Config]
	logs   *syncBuffer
	probes *prometheus.CounterVec
	reg    *prometheus.Registry
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func hStart(t *testing.T, yaml string, mod func(*HandlerOptions)) *hExporter {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	e := &hExporter{t: t, logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	e.cfg.Store(cfg)
	o := HandlerOptions{
		Config:     e.cfg.Load,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: e.reg,
	}
	if mod != nil {
		mod(&o)
	}
	e.h = NewHandler(o)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() { e.srv.Close(); e.h.Close() })
	return e
}

// settle waits until no device client of the exporter is testing
// credentials in the background, so that a test counts failed logins only
// once the device has answered them.
func (e *hExporter) settle() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.h.prober.pool.mu.Lock()
	var clients []*isapi.Client
	for _, s := range e.h.prober.pool.states {
		clients = append(clients, s.client)
	}
	e.h.prober.pool.mu.Unlock()
	for _, c := range clients {
		if err := c.WaitTrial(ctx); err != nil {
			e.t.Fatalf("waiting for a background credential check: %v", err)
		}
	}
}

func (e *hExporter) reload(yaml string) {
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		e.t.Fatal(err)
	}
	e.cfg.Store(cfg)
}

// probe returns the status code and body of /probe?<query>.
func (e *hExporter) probe(query string, header ...string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/probe?"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func hDevice(t *testing.T, p simulator.Profile, opts ...simulator.Option) *simulator.Device {
	t.Helper()
	d, err := simulator.New(p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func hYAML(password string, devices map[string]*simulator.Device, extra string) string {
	return hYAMLUser("admin", password, devices, extra)
}

// hYAMLUser is a config with one http module and the given devices.
func hYAMLUser(user, password string, devices map[string]*simulator.Device, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "modules:\n  default:\n    username: %q\n    password: %q\n    scheme: http\n%s", user, password, extra)
	b.WriteString("devices:\n")
	for name, d := range devices {
		fmt.Fprintf(&b, "  - {name: %s, address: %q}\n", name, d.Addr())
	}
	return b.String()
}

// hasLine reports whether the exposition has a sample line starting with prefix.
func hasLine(body, prefix string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestProbeDemoFleet(t *testing.T) {
	fleet, err := simulator.StartDemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	e := hStart(t, fleet.ConfigYAML(), nil)
	for _, d := range fleet.Devices {
		code, body := e.probe("target=" + d.Name)
		if code != 200 {
			t.Fatalf("%s: HTTP %d: %s", d.Name, code, body)
		}
		wantUp := "hikvision_up 1"
		if d.Name == "wrong-password" {
			wantUp = "hikvision_up 0"
		}
		for _, want := range []string{wantUp, "hikvision_probe_duration_seconds ", "hikvision_probe_timeout_seconds 10"} {
			if !hasLine(body, want) {
				t.Errorf("%s: no line %q in\n%s", d.Name, want, body)
			}
		}
		if d.Name != "wrong-password" {
			for _, want := range []string{"hikvision_device_info{", "hikvision_firmware_build_timestamp_seconds ", `hikvision_scrape_collector_success{collector="device"} 1`} {
				if !hasLine(body, want) {
					t.Errorf("%s: no line %q in\n%s", d.Name, want, body)
				}
			}
		}
		problems, err := promlint.New(strings.NewReader(body)).Lint()
		if err != nil {
			t.Fatalf("%s: lint: %v", d.Name, err)
		}
		for _, p := range problems {
			t.Errorf("%s: lint: %s: %s", d.Name, p.Metric, p.Text)
		}
	}
	if got := fleet.Device("wrong-password").Device.Stats().FailedLogins; got != 1 {
		t.Errorf("wrong-password device: %d failed logins, want 1", got)
	}
}

func TestRefusedTargetsMakeNoConnection(t *testing.T) {
	configured := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	stranger := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": configured}, "    allowed_targets: [10.99.0.0/16]\n"), func(o *HandlerOptions) { o.Resolver = net.DefaultResolver })
	host, port, _ := strings.Cut(stranger.Addr(), ":")
	cases := []struct{ query, want string }{
		{"target=" + stranger.Addr(), "not in the module's allowed_targets"},
		{"target=" + stranger.Addr() + "&module=default", "not in the module's allowed_targets"},
		{"target=localhost:" + port, "outside the module's allowed_targets"},
		{"target=http://" + stranger.Addr(), "must be host or host:port"},
		{"target=admin:password@" + stranger.Addr(), "must be host or host:port"},
		{"target=[::ffff:" + host + "]:" + port, "not in the module's allowed_targets"},
		{"target=" + stranger.Addr() + "&module=nope", `unknown module "nope"`},
		{"", `parameter "target" is missing`},
		{"target=", `parameter "target" is missing`},
		{"target=cam&target=cam", `parameter "target" given 2 times`},
		{"target=cam&module=default&module=default", `parameter "module" given 2 times`},
	}
	for _, tc := range cases {
		code, body := e.probe(tc.query)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%q: HTTP %d %q; want 400 with one line containing %q", tc.query, code, body, tc.want)
		}
	}
	code, body := e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "soon")
	if code != http.StatusBadRequest || !strings.Contains(body, "not a positive number") {
		t.Errorf("bad timeout header: HTTP %d %q", code, body)
	}
	if s := stranger.Stats(); s.Connections != 0 || s.Requests != 0 {
		t.Errorf("the unconfigured device was contacted: %+v", s)
	}
	if s := configured.Stats(); s.Connections != 0 {
		t.Errorf("refused probes contacted the configured device: %+v", s)
	}
	if got := testutil.ToFloat64(e.probesCounter("bad_request")); got != float64(len(cases)+1) {
		t.Errorf("bad_request counter = %v, want %d", got, len(cases)+1)
	}
}

func (e *hExporter) probesCounter(outcome string) prometheus.Collector {
	mfs, _ := e.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "hikvision_exporter_probes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == outcome {
				g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
				g.Set(m.GetCounter().GetValue())
				return g
			}
		}
	}
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
}

func TestAllowedTargetIsProbed(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", nil, "    allowed_targets: [127.0.0.0/8]\n"), nil)
	code, body := e.probe("target=" + dev.Addr() + "&module=default")
	if code != 200 || !hasLine(body, "hikvision_up 1") {
		t.Fatalf("HTTP %d\n%s", code, body)
	}
}

func TestProbeTimeoutFromHeader(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, "    timeout: 4s\n"), func(o *HandlerOptions) { o.TimeoutOffset = 500 * time.Millisecond })
	for header, want := range map[string]string{"": "4", "2": "1.5", "30": "4", "0.25": "0.25"} {
		var h []string
		if header != "" {
			h = []string{"X-Prometheus-Scrape-Timeout-Seconds", header}
		}
		_, body := e.probe("target=cam", h...)
		if !hasLine(body, "hikvision_probe_timeout_seconds "+want+"\n") && !hasLine(body, "hikvision_probe_timeout_seconds "+want) {
			t.Errorf("header %q: want timeout %s in\n%s", header, want, body)
		}
	}
}

func TestHangingDeviceAnswersByDeadline(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetFault("", simulator.Fault{Hang: true})
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, ""), nil)
	code, body := e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "0.3")
	if code != 200 || !hasLine(body, "hikvision_up 0") {
		t.Fatalf("HTTP %d\n%s", code, body)
	}
	if !strings.Contains(e.logs.String(), "target=cam") || !strings.Contains(e.logs.String(), "deadline exceeded") {
		t.Errorf("no log line naming the device and the cause:\n%s", e.logs.String())
	}
}

func TestFailingCollectorKeepsTheOthers(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{Malformed: true})
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, "    collectors: [device, account]\n"), nil)
	_, body := e.probe("target=cam")
	for _, want := range []string{"hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 0`, `hikvision_scrape_collector_success{collector="account"} 1`, "hikvision_password_default 0"} {
		if !hasLine(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	if hasLine(body, "hikvision_device_info") {
		t.Errorf("device_info from a malformed answer:\n%s", body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "collector=device") || !strings.Contains(logs, "malformed XML") {
		t.Errorf("no log line for the failed collector:\n%s", logs)
	}
}

func TestUnsupportedUserCheckFallsBackToDeviceInfo(t *testing.T) {
	p := simulator.CaptureProfile("DS-7616NI-K2")
	p.NotSupported = []string{"GET /ISAPI/Security/userCheck"}
	dev := hDevice(t, p)
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"nvr": dev}, "    collectors: [device, account]\n"), nil)
	_, body := e.probe("target=nvr")
	for _, want := range []string{"hikvision_up 1", `hikvision_feature_supported{feature="user_check"} 0`, "hikvision_device_info{"} {
		if !hasLine(body, want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
	if hasLine(body, "hikvision_password_default") {
		t.Errorf("password state invented without userCheck:\n%s", body)
	}
	// deviceInfo served the credential check and the collector from one request.
	if got := dev.Stats().ByPath["GET /ISAPI/System/deviceInfo"]; got != 1 {
		t.Errorf("deviceInfo fetched %d times, want 1", got)
	}
}

func TestConcurrentProbesShareOneCollection(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetLatency(30 * time.Millisecond)
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, "    collectors: [device, account]\n"), nil)
	e.probe("target=cam") // warm: challenge cached, deviceInfo cached
	dev.ResetStats()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_up 1") {
				t.Errorf("probe failed:\n%s", body)
			}
		}()
	}
	wg.Wait()
	if got := dev.Stats().ByPath["GET /ISAPI/Security/userCheck"]; got < 1 || got > 2 {
		t.Errorf("6 concurrent probes made %d credential checks; want them to share (1, or 2 if one arrived after the first finished)", got)
	}
}

func TestTooManyProbesAnswer503(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetFault("", simulator.Fault{Latency: 300 * time.Millisecond})
	other := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"slow": dev, "other": other}, ""), func(o *HandlerOptions) { o.MaxInFlight = 1 })
	done := make(chan struct{})
	go func() { e.probe("target=slow"); close(done) }()
	time.Sleep(100 * time.Millisecond)
	code, body := e.probe("target=other")
	<-done
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "too many probes") {
		t.Errorf("HTTP %d %q, want 503", code, body)
	}
}

// TestLockoutProof is issue 4's proof: a wrong password probed once a second
// for ten (simulated) minutes against a device that locks after 3 wrong
// logins makes one failed login per backoff window and never locks it; once
// the password is fixed, the first probe after the backoff succeeds. Probes
// also arrive several at once.
func TestLockoutProof(t *testing.T) {
	clock := &hClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter, p.LockDuration, p.ExtendLock = "device-password", 3, 30*time.Minute, true
	dev := hDevice(t, p, simulator.WithClock(clock.Now))
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("wrong-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password_file: %s\n    scheme: http\ndevices:\n  - {name: cam, address: %q}\n", pwFile, dev.Addr())
	e := hStart(t, yaml, func(o *HandlerOptions) { o.Now = clock.Now })

	for second := 0; second < 600; second++ {
		var wg sync.WaitGroup
		n := 1
		if second%60 == 0 {
			n = 4 // a burst of simultaneous probes now and then
		}
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := e.probe("target=cam")
				if code != 200 || !hasLine(body, "hikvision_up 0") || !hasLine(body, "hikvision_auth_rejected 1") {
					t.Errorf("second %d: HTTP %d\n%s", second, code, body)
				}
			}()
		}
		wg.Wait()
		clock.Advance(time.Second)
	}
	if s := dev.Stats(); s.FailedLogins != 1 || dev.Locked() {
		t.Fatalf("after 10 minutes: %d failed logins, locked %v; want 1 and never locked", s.FailedLogins, dev.Locked())
	}
	_, body := e.probe("target=cam")
	if !hasLine(body, "hikvision_auth_retry_timestamp_seconds ") || !hasLine(body, "hikvision_login_attempts_remaining 2") {
		t.Errorf("hold-off metrics missing:\n%s", body)
	}
	// A config reload that leaves device and credentials unchanged keeps the hold-off.
	e.reload(yaml)
	e.probe("target=cam")
	if s := dev.Stats(); s.FailedLogins != 1 {
		t.Fatalf("reload reset the hold-off: %d failed logins", s.FailedLogins)
	}
	// The operator fixes the password file: a new credential is tried at once.
	if err := os.WriteFile(pwFile, []byte("device-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_up 1") || !hasLine(body, "hikvision_auth_rejected 0") {
		t.Fatalf("after fixing the password:\n%s", body)
	}
	if _, body := e.probe("target=cam"); !hasLine(body, `hikvision_password_age_seconds{source="rotation"} 0`) {
		t.Errorf("rotation not seen:\n%s", body)
	}
}

// TestLockoutProofDeviceSidePasswordFix: the device's password is changed
// back to the exporter's; the first probe after the backoff succeeds.
func TestLockoutProofDeviceSidePasswordFix(t *testing.T) {
	clock := &hClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter = "device-password", 3
	dev := hDevice(t, p, simulator.WithClock(clock.Now))
	e := hStart(t, hYAML("exporter-password", map[string]*simulator.Device{"cam": dev}, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	e.probe("target=cam")
	dev.SetPassword("exporter-password")
	clock.Advance(config.DefaultAuthBackoff - time.Minute)
	if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_up 0") {
		t.Fatalf("probe before the backoff ended reached the device:\n%s", body)
	}
	clock.Advance(2 * time.Minute)
	if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_up 1") {
		t.Fatalf("first probe after the backoff:\n%s", body)
	}
	if s := dev.Stats(); s.FailedLogins != 1 {
		t.Errorf("failed logins = %d, want 1", s.FailedLogins)
	}
}

func TestDeadPasswordFileMakesNoConnection(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password_file: /nonexistent/pw\n    scheme: http\ndevices:\n  - {name: cam, address: %q}\n", dev.Addr())
	e := hStart(t, yaml, nil)
	if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_up 0") {
		t.Fatalf("\n%s", body)
	}
	if s := dev.Stats(); s.Connections != 0 {
		t.Errorf("device contacted without a password: %+v", s)
	}
	if !strings.Contains(e.logs.String(), "password_file") {
		t.Errorf("log does not say why:\n%s", e.logs.String())
	}
}

func TestProbeMetricsAreFresh(t *testing.T) {
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, "    collectors: [account]\n"), nil)
	_, body := e.probe("target=cam")
	if !hasLine(body, "hikvision_password_default 0") {
		t.Fatalf("\n%s", body)
	}
	dev.SetAccount(simulator.Account{DefaultPassword: true})
	if _, body := e.probe("target=cam"); !hasLine(body, "hikvision_password_default 1") {
		t.Errorf("userCheck is read on every probe; want the new state:\n%s", body)
	}
}
