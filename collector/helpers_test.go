package collector

// The collector tests' helpers, on the shared kit (simulator.Start,
// simulator.Clock, internal/promtest): a simulated device with the Probe the
// prober would hand a collector for it, one collection as promtest series,
// and the series, log entries and documents several tests build.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// testEpoch is where the tests' clocks start.
var testEpoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// newClock returns a clock reading testEpoch, to be shared by a simulated
// device, its client and the probe.
func newClock() *simulator.Clock { return simulator.NewClock(testEpoch) }

// startProbe starts a simulated device serving p on clock (nil: the real
// clock) and returns it with its Probe (newProbe), configured by
// moduleConfig with moduleExtra.
func startProbe(t *testing.T, p simulator.Profile, clock *simulator.Clock, moduleExtra string, opts ...simulator.Option) (*simulator.Device, *Probe) {
	t.Helper()
	if clock != nil {
		opts = append([]simulator.Option{simulator.WithClock(clock.Now)}, opts...)
	}
	sim := simulator.Start(t, p, opts...)
	return sim, newProbe(t, sim, clock, moduleConfig(t, sim, moduleExtra))
}

// parseConfig parses a configuration, with the defaults applied.
func parseConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// moduleConfig is a configuration whose module "default" logs in to sim
// with its account over the scheme it serves; moduleExtra is appended:
// indented module keys, e.g. "    log_search_interval: 1m\n", then any
// top-level sections, e.g. "firmware_advisories:\n  - ...".
func moduleConfig(t *testing.T, sim *simulator.Device, moduleExtra string) *config.Config {
	t.Helper()
	p := sim.Profile()
	scheme := "http"
	if sim.Certificate() != nil {
		scheme = "https"
	}
	return parseConfig(t, fmt.Sprintf("modules:\n  default:\n    username: %q\n    password: %q\n    scheme: %s\n%s",
		p.Username, p.Password, scheme, moduleExtra))
}

// newProbe is what the prober hands a collector for sim under module
// "default" of cfg: a real client built from the module as the prober
// builds it (Digest, cache_ttl, max_concurrent_requests) on clock (nil:
// the real clock), which over https trusts the device's own certificate,
// and a fresh Values.
func newProbe(t *testing.T, sim *simulator.Device, clock *simulator.Clock, cfg *config.Config) *Probe {
	t.Helper()
	p := sim.Profile()
	m := cfg.Modules["default"]
	o := isapi.Options{
		Scheme: m.Scheme, Address: sim.Addr(), Username: p.Username, Password: p.Password,
		MaxConcurrent: m.MaxConcurrentRequests, Backoff: time.Minute, BackoffMax: time.Hour, CacheTTL: time.Duration(m.CacheTTL),
	}
	if cert := sim.Certificate(); cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		o.TLSConfig = &tls.Config{RootCAs: pool}
	}
	now := time.Now
	if clock != nil {
		o.Now, now = clock.Now, clock.Now
	}
	client := isapi.New(o)
	t.Cleanup(client.Close)
	return &Probe{
		Target: &config.Target{Name: "sim", Address: sim.Addr(), ModuleName: "default", Module: m},
		Module: m, Config: cfg, Client: client, Values: NewValues(nil),
		Logger: slog.New(slog.DiscardHandler), Now: now(),
	}
}

// collect runs one collector as a probe does, at the clock's time (nil:
// now), and returns the series it emitted (promtest.Series) with its
// error. It fails the test on a metric that could not be built.
func collect(t *testing.T, c Collector, d *Probe, clock *simulator.Clock) (map[string]float64, error) {
	t.Helper()
	return collectWithin(t, c, d, clock, 20*time.Second)
}

// collectOnce starts a device serving p on a fresh clock and runs c on it
// once, as collect does.
func collectOnce(t *testing.T, c Collector, p simulator.Profile) (*simulator.Device, map[string]float64, error) {
	t.Helper()
	clk := newClock()
	sim, d := startProbe(t, p, clk, "")
	got, err := collect(t, c, d, clk)
	return sim, got, err
}

// wantCached runs c again on d and fails the test unless it emits first
// again without sending the device a single request: what the first run
// read is kept for cache_ttl. what says what should have been cached.
func wantCached(t *testing.T, sim *simulator.Device, c Collector, d *Probe, first map[string]float64, what string) {
	t.Helper()
	sim.ResetStats()
	second, err := collect(t, c, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "", second, first)
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("second probe within cache_ttl sent %d requests (%v), want 0: %s", s.Requests, s.ByPath, what)
	}
}

// collectWithin is collect with a probe deadline (real time).
func collectWithin(t *testing.T, c Collector, d *Probe, clock *simulator.Clock, timeout time.Duration) (map[string]float64, error) {
	t.Helper()
	ms, errs := runProbe(t, d, clock, timeout, c)
	return promtest.Series(t, ConstMetrics(ms)), errs[0]
}

// runProbe runs collectors concurrently as one probe does after the
// credential check, at the clock's time (nil: now) within timeout (real
// time), and returns their metrics and their errors, one per collector.
// As a probe does: no background refresh meanwhile; the refreshes the
// collection queued run after it, and are done before the clock moves. It
// fails the test on a metric that could not be built.
func runProbe(t *testing.T, d *Probe, clock *simulator.Clock, timeout time.Duration, cs ...Collector) ([]prometheus.Metric, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d.Now = time.Now()
	if clock != nil {
		d.Now = clock.Now()
	}
	end, err := d.Client.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]Metrics, len(cs))
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = c.Collect(ctx, d, &ms[i]) })
	}
	wg.Wait()
	end()
	if err := d.Client.WaitRefreshed(ctx); err != nil {
		t.Fatal(err)
	}
	var out []prometheus.Metric
	for i := range ms {
		if err := ms[i].Err(); err != nil {
			t.Fatalf("building metrics: %v", err)
		}
		out = append(out, ms[i].Out()...)
	}
	return out, errs
}

// featureSeries is the key of hikvision_feature_supported for a feature.
func featureSeries(name string) string {
	return promtest.Key("hikvision_feature_supported", "feature", name)
}

// unixSeconds is a timestamp series' value for t.
func unixSeconds(t time.Time) float64 { return float64(t.Unix()) }

// The series of the failed-login log, and the simulator's key for its
// search.
const (
	loginFailuresSeries    = "hikvision_login_failures_total"
	lastLoginFailureSeries = "hikvision_last_login_failure_timestamp_seconds"
	logCursorSeries        = "hikvision_log_search_cursor_timestamp_seconds"
	logSearchKey           = "POST " + isapi.PathLogSearch
)

// logSearches counts the log-search requests the device has answered.
func logSearches(sim *simulator.Device) int { return sim.Stats().ByPath[logSearchKey] }

// illegalLogin is a failed login from ip at ts, as the device logs it.
func illegalLogin(ts time.Time, ip string) simulator.LogEvent {
	return simulator.LogEvent{Time: ts, Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: ip}
}

// deviceInfoSeries is the key of hikvision_device_info.
func deviceInfoSeries(model, serial, firmware, build, deviceType, name, mac string) string {
	return promtest.Key("hikvision_device_info", "model", model, "serial_number", serial, "firmware_version", firmware,
		"firmware_build", build, "device_type", deviceType, "device_name", name, "mac_address", mac)
}

// midnightUTC is a build timestamp series' value for a date.
func midnightUTC(y int, m time.Month, d int) float64 {
	return unixSeconds(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// withDeviceInfo is the capture profile of base model with elements of its
// deviceInfo replaced: a real capture turned into an older device.
func withDeviceInfo(base string, elements map[string]string) simulator.Profile {
	p := simulator.CaptureProfile(base)
	body := p.Endpoints["GET "+isapi.PathDeviceInfo].Body
	for _, k := range slices.Sorted(maps.Keys(elements)) {
		body = simulator.SetElement(body, k, elements[k])
	}
	p.Endpoints["GET "+isapi.PathDeviceInfo] = simulator.Endpoint{Body: body}
	return p
}

// servicesSeries expands a compact expectation of the services collector
// into series:
//
//	+feature / -feature   hikvision_feature_supported{feature} 1 / 0
//	name=E[:P]            hikvision_service_enabled{service=name} E, and
//	                      hikvision_service_port{service=name} P when given
//	redirect=V            hikvision_https_redirect_enabled V
//	tls1.1=V ...          hikvision_tls_version_enabled{version="1.1"} V
//	web_basic=V           hikvision_auth_basic_allowed{interface="web"} V
//	rtsp_basic=V          hikvision_auth_basic_allowed{interface="rtsp"} V
//	bound=V               hikvision_cloud_bound V
func servicesSeries(t *testing.T, spec string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("spec %q: %v", spec, err)
		}
		return v
	}
	for _, tok := range strings.Fields(spec) {
		switch tok[0] {
		case '+', '-':
			out[featureSeries(tok[1:])] = boolFloat(tok[0] == '+')
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			t.Fatalf("spec token %q", tok)
		}
		switch {
		case k == "redirect":
			out["hikvision_https_redirect_enabled"] = num(v)
		case strings.HasPrefix(k, "tls1."):
			out[promtest.Key("hikvision_tls_version_enabled", "version", strings.TrimPrefix(k, "tls"))] = num(v)
		case k == "web_basic" || k == "rtsp_basic":
			out[promtest.Key("hikvision_auth_basic_allowed", "interface", strings.TrimSuffix(k, "_basic"))] = num(v)
		case k == "bound":
			out["hikvision_cloud_bound"] = num(v)
		default:
			e, p, hasPort := strings.Cut(v, ":")
			out[promtest.Key("hikvision_service_enabled", "service", k)] = num(e)
			if hasPort {
				out[promtest.Key("hikvision_service_port", "service", k)] = num(p)
			}
		}
	}
	return out
}

// servicesState is what a device built by servicesProfile serves.
type servicesState struct {
	telnet, ssh, upnp, cloud, bound, onvif, ipFilter bool
	webAuth, rtspAuth                                string
	redirect, tls11, tls13                           bool
}

// servicesProfile is a device in namespace ns whose every services
// endpoint answers, as s says.
func servicesProfile(ns string, s servicesState) simulator.Profile {
	body := map[string][]byte{
		"GET " + isapi.PathTelnetd:         simulator.TelnetdXML(ns, s.telnet),
		"GET " + isapi.PathSSH:             simulator.SSHXML(ns, s.ssh),
		"GET " + isapi.PathUPnP:            simulator.UPnPXML(ns, s.upnp, "cam"),
		"GET " + isapi.PathEZVIZ:           simulator.EZVIZXML(ns, s.cloud, s.cloud, s.bound),
		"GET " + isapi.PathIntegrate:       simulator.IntegrateXML(ns, true, "digest", s.onvif, "digest/wsse"),
		"GET " + isapi.PathIPFilter:        simulator.IPFilterXML(ns, s.ipFilter, "allow"),
		"GET " + isapi.PathWebCertificate:  simulator.WebCertificateXML(ns, s.webAuth, "MD5"),
		"GET " + isapi.PathRTSPCertificate: simulator.RTSPCertificateXML(ns, s.rtspAuth),
		"GET " + isapi.PathAdminAccesses: simulator.AdminAccessesXML(ns,
			simulator.AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
			simulator.AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, RedirectToHTTPS: s.redirect, TLS11: s.tls11, TLS12: true, TLS13: s.tls13},
			simulator.AdminAccess{ID: 3, Protocol: "DEV_MANAGE", Enabled: false, Port: 8000},
			simulator.AdminAccess{ID: 4, Protocol: "RTSP", Enabled: true, Port: 10554}),
	}
	p := simulator.Profile{Name: "services " + ns, Namespace: ns, Endpoints: map[string]simulator.Endpoint{}}
	for k, b := range body {
		p.Endpoints[k] = simulator.Endpoint{Body: b}
	}
	return p
}

// timeDoc is a Time document with the given elements, empty ones left out.
func timeDoc(ns, mode, local, zone string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Time version=\"2.0\" xmlns=\"" + ns + "\">\n")
	for _, e := range [][2]string{{"timeMode", mode}, {"localTime", local}, {"timeZone", zone}} {
		if e[1] != "" {
			b.WriteString("<" + e[0] + ">" + e[1] + "</" + e[0] + ">\n")
		}
	}
	b.WriteString("</Time>\n")
	return []byte(b.String())
}

// userLevelSeries is the hikvision_users series for administrator,
// operator, viewer and other counts.
func userLevelSeries(administrators, operators, viewers, others float64) map[string]float64 {
	return map[string]float64{
		`hikvision_users{level="administrator"}`: administrators,
		`hikvision_users{level="operator"}`:      operators,
		`hikvision_users{level="viewer"}`:        viewers,
		`hikvision_users{level="other"}`:         others,
	}
}

// mergeSeries is the union of series maps, a later one winning.
func mergeSeries(ms ...map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// clockSkewSeries is the series diffTime checks within skewTolerance.
const clockSkewSeries = "hikvision_clock_skew_seconds"

// skewTolerance is how far a measured clock skew may be from the one
// expected: the simulator renders whole seconds and the exchange takes a
// little real time.
const skewTolerance = 2.0

// diffTime compares a time collection: exact series other than the skew,
// and the skew within skewTolerance of wantSkew (NaN: no skew series).
func diffTime(t *testing.T, got, want map[string]float64, wantSkew float64) {
	t.Helper()
	skew, hasSkew := got[clockSkewSeries]
	delete(got, clockSkewSeries)
	promtest.Diff(t, "", got, want)
	switch {
	case math.IsNaN(wantSkew) && hasSkew:
		t.Errorf("unexpected %s = %v", clockSkewSeries, skew)
	case !math.IsNaN(wantSkew) && !hasSkew:
		t.Errorf("missing %s (want about %v)", clockSkewSeries, wantSkew)
	case hasSkew && math.Abs(skew-wantSkew) > skewTolerance:
		t.Errorf("%s = %v, want %v ± %v", clockSkewSeries, skew, wantSkew, skewTolerance)
	}
}

// seriesContaining keeps the series whose name or labels contain word.
func seriesContaining(got map[string]float64, word string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range got {
		if strings.Contains(k, word) {
			out[k] = v
		}
	}
	return out
}
