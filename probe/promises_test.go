package probe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// README "Security": a host name is resolved once, checked against allowed_targets,
// and the connection goes to exactly the checked addresses.
func TestHostNameTargetConnectsOnlyToCheckedAddresses(t *testing.T) {
	t.Run("pinned", func(t *testing.T) {
		dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
		r := &fakeResolver{names: map[string][]string{"cam.promise.test": {"127.0.0.1"}}}
		e := startExporter(t, configYAML("password", nil, "    allowed_targets: [127.0.0.0/8]\n    collectors: [account]\n"), func(o *HandlerOptions) { o.Resolver = r })
		const probes = 2
		for i := range probes {
			// The system resolver does not know the name: only the pinned address can reach the device.
			code, body := e.probe("target=cam.promise.test:" + devicePort(dev))
			if code != 200 || !promtest.HasLine(body, "hikvision_up 1") {
				t.Fatalf("probe %d: HTTP %d\n%s\nlogs:\n%s", i, code, body, e.logs.String())
			}
		}
		if n := r.lookups.Load(); n < 1 || n > probes {
			t.Errorf("resolver asked %d times for %d probes; want at most once per probe", n, probes)
		}
	})
	t.Run("refused", func(t *testing.T) {
		dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
		r := &fakeResolver{names: map[string][]string{"cam.promise.test": {"127.0.0.2"}}}
		e := startExporter(t, configYAML("password", nil, "    allowed_targets: [127.0.0.1/32]\n"), func(o *HandlerOptions) { o.Resolver = r })
		code, body := e.probe("target=cam.promise.test:" + devicePort(dev))
		if code != http.StatusBadRequest || !strings.Contains(body, "outside the module's allowed_targets") {
			t.Errorf("HTTP %d %q; want 400 naming allowed_targets", code, body)
		}
		if s := dev.Stats(); s.Connections != 0 || s.Requests != 0 {
			t.Errorf("a refused target was contacted: %+v", s)
		}
	})
}

// README "Security": proxy environment variables are ignored.
//
// net/http reads the proxy variables once per process, at its first request,
// so the probe runs in a child process that starts with them set.
func TestProxyEnvironmentIsIgnoredByProbes(t *testing.T) {
	const child = "HIKVISION_PROMISE_PROXY_CHILD"
	if os.Getenv(child) == "1" {
		dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
		r := &fakeResolver{names: map[string][]string{"cam.promise.test": {"127.0.0.1"}}}
		e := startExporter(t, configYAML("password", nil, "    allowed_targets: [127.0.0.0/8]\n    collectors: [account]\n"), func(o *HandlerOptions) { o.Resolver = r })
		code, body := e.probe("target=cam.promise.test:" + devicePort(dev))
		if code != 200 || !promtest.HasLine(body, "hikvision_up 1") {
			t.Fatalf("HTTP %d\n%s\nlogs:\n%s", code, body, e.logs.String())
		}
		return
	}
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		proxied.Add(1)
		http.Error(w, "proxied", http.StatusBadGateway)
	}))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	t.Setenv(child, "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestProxyEnvironmentIsIgnoredByProbes$", "-test.count=1", "-test.v").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestProxyEnvironmentIsIgnoredByProbes") {
		t.Errorf("probe in a child process with proxy variables set: %v\n%s", err, out)
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("the proxy from the environment received %d requests", n)
	}
}

// README "Bad input": oversized answers fail only their collector; max_response_bytes sets the limit.
func TestModuleMaxResponseBytesIsApplied(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{Oversize: 64 << 10})
	devices := map[string]*simulator.Device{"cam": dev}
	e := startExporter(t, configYAML("password", devices, "    max_response_bytes: 2048\n    collectors: [device]\n"), nil)
	_, body := e.probe("target=cam")
	for _, want := range []string{"hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 0`} {
		if !promtest.HasLine(body, want) {
			t.Errorf("64 KiB answer, 2048-byte limit: no %q in\n%s", want, body)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "size limit of 2048 bytes") {
		t.Errorf("log does not name the size limit:\n%s", logs)
	}
	dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{})
	e.reload(configYAML("password", devices, "    collectors: [device]\n"))
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, `hikvision_scrape_collector_success{collector="device"} 1`) {
		t.Errorf("fault removed, default limit: device collector failed\n%s", body)
	}
}

// README "Bad input": a hang fails only the collector that read it; the
// probe returns by its deadline. On a cold cache the first probe cannot
// tell a hang from a slow first answer (the area is warming); from the
// next probe on, once that fetch failed, the area fails and is logged.
func TestHangingEndpointFailsOnlyItsCollector(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{Hang: true})
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, "    timeout: 2s\n"), nil)
	for i, outcome := range []string{"warming", "partial"} {
		start := time.Now()
		code, body := e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "2")
		// The hang never ends on its own, so answering at all proves the
		// deadline ended it; the bound only catches a probe that waited
		// for something else, with room for a loaded machine.
		if took := time.Since(start); took >= 6*time.Second {
			t.Errorf("probe %d with a 2s scrape timeout answered after %v", i, took)
		}
		if code != 200 {
			t.Fatalf("HTTP %d\n%s", code, body)
		}
		for _, want := range []string{"hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 0`,
			`hikvision_scrape_collector_success{collector="account"} 1`, `hikvision_scrape_collector_success{collector="time"} 1`} {
			if !promtest.HasLine(body, want) {
				t.Errorf("probe %d: no %q in\n%s", i, want, body)
			}
		}
		if n := e.probesTotal(outcome); n != 1 {
			t.Errorf("probe %d: probes_total{%s} = %v, want 1", i, outcome, n)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "target=cam") || !strings.Contains(logs, "collector=device") {
		t.Errorf("no log line naming the device and the failed collector:\n%s", logs)
	}
}

// README "Security": only a rejection of credentials holds off; a 401 without a challenge is none.
func TestChallengelessUnauthorizedIsNotARejection(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithClock(clock.Now))
	dev.SetFault("", simulator.Fault{NoChallenge: true})
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	_, body := e.probe("target=cam")
	if !promtest.HasLine(body, "hikvision_up 0") || !promtest.HasLine(body, "hikvision_auth_rejected 0") {
		t.Fatalf("challengeless 401: want up 0, auth_rejected 0\n%s", body)
	}
	dev.SetFault("", simulator.Fault{})
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") || !promtest.HasLine(body, "hikvision_auth_rejected 0") {
		t.Errorf("fault removed, same instant: want up 1 (no hold-off)\n%s\nlogs:\n%s", body, e.logs.String())
	}
	if s := dev.Stats(); s.FailedLogins != 0 {
		t.Errorf("%d failed logins", s.FailedLogins)
	}
}

// README "Security": Basic is never sent unless allowed; a Basic-only device gets a clear error, not a hold-off.
func TestBasicOnlyDeviceWithoutAllowBasicIsNotHeldOff(t *testing.T) {
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.BasicOnly = true
	dev := simulator.Start(t, p, simulator.WithTLS())
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password: password\n    scheme: https\n"+
		"    tls_config: {insecure_skip_verify: true}\ndevices:\n  - {name: cam, address: %q}\n", dev.Addr())
	e := startExporter(t, yaml, nil)
	_, body := e.probe("target=cam")
	if !promtest.HasLine(body, "hikvision_up 0") || !promtest.HasLine(body, "hikvision_auth_rejected 0") {
		t.Errorf("want up 0, auth_rejected 0\n%s", body)
	}
	s := dev.Stats()
	if s.Requests == 0 || s.FailedLogins != 0 || s.Unauthorized != s.Requests {
		// Every request answered with the bare challenge carried no credentials.
		t.Errorf("credentials reached the device: %+v", s)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "Basic") || strings.Contains(logs, "0001-01-01") || strings.Contains(logs, "holding off") {
		t.Errorf("want a log line about Basic auth and no hold-off:\n%s", logs)
	}
}

// README "Security" (least privilege): an endpoint the account may not read reports
// feature_supported 0, is not a wrong password, and is not asked for again within auth_backoff.
func TestPermissionDeniedEndpointIsNotAWrongPassword(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithClock(clock.Now))
	dev.SetEndpoint("GET /ISAPI/Security/users", simulator.Endpoint{Status: http.StatusUnauthorized,
		Body: simulator.ResponseStatusXML(simulator.NamespaceHikvision20, "/ISAPI/Security/users", 4, "Invalid Operation", "noPermission")})
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	for minute := 0; minute <= 80; minute++ {
		_, body := e.probe("target=cam")
		for _, want := range []string{"hikvision_up 1", "hikvision_auth_rejected 0", `hikvision_feature_supported{feature="users"} 0`} {
			if !promtest.HasLine(body, want) {
				t.Fatalf("minute %d: no %q in\n%s", minute, want, body)
			}
		}
		clock.Advance(time.Minute)
	}
	s := dev.Stats()
	if n := s.Authenticated["GET /ISAPI/Security/users"]; n < 1 || n > 3 {
		t.Errorf("users answered %d times in 80 minutes; want 1 to 3 (once per 35m auth_backoff)", n)
	}
	if s.FailedLogins != 0 {
		t.Errorf("%d failed logins", s.FailedLogins)
	}
}

// README "Security": any /probe caller can name ad-hoc targets; what the exporter keeps for them is bounded.
func TestAdhocTargetsAreBounded(t *testing.T) {
	clock := newClock()
	cfg, err := config.Parse([]byte(configYAML("password", nil, "    allowed_targets: [127.0.0.0/8]\n")))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerOptions{Config: func() *config.Config { return cfg }, Logger: slog.New(slog.DiscardHandler), Now: clock.Now})
	t.Cleanup(h.Close)
	e := &exporter{t: t, srv: httptest.NewServer(h), logs: &simulator.SyncBuffer{}}
	t.Cleanup(e.srv.Close)

	const targets = 1100
	target := func(i int) string { return fmt.Sprintf("target=127.0.%d.%d:9", i/250, i%250+1) } // port 9: closed
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if code, body := e.probe(target(i), "X-Prometheus-Scrape-Timeout-Seconds", "1"); code != 200 || !promtest.HasLine(body, "hikvision_up 0") {
					t.Errorf("%s: HTTP %d\n%s", target(i), code, body)
				}
			}
		}()
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()

	clock.Advance(2 * time.Minute) // the next probe sweeps
	e.probe(target(targets-1), "X-Prometheus-Scrape-Timeout-Seconds", "1")
	pl := h.prober.pool
	pl.mu.Lock()
	states, rotations := len(pl.states), len(pl.rotations)
	pl.mu.Unlock()
	if states > maxAdhocStates {
		t.Errorf("%d ad-hoc targets left %d States; want at most %d", targets, states, maxAdhocStates)
	}
	if rotations > states {
		t.Errorf("%d password rotations kept for %d States after a sweep", rotations, states)
	}
}
