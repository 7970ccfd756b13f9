package collector

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const (
	timeKey   = "GET " + isapi.PathTime
	ntpSeries = "hikvision_ntp_enabled"
)

func TestTimeSimulatorClock(t *testing.T) {
	for _, c := range []struct {
		name, ns, mode string
		skew           time.Duration
		ntp            float64
	}{
		{"NTP 7m fast", simulator.NamespaceHikvision20, "NTP", 7 * time.Minute, 1},
		{"manual 90s slow", simulator.NamespaceISAPIOrg20, "manual", -90 * time.Second, 0},
		{"NTP in step", "urn:psialliance-org", "NTP", 0, 1},
		{"manual a day fast", "", "manual", 24 * time.Hour, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, d := startProbe(t, simulator.Profile{Namespace: c.ns, TimeMode: c.mode, ClockSkew: c.skew}, nil, "")
			got, err := collect(t, timeCollector{}, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			diffTime(t, got, map[string]float64{featureSeries("time"): 1, ntpSeries: c.ntp}, c.skew.Seconds())
		})
	}
}

func TestTimeReadFreshEachProbe(t *testing.T) {
	sim, d := startProbe(t, simulator.Profile{ClockSkew: 7 * time.Minute}, nil, "")
	for i := range 2 {
		if i == 1 {
			sim.ResetStats() // the first probe also answered a Digest challenge
		}
		got, err := collect(t, timeCollector{}, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		diffTime(t, got, map[string]float64{featureSeries("time"): 1, ntpSeries: 1}, 420)
	}
	if n := sim.Stats().ByPath[timeKey]; n != 1 {
		t.Errorf("second probe requested the time %d times, want 1 (never cached)", n)
	}
}

func TestTimeDocumentVariants(t *testing.T) {
	// A fixed instant stated several ways; its skew against now is known
	// without the code under test.
	summer := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	ns := simulator.NamespaceHikvision20
	for _, c := range []struct {
		name string
		body func() []byte
		want map[string]float64
		skew func() float64 // nil: no skew series
	}{
		{"naive local time in a POSIX zone", func() []byte {
			// Five minutes fast, in UTC-5 without an offset.
			local := time.Now().Add(5 * time.Minute).In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05")
			return timeDoc(ns, "NTP", local, "CST+5:00:00")
		}, map[string]float64{featureSeries("time"): 1, ntpSeries: 1}, func() float64 { return 300 }},
		{"naive local time in summer time", func() []byte {
			return timeDoc(ns, "manual", "2026-07-01T12:00:00", "CST-1:00:00DST01:00:00,M3.5.0/02:00:00,M10.5.0/03:00:00")
		}, map[string]float64{featureSeries("time"): 1, ntpSeries: 0}, func() float64 { return time.Until(summer).Seconds() }},
		{"UTC with fraction", func() []byte {
			return timeDoc(ns, "ntp", "2026-07-01T10:00:00.500Z", "")
		}, map[string]float64{featureSeries("time"): 1, ntpSeries: 1}, func() float64 { return time.Until(summer).Seconds() + 0.5 }},
		{"naive local time, unknown zone", func() []byte {
			return timeDoc(ns, "NTP", "2026-07-01T12:00:00", "Somewhere/Else")
		}, map[string]float64{featureSeries("time"): 1, ntpSeries: 1}, nil},
		{"no timeMode", func() []byte {
			return timeDoc(ns, "", "2026-07-01T12:00:00+02:00", "")
		}, map[string]float64{featureSeries("time"): 1}, func() float64 { return time.Until(summer).Seconds() }},
		{"empty document", func() []byte { return timeDoc(ns, "", "", "") }, map[string]float64{featureSeries("time"): 1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim, d := startProbe(t, simulator.Profile{}, nil, "")
			sim.SetEndpoint(timeKey, simulator.Endpoint{Body: c.body()})
			got, err := collect(t, timeCollector{}, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantSkew := math.NaN()
			if c.skew != nil {
				wantSkew = c.skew()
			}
			diffTime(t, got, c.want, wantSkew)
		})
	}
}

func TestTimeUnsupported(t *testing.T) {
	for name, p := range map[string]simulator.Profile{
		"403 notSupport": {NotSupported: []string{timeKey}},
		"404":            {Endpoints: map[string]simulator.Endpoint{timeKey: {Status: 404, Body: []byte("404 Not Found\n"), ContentType: "text/plain"}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, d := startProbe(t, p, nil, "")
			got, err := collect(t, timeCollector{}, d, nil)
			if err != nil {
				t.Fatalf("an unsupported endpoint must not fail the collector: %v", err)
			}
			diffTime(t, got, map[string]float64{featureSeries("time"): 0}, math.NaN())
		})
	}
}

func TestTimeMalformed(t *testing.T) {
	sim, d := startProbe(t, simulator.Profile{ClockSkew: time.Minute}, nil, "")
	sim.SetFault(timeKey, simulator.Fault{Malformed: true})
	got, err := collect(t, timeCollector{}, d, nil)
	if err == nil || !strings.Contains(err.Error(), isapi.PathTime) {
		t.Fatalf("error = %v, want one naming %s", err, isapi.PathTime)
	}
	diffTime(t, got, map[string]float64{}, math.NaN())
}
