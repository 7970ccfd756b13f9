package probe

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// debugReport asks for the debug report of cam, sent with header (name,
// value, ...), and checks that it is answered 200 as plain text.
func (e *exporter) debugReport(header ...string) string {
	e.t.Helper()
	code, ctype, report := e.probeTyped("target=cam&debug=true", header...)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/plain") {
		e.t.Fatalf("HTTP %d %s\n%s", code, ctype, report)
	}
	return report
}

// wantInReport checks that the report has each of want, comparing with
// runs of spaces (the columns' padding) taken as one.
func wantInReport(t *testing.T, report string, want ...string) {
	t.Helper()
	squeezed := spaces.ReplaceAllString(report, " ")
	for _, w := range want {
		if !strings.Contains(squeezed, w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
}

var spaces = regexp.MustCompile(` +`)

// The debug report of a probe of cam: what the probe sent and got, its
// outcome, the background work, the hold-off and the metrics. Then what
// the next probes report.
func TestDebugReport(t *testing.T) {
	for _, tc := range []struct {
		name, password, module string
		device                 func(*simulator.Device) // before the probe
		header                 []string
		want                   []string // ADDR stands for the camera's address
		then                   func(t *testing.T, dev *simulator.Device, e *exporter, report string)
	}{{
		name: "cold then warm", password: "password", module: "    collectors: [device, account, time]\n",
		want: []string{"Probe of cam (module default, http://ADDR)", "Outcome: success",
			"GET /ISAPI/Security/userCheck 200", "digest, new 401 round trip; tested the credentials",
			"GET /ISAPI/System/deviceInfo 200", "digest, challenge reused",
			"Background work after the probe",
			"account ok", "device ok", "time ok",
			"admin@ADDR: verified: the device accepted the password",
			"\nMetrics:\n", "\nhikvision_up 1\n", `hikvision_scrape_collector_success{collector="device"} 1`},
		then: func(t *testing.T, _ *simulator.Device, e *exporter, _ string) {
			warm := e.debugReport()
			wantInReport(t, warm, "/ISAPI/System/deviceInfo", "old, no request", "/ISAPI/System/time")
			if strings.Contains(warm, "401 round trip") {
				t.Errorf("a warm probe needed a new challenge:\n%s", warm)
			}
			if n := e.probesTotal("success"); n != 2 {
				t.Errorf("probes_total{success} = %v after two debug probes, want 2", n)
			}
			// debug=false is the ordinary exposition.
			code, ctype, body := e.probeTyped("target=cam&debug=false")
			if code != 200 || strings.Contains(body, "Outcome:") || !promtest.HasLine(body, "hikvision_up 1") {
				t.Errorf("debug=false: HTTP %d %s\n%s", code, ctype, body)
			}
		},
	}, {
		// A rejected password answers 200 with the report, the rejection
		// and the hold-off; the next probe sends nothing and says why.
		name: "rejected password", password: "Debug-Canary-Wrong-3b1f",
		want: []string{"Outcome: rejected", "Why: /ISAPI/Security/userCheck: credentials rejected by device",
			"GET /ISAPI/Security/userCheck 401", "tested the credentials: credentials rejected by device",
			"none ran: they run only after the device accepted the credentials",
			"holding off until", "after 1 rejection(s)", "This probe's credentials: no request carrying them before",
			"\nhikvision_auth_rejected 1\n"},
		then: func(t *testing.T, dev *simulator.Device, e *exporter, report string) {
			again := e.debugReport()
			wantInReport(t, again, "Why: not contacting device until", "none: the probe made no request")
			if n := e.probesTotal("rejected"); n != 2 {
				t.Errorf("probes_total{rejected} = %v, want 2", n)
			}
			wantFailedLogins(t, dev, 1)
			if strings.Contains(report+again, "Debug-Canary-Wrong-3b1f") {
				t.Error("the report shows the password")
			}
		},
	}, {
		// A credential check still out at the deadline goes on in the
		// background; the report says so instead of waiting for it.
		name: "pending credential check", password: "password", module: "    timeout: 2s\n",
		device: func(dev *simulator.Device) { dev.SetLatency(700 * time.Millisecond) },
		header: []string{"X-Prometheus-Scrape-Timeout-Seconds", "0.5"},
		want: []string{"Outcome: down", "GET /ISAPI/Security/userCheck", "credentials sent, no answer by the probe's deadline: the check goes on in the background",
			"trial in flight", "A credential check is still out in the background", "\nhikvision_up 0\n"},
	}, {
		// A failing collector shows with its error; the others with their time.
		name: "failing collector", password: "password", module: "    collectors: [device, account]\n",
		device: func(dev *simulator.Device) {
			dev.SetFault("GET /ISAPI/System/deviceInfo", simulator.Fault{Status: 500})
		},
		want: []string{"Outcome: partial", "/ISAPI/System/deviceInfo 500", "challenge reused: HTTP 500 deviceError", "device failed",
			"GET /ISAPI/System/deviceInfo: HTTP 500", "account ok"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dev, e := startCam(t, tc.password, tc.module)
			if tc.device != nil {
				tc.device(dev)
			}
			report := e.debugReport(tc.header...)
			e.settle()
			for _, w := range tc.want {
				wantInReport(t, report, strings.ReplaceAll(w, "ADDR", dev.Addr()))
			}
			if tc.then != nil {
				tc.then(t, dev, e, report)
			}
		})
	}
}

func TestDebugParameterIsChecked(t *testing.T) {
	dev, e := startCam(t, "password", "")
	for _, q := range []string{"debug=yes", "debug=1", "debug=", "debug=TRUE", "debug=true&debug=true", "debug=true&debug=false"} {
		code, body := e.probe("target=cam&" + q)
		if code != http.StatusBadRequest || !strings.Contains(body, `"debug"`) {
			t.Errorf("%s: HTTP %d %q, want 400 naming the parameter", q, code, body)
		}
	}
	if n := e.probesTotal("bad_request"); n != 6 {
		t.Errorf("probes_total{bad_request} = %v, want 6", n)
	}
	if s := dev.Stats(); s.Requests != 0 {
		t.Errorf("refused probes made %d requests", s.Requests)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	var h history
	t0 := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	for i := range historyTargets + 10 {
		h.add(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "default", Record{Time: t0, Outcome: "down"})
	}
	for i := range 7 {
		h.add("cam", "default", Record{Time: t0.Add(time.Duration(i) * time.Minute), Outcome: fmt.Sprint(i)})
	}
	got := h.recent()
	if len(got) != historyTargets {
		t.Fatalf("%d targets kept, want %d", len(got), historyTargets)
	}
	if got[0].Target != "cam" || len(got[0].Probes) != historyProbes || got[0].Probes[0].Outcome != "6" || got[0].Probes[4].Outcome != "2" {
		t.Errorf("most recent target: %+v, want cam with probes 6 down to 2", got[0])
	}
	for _, tp := range got {
		if tp.Target == "10.0.0.0" || tp.Target == "10.0.0.10" {
			t.Errorf("target %s kept; the least recently probed go first", tp.Target)
		}
	}
}

// The landing page's list escapes what it shows and links each target to
// its debug report.
func TestRecentProbesAreEscapedAndLinked(t *testing.T) {
	_, e := startCam(t, "password", "")
	e.probe("target=cam")
	e.h.history.add(`<script>x</script>`, `m"&`, Record{Time: time.Now(), Outcome: "down"})
	var b strings.Builder
	if err := e.h.WriteRecentProbes(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"&lt;script&gt;x&lt;/script&gt;", `m&#34;&amp;`, `href="/probe?debug=true&amp;module=default&amp;target=cam"`, "<td>success</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("unescaped target:\n%s", page)
	}
}
