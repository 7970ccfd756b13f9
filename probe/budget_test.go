package probe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
	"github.com/hikvision-exporter/hikvision_exporter/storage"
)

// The lockout budget: with a wrong password, at most one failed login per
// hold-off window reaches a device account, whatever the device's speed,
// the names and modules that reach it, reloads and restarts. Each test
// counts the failed logins the simulated device saw, after waiting for any
// credential check still out in the background.

// TestLockoutBudgetSlowDevice: the device answers a credentialed request
// only after the probe's deadline, having counted the failed login. The
// check goes on in the background and its rejection holds off the next
// probes; a check that gets no answer at all holds off too.
func TestLockoutBudgetSlowDevice(t *testing.T) {
	for _, tc := range []struct {
		name, module, header string
	}{
		{"answer after the scrape timeout", "", "0.3"},
		{"no answer within twice the module timeout", "    timeout: 300ms\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			dev := lockingDevice(t, clock)
			dev.SetFault("", simulator.Fault{AnswerLatency: 400 * time.Millisecond})
			e := startExporter(t, configYAML("wrong-password", map[string]*simulator.Device{"cam": dev}, tc.module),
				func(o *HandlerOptions) { o.Now = clock.Now })
			var header []string
			if tc.header != "" {
				header = []string{"X-Prometheus-Scrape-Timeout-Seconds", tc.header}
			}
			for probe := range 7 {
				code, body := e.probe("target=cam", header...)
				if code != 200 || !promtest.HasLine(body, "hikvision_up 0") {
					t.Fatalf("probe %d: HTTP %d\n%s", probe, code, body)
				}
				e.settle()
				clock.Advance(15 * time.Second)
			}
			wantFailedLogins(t, dev, 1)
			if _, body := e.probe("target=cam", header...); !promtest.HasLine(body, "hikvision_auth_rejected 1") {
				t.Errorf("not reported as holding off:\n%s", body)
			}
		})
	}
}

// TestLockoutBudgetTwoChallenges: a device offering SHA-256 and MD5
// Digest challenges together, in two headers or in one, probed every 15
// seconds with a wrong password, sees one failed login per hold-off
// window: the exporter answers one challenge and never tries the other.
// With the right password it logs in with no failed login at all.
func TestLockoutBudgetTwoChallenges(t *testing.T) {
	for name, offer := range map[string]simulator.DigestOffer{
		"two headers": simulator.DigestBothHeaders,
		"one header":  simulator.DigestBothInOne,
	} {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
			p.Password, p.LockAfter, p.LockDuration, p.ExtendLock = "device-password", 3, 30*time.Minute, true
			p.Digest = offer
			dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
			e := startExporter(t, configYAML("wrong-password", map[string]*simulator.Device{"cam": dev}, ""),
				func(o *HandlerOptions) { o.Now = clock.Now })
			// 35m, then 70m (auth_backoff doubles): two windows, two
			// failed logins, in 100 minutes of probes.
			for probe := range 400 {
				code, body := e.probe("target=cam")
				if code != 200 || !promtest.HasLine(body, "hikvision_up 0") || !promtest.HasLine(body, "hikvision_auth_rejected 1") {
					t.Fatalf("probe %d: HTTP %d\n%s", probe, code, body)
				}
				e.settle()
				clock.Advance(15 * time.Second)
				if probe == 100 {
					wantFailedLogins(t, dev, 1)
				}
			}
			wantFailedLogins(t, dev, 2)

			right := startExporter(t, configYAML("device-password", map[string]*simulator.Device{"cam": dev}, ""),
				func(o *HandlerOptions) { o.Now = clock.Now })
			for range 3 {
				if _, body := right.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") {
					t.Fatalf("right password:\n%s", body)
				}
				clock.Advance(time.Minute)
			}
			wantFailedLogins(t, dev, 2)
		})
	}
}

// TestLockoutBudgetAliases: the configured name, the address, "localhost",
// an IPv4-mapped address and another module all reach one device account.
func TestLockoutBudgetAliases(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	_, port, _ := strings.Cut(dev.Addr(), ":")
	yaml := fmt.Sprintf(`modules:
  default:
    username: admin
    password: wrong-password
    scheme: http
    allowed_targets: [127.0.0.0/8, "::1/128"]
  other:
    username: admin
    password: another-wrong-password
    scheme: http
    allowed_targets: [127.0.0.0/8, "::1/128"]
devices:
  - {name: cam1, address: %q}
  - {name: cam1-by-name, address: "localhost:%s", module: other}
`, dev.Addr(), port)
	e := startExporter(t, yaml, func(o *HandlerOptions) { o.Now = clock.Now; o.Resolver = loopbackNames() })
	targets := []string{
		"target=cam1", "target=cam1-by-name",
		"target=127.0.0.1:" + port, "target=localhost:" + port,
		"target=127.0.0.1:" + port + "&module=other", "target=localhost:" + port + "&module=other",
		"target=[::ffff:127.0.0.1]:" + port + "&module=other",
	}
	for round := range 3 {
		for _, q := range targets {
			if code, body := e.probe(q); code != 200 || !promtest.HasLine(body, "hikvision_up 0") {
				t.Fatalf("round %d %s: HTTP %d\n%s", round, q, code, body)
			}
			e.settle()
		}
		clock.Advance(time.Minute)
	}
	wantFailedLogins(t, dev, 1)
}

// TestLockoutBudgetRestarts: hold-offs are kept in --storage.path, so a
// restarted exporter sends no credentials before the hold-off ends; a
// corrupt state file is ignored with a warning.
func TestLockoutBudgetRestarts(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	dir := t.TempDir()
	yaml := configYAML("wrong-password", map[string]*simulator.Device{"cam": dev}, "")
	withStorage := func(o *HandlerOptions) { o.Now = clock.Now; o.StoragePath = dir }
	for restart := range 6 {
		e := startExporter(t, yaml, withStorage)
		e.wantHeldOff(t, fmt.Sprintf("restart %d", restart))
		e.h.Close() // as on SIGTERM: saves the state
		clock.Advance(time.Minute)
	}
	wantFailedLogins(t, dev, 1)

	// Past the hold-off a restarted exporter tries once more, and the wait doubles.
	clock.Advance(35 * time.Minute)
	e := startExporter(t, yaml, withStorage)
	e.probe("target=cam")
	e.settle()
	e.h.Close()
	wantFailedLogins(t, dev, 2)
	clock.Advance(36 * time.Minute)
	e = startExporter(t, yaml, withStorage)
	e.wantHeldOff(t, "after a restart within the doubled hold-off")
	wantFailedLogins(t, dev, 2)
}

// TestLockoutBudgetReloads: a reload that changes how the device is
// reached (concurrency, backoff, timeout) builds a new client but keeps
// the hold-off.
func TestLockoutBudgetReloads(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	devices := map[string]*simulator.Device{"cam": dev}
	e := startExporter(t, configYAML("wrong-password", devices, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	e.probe("target=cam")
	e.settle()
	for _, extra := range []string{
		"    max_concurrent_requests: 2\n",
		"    auth_backoff: 40m\n",
		"    timeout: 5s\n",
		"    cache_ttl: 1m\n    max_response_bytes: 100000\n",
	} {
		e.reload(configYAML("wrong-password", devices, extra))
		e.wantHeldOff(t, fmt.Sprintf("after a reload with %q", extra))
		clock.Advance(time.Minute)
	}
	wantFailedLogins(t, dev, 1)
}

// TestLockedDeviceGetsNoCredentials: someone else locked the account. The
// device says so in its answer to the exporter's unauthenticated first
// request, and the exporter sends no password before the unlock time.
func TestLockedDeviceGetsNoCredentials(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	intruder := startExporter(t, configYAML("guess", map[string]*simulator.Device{"cam": dev}, "    auth_backoff: 1s\n    auth_backoff_max: 1s\n"), func(o *HandlerOptions) { o.Now = clock.Now })
	for range 5 {
		intruder.probe("target=cam")
		intruder.settle()
		clock.Advance(2 * time.Second)
	}
	if !dev.Locked() {
		t.Fatal("the intruder did not lock the device")
	}
	before := dev.Stats().FailedLogins

	e := startExporter(t, configYAML("device-password", map[string]*simulator.Device{"cam": dev}, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	for range 3 {
		_, body := e.probe("target=cam")
		if !promtest.HasLine(body, "hikvision_auth_rejected 1") || !promtest.HasLine(body, "hikvision_account_locked 1") ||
			!promtest.HasLine(body, "hikvision_auth_retry_timestamp_seconds ") {
			t.Fatalf("locked device:\n%s", body)
		}
		e.settle()
		clock.Advance(time.Minute)
	}
	if got := dev.Stats().FailedLogins; got != before {
		t.Fatalf("the exporter sent credentials to a locked device: %d more failed logins", got-before)
	}
	clock.Advance(30 * time.Minute)
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") {
		t.Fatalf("after the unlock time:\n%s", body)
	}
}

// TestDevicesConfiguredTwiceAreReported: two names of one device share one
// lockout budget; the exporter says so when it loads the configuration.
func TestDevicesConfiguredTwiceAreReported(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	_, port, _ := strings.Cut(dev.Addr(), ":")
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password: p\n    scheme: http\n"+
		"devices:\n  - {name: by-ip, address: %q}\n  - {name: by-name, address: \"localhost:%s\"}\n  - {name: elsewhere, address: \"127.0.0.9:%s\"}\n",
		dev.Addr(), port, port)
	e := startExporter(t, yaml, func(o *HandlerOptions) { o.Resolver = loopbackNames() })
	e.h.WarnDuplicates(context.Background(), e.cfg.Load())
	logs := e.logs.String()
	if !strings.Contains(logs, "device=by-name same_as=by-ip") || strings.Contains(logs, "device=elsewhere") {
		t.Errorf("want one warning, for by-name:\n%s", logs)
	}
}

// TestLogCursorSurvivesRestarts: the failed-login counter goes on from its
// saved cursor after a restart, counting what the device logged while the
// exporter was down once, with no counter reset.
func TestLogCursorSurvivesRestarts(t *testing.T) {
	clock := newClock()
	dev := failedLoginsCam(t, clock, 2*time.Hour, time.Hour)
	dir := t.TempDir()
	yaml := configYAML("device-password", map[string]*simulator.Device{"cam": dev}, "    collectors: [lockout]\n")
	opts := func(o *HandlerOptions) { o.Now = clock.Now; o.StoragePath = dir }
	counter := func(body string) string {
		if v, ok := promtest.LineValue(body, "hikvision_login_failures_total "); ok {
			return v
		}
		return "absent"
	}
	e := startExporter(t, yaml, opts)
	if _, body := e.probe("target=cam"); counter(body) != "2" {
		t.Fatalf("first probe: counter %s, want 2\n%s", counter(body), body)
	}
	e.h.Close()
	// Down for most of a day: a fresh 24h lookback would no longer see the
	// first two failures.
	clock.Advance(23*time.Hour + 30*time.Minute)
	dev.AddLog(failedLogin(clock.Now().Add(-5*time.Minute), "10.9.9.9"))
	searches := dev.Stats().ByPath["POST /ISAPI/ContentMgmt/logSearch"]
	e = startExporter(t, yaml, opts)
	if _, body := e.probe("target=cam"); counter(body) != "3" {
		t.Fatalf("after a restart: counter %s, want 3 (2 kept, 1 new)\n%s", counter(body), body)
	}
	if n := dev.Stats().ByPath["POST /ISAPI/ContentMgmt/logSearch"] - searches; n != 1 {
		t.Errorf("the restarted exporter made %d log searches; want 1, from the saved cursor", n)
	}

}

// TestLogCursorSurvivesReloads: a reload that changes client settings
// builds a new client, but the log cursor and its counter go on (a fresh
// cursor would read only the last day and lose the older failures).
func TestLogCursorSurvivesReloads(t *testing.T) {
	clock := newClock()
	dev := failedLoginsCam(t, clock, 50*time.Minute, 40*time.Minute)
	devices := map[string]*simulator.Device{"cam": dev}
	module := "    collectors: [lockout]\n    log_search_lookback: 1h\n"
	e := startExporter(t, configYAML("device-password", devices, module), func(o *HandlerOptions) { o.Now = clock.Now })
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_login_failures_total 2") {
		t.Fatalf("first probe:\n%s", body)
	}
	clock.Advance(45 * time.Minute) // both failures are now older than the lookback
	e.reload(configYAML("device-password", devices, module+"    timeout: 7s\n    cache_ttl: 2m\n"))
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_login_failures_total 2") {
		t.Fatalf("after a reload that built a new client:\n%s", body)
	}
}

// TestStorageProblemsAreWarningsNotFailures: a state file that cannot be
// read back, or a storage path that cannot be written, is logged as a
// warning and the exporter probes as usual, without persistence.
func TestStorageProblemsAreWarningsNotFailures(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	yaml := configYAML("device-password", map[string]*simulator.Device{"cam": dev}, "    collectors: [account]\n")

	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, storage.FileName), []byte(`{"version": 1, "hold_offs": [{"acc`), 0o600); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, warning string }{
		{corrupt, "Ignoring the state file"},
		{filepath.Join(blocked, "data"), "Running without persistence"}, // a directory under a file: not writable, even for root
	} {
		e := startExporter(t, yaml, func(o *HandlerOptions) { o.Now = clock.Now; o.StoragePath = tc.dir })
		if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") {
			t.Fatalf("%s: probe failed:\n%s", tc.dir, body)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, tc.warning) {
			t.Errorf("%s: want a warning %q:\n%s", tc.dir, tc.warning, logs)
		}
	}
}

// wantHeldOff probes cam and fails the test, saying when, unless the
// exporter reports that it holds off sending credentials; then it settles.
func (e *exporter) wantHeldOff(t *testing.T, when string) {
	t.Helper()
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_auth_rejected 1") {
		t.Fatalf("%s:\n%s", when, body)
	}
	e.settle()
}

// failedLoginsCam starts a camera whose password is device-password and
// whose log holds a failed login from 10.9.9.9 at each of ago before now.
func failedLoginsCam(t *testing.T, clock *simulator.Clock, ago ...time.Duration) *simulator.Device {
	t.Helper()
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password = "device-password"
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	for _, a := range ago {
		dev.AddLog(failedLogin(clock.Now().Add(-a), "10.9.9.9"))
	}
	return dev
}
