package probe

import (
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// haPair probes target=cam as two Prometheus servers would, each once a
// minute on the test clock, B 20 seconds after A, for the given minutes.
// check sees each answer: server "A" or "B", the minute, and the body.
func haPair(e *exporter, clock *simulator.Clock, minutes int, check func(server string, minute int, body string)) {
	e.t.Helper()
	for minute := range minutes {
		for _, s := range []struct {
			name string
			then time.Duration
		}{{"A", 20 * time.Second}, {"B", 40 * time.Second}} {
			code, body := e.probe("target=cam")
			if code != 200 {
				e.t.Fatalf("minute %d, server %s: HTTP %d\n%s", minute, s.name, code, body)
			}
			e.settle()
			check(s.name, minute, body)
			clock.Advance(s.then)
		}
	}
}

// userChecks is how many credential checks the device accepted: one per
// collection.
func userChecks(dev *simulator.Device) int {
	return dev.Stats().Authenticated["GET "+isapi.PathUserCheck]
}

// TestMinProbeIntervalHAPair: two Prometheus servers each probe a camera
// once a minute, 20 seconds apart. With min_probe_interval 50s the device
// sees one collection a minute: B's probes are answered with A's
// collection, 20 seconds old, and counted with its outcome. Without it,
// two collections a minute and no age series.
func TestMinProbeIntervalHAPair(t *testing.T) {
	for _, tc := range []struct {
		name, module string
		perMinute    int
	}{
		{"min_probe_interval 50s", "    min_probe_interval: 50s\n", 1},
		{"off", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithClock(clock.Now))
			e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, tc.module),
				func(o *HandlerOptions) { o.Now = clock.Now })
			haPair(e, clock, 10, func(server string, minute int, body string) {
				wantLines(t, body, "hikvision_up 1", `hikvision_scrape_collector_success{collector="device"} 1`)
				age, hasAge := promtest.LineValue(body, "hikvision_probe_result_age_seconds ")
				wantAge := map[string]string{"A": "0", "B": "20"}[server]
				switch {
				case tc.perMinute == 2 && hasAge:
					t.Errorf("minute %d, server %s: age series without min_probe_interval:\n%s", minute, server, body)
				case tc.perMinute == 1 && (!hasAge || age != wantAge):
					t.Errorf("minute %d, server %s: hikvision_probe_result_age_seconds %q (present %v), want %s", minute, server, age, hasAge, wantAge)
				}
				want := minute*tc.perMinute + 1
				if server == "B" {
					want = (minute + 1) * tc.perMinute
				}
				if got := userChecks(dev); got != want {
					t.Fatalf("minute %d, after server %s: the device saw %d collections, want %d", minute, server, got, want)
				}
			})
			if got := e.probesTotal("success") + e.probesTotal("partial"); got != 20 {
				t.Errorf("hikvision_exporter_probes_total counts %v probes up, want 20", got)
			}
		})
	}
}

// TestMinProbeIntervalWrongPassword: with a wrong password the HA pair's
// probes still cost the device at most one failed login per hold-off
// window. With auth_backoff 150s and probes on the minute, A's probes at
// 0, 3, 6 and 9 minutes send credentials (each past the last window); B's
// are answered with A's collection, rejected, and send nothing.
func TestMinProbeIntervalWrongPassword(t *testing.T) {
	clock := newClock()
	dev := lockingDevice(t, clock)
	module := "    min_probe_interval: 50s\n    auth_backoff: 150s\n    auth_backoff_max: 150s\n"
	e := startExporter(t, configYAML("wrong-password", map[string]*simulator.Device{"cam": dev}, module),
		func(o *HandlerOptions) { o.Now = clock.Now })
	haPair(e, clock, 10, func(server string, minute int, body string) {
		wantLines(t, body, "hikvision_up 0", "hikvision_auth_rejected 1")
		if server == "B" {
			wantLines(t, body, "hikvision_probe_result_age_seconds 20")
		} else {
			wantLines(t, body, "hikvision_probe_result_age_seconds 0")
		}
		want := minute/3 + 1
		if got := dev.Stats().FailedLogins; got != want {
			t.Fatalf("minute %d, after server %s: %d failed logins, want %d", minute, server, got, want)
		}
	})
	wantFailedLogins(t, dev, 4)
	if got := e.probesTotal("rejected"); got != 20 {
		t.Errorf("hikvision_exporter_probes_total{outcome=\"rejected\"} = %v, want 20", got)
	}
}

// TestMinProbeIntervalCollectsAfresh: within min_probe_interval a probe
// with other credentials (another module, here a wrong password) is never
// answered with this one's collection, nor this one with its; a debug
// probe still collects (it shows its trace), and so does a probe after a
// reload.
func TestMinProbeIntervalCollectsAfresh(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithClock(clock.Now))
	yaml := `modules:
  default: {username: admin, password: password, scheme: http, min_probe_interval: 50s, allowed_targets: [127.0.0.0/8]}
  wrong: {username: admin, password: wrong, scheme: http, min_probe_interval: 50s, allowed_targets: [127.0.0.0/8]}
`
	e := startExporter(t, yaml, func(o *HandlerOptions) { o.Now = clock.Now })
	right, wrong := "target="+dev.Addr(), "target="+dev.Addr()+"&module=wrong"
	step := func(what, query, up string, collections, failed int) {
		t.Helper()
		code, body := e.probe(query)
		if code != 200 || !promtest.HasLine(body, "hikvision_up "+up) {
			t.Fatalf("%s: HTTP %d, want hikvision_up %s\n%s", what, code, up, body)
		}
		e.settle()
		if got, gotFailed := userChecks(dev), dev.Stats().FailedLogins; got != collections || gotFailed != failed {
			t.Fatalf("%s: the device saw %d collections and %d failed logins, want %d and %d", what, got, gotFailed, collections, failed)
		}
		clock.Advance(5 * time.Second)
	}
	step("first probe", right, "1", 1, 0)
	step("probe 5s later", right, "1", 1, 0)
	step("debug probe", right+"&debug=true", "1", 2, 0)
	step("probe after the debug probe", right, "1", 2, 0)
	e.reload(yaml)
	step("probe after a reload", right, "1", 3, 0)
	step("probe 5s after that", right, "1", 3, 0)
	// The wrong password's rejection holds off the device account for
	// both modules; the right one's next probes answer from its own
	// collection until min_probe_interval has passed.
	step("wrong password", wrong, "0", 3, 1)
	step("right password again", right, "1", 3, 1)
	step("wrong password again", wrong, "0", 3, 1)
}
