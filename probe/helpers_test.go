package probe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
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

// newClock is the clock of the tests that move time: the device's and the
// exporter's (HandlerOptions.Now).
func newClock() *simulator.Clock {
	return simulator.NewClock(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
}

// exporter is a /probe handler over a config, served on a real listener.
type exporter struct {
	t    *testing.T
	h    *Handler
	srv  *httptest.Server
	cfg  atomic.Pointer[config.Config]
	logs *simulator.SyncBuffer
	reg  *prometheus.Registry
}

// startExporter serves a /probe handler over the configuration yaml, with
// debug logs kept in e.logs; mod, if not nil, edits the handler options.
// The handler and its server stop when the test ends.
func startExporter(t *testing.T, yaml string, mod func(*HandlerOptions)) *exporter {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	e := &exporter{t: t, logs: &simulator.SyncBuffer{}, reg: prometheus.NewRegistry()}
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
func (e *exporter) settle() {
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

func (e *exporter) reload(yaml string) {
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		e.t.Fatal(err)
	}
	e.cfg.Store(cfg)
}

// probe returns the status code and body of /probe?<query>, sent with
// header (name, value, ...).
func (e *exporter) probe(query string, header ...string) (int, string) {
	e.t.Helper()
	code, _, body := e.probeTyped(query, header...)
	return code, body
}

// probeTyped is probe that also returns the answer's Content-Type.
func (e *exporter) probeTyped(query string, header ...string) (code int, contentType, body string) {
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
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// wantLines checks that the exposition body has a line starting with each
// of lines (promtest.HasLine).
func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !promtest.HasLine(body, l) {
			t.Errorf("no line %q in\n%s", l, body)
		}
	}
}

// probesTotal is the exporter's hikvision_exporter_probes_total for outcome.
func (e *exporter) probesTotal(outcome string) float64 {
	e.t.Helper()
	return promtest.Gathered(e.t, e.reg)[promtest.Key("hikvision_exporter_probes_total", "outcome", outcome)]
}

// startCam starts a camera (the DS-2CD2146G2-ISU captures, whose admin
// password is "password") and an exporter that knows it as "cam", its
// module logging in with password; module adds indented module keys.
func startCam(t *testing.T, password, module string) (*simulator.Device, *exporter) {
	t.Helper()
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	return dev, startExporter(t, configYAML(password, map[string]*simulator.Device{"cam": dev}, module), nil)
}

// configYAML is a config with one http module for user admin and the given devices.
func configYAML(password string, devices map[string]*simulator.Device, extra string) string {
	return configYAMLUser("admin", password, devices, extra)
}

// configYAMLUser is a config with one http module and the given devices;
// extra adds indented module keys.
func configYAMLUser(user, password string, devices map[string]*simulator.Device, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "modules:\n  default:\n    username: %q\n    password: %q\n    scheme: http\n%s", user, password, extra)
	b.WriteString("devices:\n")
	for name, d := range devices {
		fmt.Fprintf(&b, "  - {name: %s, address: %q}\n", name, d.Addr())
	}
	return b.String()
}

// devicePort is the port a simulated device listens on.
func devicePort(d *simulator.Device) string {
	_, port, _ := net.SplitHostPort(d.Addr())
	return port
}

// fakeResolver answers made-up host names from a table, never from DNS,
// and counts lookups.
type fakeResolver struct {
	names   map[string][]string // host -> IP addresses
	lookups atomic.Int64
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	ips, ok := r.names[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	addrs := make([]netip.Addr, len(ips)) // a fresh slice: callers may edit it
	for i, ip := range ips {
		addrs[i] = netip.MustParseAddr(ip)
	}
	return addrs, nil
}

// loopbackNames resolves localhost to both loopback addresses.
func loopbackNames() *fakeResolver {
	return &fakeResolver{names: map[string][]string{"localhost": {"127.0.0.1", "::1"}}}
}

// lockingDevice is a camera on clock whose account locks after 5 wrong
// logins for 30 minutes, a wrong login while locked restarting the lock.
func lockingDevice(t *testing.T, clock *simulator.Clock) *simulator.Device {
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter, p.LockDuration, p.ExtendLock = "device-password", 5, 30*time.Minute, true
	return simulator.Start(t, p, simulator.WithClock(clock.Now))
}

func wantFailedLogins(t *testing.T, dev *simulator.Device, want int) {
	t.Helper()
	if s := dev.Stats(); s.FailedLogins != want || dev.Locked() {
		t.Fatalf("device saw %d failed logins (locked %v); want %d and never locked", s.FailedLogins, dev.Locked(), want)
	}
}

// failedLogin is the device log entry of a failed login from ip.
func failedLogin(ts time.Time, ip string) simulator.LogEvent {
	return simulator.LogEvent{Time: ts, Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: ip}
}
