package probe

import (
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// logLines returns the log lines at info level and above.
func logLines(e *exporter) []string {
	var out []string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "level=INFO") || strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// TestLogsSayWhatChanged: a device that stays down, or keeps rejecting the
// password, or keeps failing one collector, logs once when that starts and
// once when it ends, not at every scrape.
func TestLogsSayWhatChanged(t *testing.T) {
	dev := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := startExporter(t, configYAML("password", map[string]*simulator.Device{"cam": dev}, "    collectors: [device, time]\n"), nil)
	probes := func(n int) {
		for range n {
			e.probe("target=cam", "X-Prometheus-Scrape-Timeout-Seconds", "2")
		}
	}
	probes(3)
	if got := logLines(e); len(got) != 0 {
		t.Fatalf("a healthy device logged at info or above:\n%s", strings.Join(got, "\n"))
	}
	dev.SetFault("GET /ISAPI/System/time", simulator.Fault{Status: 500})
	probes(4)
	dev.SetFault("GET /ISAPI/System/time", simulator.Fault{})
	probes(2)
	dev.SetFault("", simulator.Fault{Reset: true})
	probes(4)
	dev.SetFault("", simulator.Fault{})
	probes(2)
	want := []string{"Collector failing", "Collector recovered", "Device down", "Device up"}
	got := logLines(e)
	if len(got) != len(want) {
		t.Fatalf("want %d lines (%s), got:\n%s", len(want), strings.Join(want, ", "), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("line %d: want %q, got %s", i, w, got[i])
		}
	}
}
