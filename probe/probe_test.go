package probe

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// TestProbeOfEachKindOfDevice: a whole probe of a camera, a recorder and
// an access terminal without deviceInfo, whose credential check falls back
// and whose device area reports the feature missing instead of failing;
// and of a recorder without userCheck, whose credential check falls back
// to deviceInfo and whose password state is not invented. Every probe
// asks deviceInfo once: a credential check that falls back to it and the
// device area share the answer.
func TestProbeOfEachKindOfDevice(t *testing.T) {
	noUserCheck := simulator.CaptureProfile("DS-7616NI-K2")
	noUserCheck.NotSupported = []string{"GET /ISAPI/Security/userCheck"}
	withInfo := []string{`hikvision_feature_supported{feature="device_info"} 1`, "hikvision_device_info{", "hikvision_firmware_build_timestamp_seconds "}
	for name, tc := range map[string]struct {
		profile      simulator.Profile
		want, absent []string
	}{
		"k1a340fwx": {simulator.CaptureProfile("k1a340fwx"),
			[]string{`hikvision_feature_supported{feature="device_info"} 0`}, []string{"hikvision_device_info{", "hikvision_firmware_build_timestamp_seconds "}},
		"DS-2CD2443G0-IW":           {simulator.CaptureProfile("DS-2CD2443G0-IW"), withInfo, nil},
		"DS-7616NI-K2":              {simulator.CaptureProfile("DS-7616NI-K2"), withInfo, nil},
		"DS-7616NI-K2 no userCheck": {noUserCheck, append([]string{`hikvision_feature_supported{feature="user_check"} 0`}, withInfo...), []string{"hikvision_password_default"}},
	} {
		t.Run(name, func(t *testing.T) {
			dev := simulator.Start(t, tc.profile)
			p := dev.Profile()
			e := startExporter(t, configYAMLUser(p.Username, p.Password, map[string]*simulator.Device{"sim": dev}, "    collectors: [device, account]\n"), nil)
			_, body := e.probe("target=sim")
			wantLines(t, body, slices.Concat(tc.want, []string{"hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 1`})...)
			for _, l := range tc.absent {
				if promtest.HasLine(body, l) {
					t.Errorf("unexpected line %q in\n%s", l, body)
				}
			}
			if got := dev.Stats().ByPath["GET /ISAPI/System/deviceInfo"]; got != 1 {
				t.Errorf("deviceInfo asked %d times, want 1", got)
			}
		})
	}
}

// TestCollectorRegistryIsTheOnlyList: configuration is checked against the
// registry, and a name the registry lacks fails its probe area instead of
// being skipped.
func TestCollectorRegistryIsTheOnlyList(t *testing.T) {
	bad := "modules:\n  default:\n    username: admin\n    password: p\n    scheme: http\n    collectors: [device, bogus]\n"
	_, err := config.Parse([]byte(bad), config.WithCollectors(collector.Names()))
	if err == nil || !strings.Contains(err.Error(), `unknown collector "bogus"`) {
		t.Fatalf("err = %v, want an unknown collector", err)
	}
	_, e := startCam(t, "password", "    collectors: [device, bogus]\n")
	_, body := e.probe("target=cam")
	wantLines(t, body, `hikvision_scrape_collector_success{collector="device"} 1`, `hikvision_scrape_collector_success{collector="bogus"} 0`)
}

func TestProbeDemoFleet(t *testing.T) {
	fleet, err := simulator.StartDemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	e := startExporter(t, fleet.ConfigYAML(), nil)
	for _, d := range fleet.Devices {
		t.Run(d.Name, func(t *testing.T) {
			code, body := e.probe("target=" + d.Name)
			if code != 200 {
				t.Fatalf("HTTP %d: %s", code, body)
			}
			up, want := "hikvision_up 1", []string{"hikvision_device_info{", "hikvision_firmware_build_timestamp_seconds ",
				`hikvision_scrape_collector_success{collector="device"} 1`}
			if d.Name == "wrong-password" {
				up, want = "hikvision_up 0", nil
			}
			wantLines(t, body, append(want, up, "hikvision_probe_duration_seconds ", "hikvision_probe_timeout_seconds 10")...)
			problems, err := promlint.New(strings.NewReader(body)).Lint()
			if err != nil {
				t.Fatalf("lint: %v", err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
	if got := fleet.Device("wrong-password").Device.Stats().FailedLogins; got != 1 {
		t.Errorf("wrong-password device: %d failed logins, want 1", got)
	}
}

func TestRefusedTargetsMakeNoConnection(t *testing.T) {
	configured := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	stranger := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": configured}, "    allowed_targets: [10.99.0.0/16]\n"), func(o *HandlerOptions) { o.Resolver = net.DefaultResolver })
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
	if got := e.probesTotal("bad_request"); got != float64(len(cases)+1) {
		t.Errorf("bad_request counter = %v, want %d", got, len(cases)+1)
	}
}

func TestAllowedTargetIsProbed(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := startExporter(t, configYAML("password", nil, "    allowed_targets: [127.0.0.0/8]\n"), nil)
	code, body := e.probe("target=" + dev.Addr() + "&module=default")
	if code != 200 || !promtest.HasLine(body, "hikvision_up 1") {
		t.Fatalf("HTTP %d\n%s", code, body)
	}
}

func TestProbeTimeoutFromHeader(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, "    timeout: 4s\n"), func(o *HandlerOptions) { o.TimeoutOffset = 500 * time.Millisecond })
	for header, want := range map[string]string{"": "4", "2": "1.5", "30": "4", "0.25": "0.25"} {
		var h []string
		if header != "" {
			h = []string{"X-Prometheus-Scrape-Timeout-Seconds", header}
		}
		_, body := e.probe("target=cam", h...)
		if !promtest.HasLine(body, "hikvision_probe_timeout_seconds "+want+"\n") && !promtest.HasLine(body, "hikvision_probe_timeout_seconds "+want) {
			t.Errorf("header %q: want timeout %s in\n%s", header, want, body)
		}
	}
}

func TestHangingDeviceAnswersByDeadline(t *testing.T) {
	dev, e := startCam(t, "password", "")
	dev.SetFault("", simulator.Fault{Hang: true})
	code, body := e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "0.3")
	if code != 200 || !promtest.HasLine(body, "hikvision_up 0") {
		t.Fatalf("HTTP %d\n%s", code, body)
	}
	if !strings.Contains(e.logs.String(), "target=cam") || !strings.Contains(e.logs.String(), "deadline exceeded") {
		t.Errorf("no log line naming the device and the cause:\n%s", e.logs.String())
	}
}

func TestFailingCollectorKeepsTheOthers(t *testing.T) {
	dev, e := startCam(t, "password", "    collectors: [device, account]\n")
	dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{Malformed: true})
	_, body := e.probe("target=cam")
	wantLines(t, body, "hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 0`,
		`hikvision_scrape_collector_success{collector="account"} 1`, "hikvision_password_default 0")
	if promtest.HasLine(body, "hikvision_device_info") {
		t.Errorf("device_info from a malformed answer:\n%s", body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "collector=device") || !strings.Contains(logs, "malformed XML") {
		t.Errorf("no log line for the failed collector:\n%s", logs)
	}
}

func TestConcurrentProbesShareOneCollection(t *testing.T) {
	dev, e := startCam(t, "password", "    collectors: [device, account]\n")
	dev.SetLatency(30 * time.Millisecond)
	e.probe("target=cam") // warm: challenge cached, deviceInfo cached
	dev.ResetStats()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") {
				t.Errorf("probe failed:\n%s", body)
			}
		}()
	}
	wg.Wait()
	if got := dev.Stats().ByPath["GET /ISAPI/Security/userCheck"]; got < 1 || got > 2 {
		t.Errorf("6 concurrent probes made %d credential checks; want them to share (1, or 2 if one arrived after the first finished)", got)
	}
}

// slotTaken starts an exporter of one probe slot, and a probe of a device
// that hangs until closed holding it: "other" is a device that answers.
// The returned func closes the hanging device and waits for its probe.
func slotTaken(t *testing.T) (e *exporter, release func()) {
	t.Helper()
	slow := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	slow.SetFault("", simulator.Fault{Hang: true}) // until the device is closed
	other := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e = startExporter(t, configYAML("password", map[string]*simulator.Device{"slow": slow, "other": other}, ""), func(o *HandlerOptions) { o.MaxInFlight = 1 })
	done := make(chan struct{})
	go func() { defer close(done); e.probe("target=slow") }()
	// Once its device has a request, the slow probe holds the only slot
	// until the device is closed.
	for deadline := time.Now().Add(10 * time.Second); slow.Stats().Requests == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow probe did not reach its device")
		}
	}
	return e, func() { slow.Close(); <-done }
}

func TestTooManyProbesAnswer503(t *testing.T) {
	e, release := slotTaken(t)
	// It waits half its timeout for the slot, then is refused.
	code, body := e.probe("target=other", "X-Prometheus-Scrape-Timeout-Seconds", "1")
	release()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "too many probes") {
		t.Errorf("HTTP %d %q, want 503", code, body)
	}
}

func TestProbesWaitForASlot(t *testing.T) {
	e, release := slotTaken(t)
	answered := make(chan string, 1)
	go func() { _, body := e.probe("target=other"); answered <- body }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.logs.String(), "waiting for one"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second probe did not wait for the slot")
		}
	}
	release() // the slow probe ends and frees the only slot
	if body := <-answered; !promtest.HasLine(body, "hikvision_up 1") {
		t.Errorf("the probe that waited for a slot answered:\n%s", body)
	}
}

// TestColdProbeAnswersWhileItsCacheFills: a device whose first answers take
// longer than the scrape timeout is up at once, its areas that wait for a
// first fetch are reported as warming, not failing, and the fetch goes on:
// the next probe reads it without asking the device again.
func TestColdProbeAnswersWhileItsCacheFills(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	capabilities := "GET /ISAPI/System/capabilities"
	dev.SetFault(capabilities, simulator.Fault{AnswerLatency: 1500 * time.Millisecond})
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, ""), nil)
	_, body := e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "1")
	if !promtest.HasLine(body, "hikvision_up 1") || !promtest.HasLine(body, `hikvision_scrape_collector_success{collector="two_factor"} 0`) {
		t.Fatalf("cold probe:\n%s", body)
	}
	if n := e.probesTotal("warming"); n != 1 {
		t.Errorf("probes_total{warming} = %v, want 1 (partial %v)", n, e.probesTotal("partial"))
	}
	if strings.Contains(e.logs.String(), "Collector failing") {
		t.Errorf("a warming collector was logged as failing:\n%s", e.logs)
	}
	_, body = e.probe("target=cam") // joins the fetch still under way, or reads its answer
	if !promtest.HasLine(body, `hikvision_scrape_collector_success{collector="two_factor"} 1`) {
		t.Errorf("the probe after the first fetch:\n%s", body)
	}
	if n := dev.Stats().Authenticated[capabilities]; n != 1 {
		t.Errorf("the device answered %s %d times, want once", capabilities, n)
	}
}

// TestLockoutProof is issue 4's proof: a wrong password probed once a second
// for ten (simulated) minutes against a device that locks after 3 wrong
// logins makes one failed login per backoff window and never locks it; once
// the password is fixed, the first probe after the backoff succeeds. Probes
// also arrive several at once.
func TestLockoutProof(t *testing.T) {
	clock := newClock()
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter, p.LockDuration, p.ExtendLock = "device-password", 3, 30*time.Minute, true
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("wrong-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password_file: %s\n    scheme: http\ndevices:\n  - {name: cam, address: %q}\n", pwFile, dev.Addr())
	e := startExporter(t, yaml, func(o *HandlerOptions) { o.Now = clock.Now })

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
				if code != 200 || !promtest.HasLine(body, "hikvision_up 0") || !promtest.HasLine(body, "hikvision_auth_rejected 1") {
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
	if !promtest.HasLine(body, "hikvision_auth_retry_timestamp_seconds ") || !promtest.HasLine(body, "hikvision_login_attempts_remaining 2") {
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
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") || !promtest.HasLine(body, "hikvision_auth_rejected 0") {
		t.Fatalf("after fixing the password:\n%s", body)
	}
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, `hikvision_password_age_seconds{source="rotation"} 0`) {
		t.Errorf("rotation not seen:\n%s", body)
	}
}

// TestLockoutProofDeviceSidePasswordFix: the device's password is changed
// back to the exporter's; the first probe after the backoff succeeds.
func TestLockoutProofDeviceSidePasswordFix(t *testing.T) {
	clock := newClock()
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter = "device-password", 3
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	e := startExporter(t, configYAML("exporter-password", map[string]*simulator.Device{"cam": dev}, ""), func(o *HandlerOptions) { o.Now = clock.Now })
	e.probe("target=cam")
	dev.SetPassword("exporter-password")
	clock.Advance(config.DefaultAuthBackoff - time.Minute)
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 0") {
		t.Fatalf("probe before the backoff ended reached the device:\n%s", body)
	}
	clock.Advance(2 * time.Minute)
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_up 1") {
		t.Fatalf("first probe after the backoff:\n%s", body)
	}
	if s := dev.Stats(); s.FailedLogins != 1 {
		t.Errorf("failed logins = %d, want 1", s.FailedLogins)
	}
}

// An unreadable password_file keeps every device of the module
// uncontacted, and is logged as an error once, not once per probe.
func TestDeadPasswordFileMakesNoConnection(t *testing.T) {
	cams := map[string]*simulator.Device{}
	for _, name := range []string{"cam1", "cam2"} {
		cams[name] = simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password_file: %s\n    scheme: http\ndevices:\n  - {name: cam1, address: %q}\n  - {name: cam2, address: %q}\n",
		pwFile, cams["cam1"].Addr(), cams["cam2"].Addr())
	e := startExporter(t, yaml, nil)
	for range 3 {
		for name := range cams {
			if _, body := e.probe("target=" + name); !promtest.HasLine(body, "hikvision_up 0") {
				t.Fatalf("\n%s", body)
			}
		}
	}
	for name, dev := range cams {
		if s := dev.Stats(); s.Connections != 0 {
			t.Errorf("%s contacted without a password: %+v", name, s)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "level=ERROR msg=\"Cannot read the module's password"); n != 1 || !strings.Contains(logs, pwFile) {
		t.Errorf("%d error lines for six probes of an unreadable password_file; want 1 that names the file:\n%s", n, logs)
	}
	if err := os.WriteFile(pwFile, []byte("password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, body := e.probe("target=cam1"); !promtest.HasLine(body, "hikvision_up 1") {
		t.Fatalf("with the password readable:\n%s", body)
	}
	if !strings.Contains(e.logs.String(), "level=INFO msg=\"The module's password can be read again\"") {
		t.Errorf("no log line when the password became readable:\n%s", e.logs.String())
	}
}

func TestProbeMetricsAreFresh(t *testing.T) {
	dev, e := startCam(t, "password", "    collectors: [account]\n")
	_, body := e.probe("target=cam")
	if !promtest.HasLine(body, "hikvision_password_default 0") {
		t.Fatalf("\n%s", body)
	}
	dev.SetAccount(simulator.Account{DefaultPassword: true})
	if _, body := e.probe("target=cam"); !promtest.HasLine(body, "hikvision_password_default 1") {
		t.Errorf("userCheck is read on every probe; want the new state:\n%s", body)
	}
}
