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
	tmKey     = "GET " + isapi.PathTime
	tmSkew    = "hikvision_clock_skew_seconds"
	tmNTP     = "hikvision_ntp_enabled"
	tmFeature = `hikvision_feature_supported{feature="time"}`
	// The simulator renders whole seconds and the exchange takes a little
	// real time: the skew is checked as a value within this margin.
	tmTolerance = 2.0
)

// tmCheck compares a time collection: exact series other than the skew,
// and the skew within tmTolerance of wantSkew (NaN: no skew series).
func tmCheck(t *testing.T, got map[string]float64, want map[string]float64, wantSkew float64) {
	t.Helper()
	skew, hasSkew := got[tmSkew]
	delete(got, tmSkew)
	svcCompare(t, got, want)
	switch {
	case math.IsNaN(wantSkew) && hasSkew:
		t.Errorf("unexpected %s = %v", tmSkew, skew)
	case !math.IsNaN(wantSkew) && !hasSkew:
		t.Errorf("missing %s (want about %v)", tmSkew, wantSkew)
	case hasSkew && math.Abs(skew-wantSkew) > tmTolerance:
		t.Errorf("%s = %v, want %v ± %v", tmSkew, skew, wantSkew, tmTolerance)
	}
}

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
			sim := svcStart(t, simulator.Profile{Namespace: c.ns, TimeMode: c.mode, ClockSkew: c.skew})
			got, err := svcCollect(t, timeCollector{}, svcNewDevice(t, sim))
			if err != nil {
				t.Fatal(err)
			}
			tmCheck(t, got, map[string]float64{tmFeature: 1, tmNTP: c.ntp}, c.skew.Seconds())
		})
	}
}

func TestTimeReadFreshEachProbe(t *testing.T) {
	sim := svcStart(t, simulator.Profile{ClockSkew: 7 * time.Minute})
	d := svcNewDevice(t, sim)
	for i := range 2 {
		if i == 1 {
			sim.ResetStats() // the first probe also answered a Digest challenge
		}
		got, err := svcCollect(t, timeCollector{}, d)
		if err != nil {
			t.Fatal(err)
		}
		tmCheck(t, got, map[string]float64{tmFeature: 1, tmNTP: 1}, 420)
	}
	if n := sim.Stats().ByPath[tmKey]; n != 1 {
		t.Errorf("second probe requested the time %d times, want 1 (never cached)", n)
	}
}

// tmBody is a Time document with the given elements (empty ones left out).
func tmBody(ns, mode, local, zone string) []byte {
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
			return tmBody(ns, "NTP", local, "CST+5:00:00")
		}, map[string]float64{tmFeature: 1, tmNTP: 1}, func() float64 { return 300 }},
		{"naive local time in summer time", func() []byte {
			return tmBody(ns, "manual", "2026-07-01T12:00:00", "CST-1:00:00DST01:00:00,M3.5.0/02:00:00,M10.5.0/03:00:00")
		}, map[string]float64{tmFeature: 1, tmNTP: 0}, func() float64 { return time.Until(summer).Seconds() }},
		{"UTC with fraction", func() []byte {
			return tmBody(ns, "ntp", "2026-07-01T10:00:00.500Z", "")
		}, map[string]float64{tmFeature: 1, tmNTP: 1}, func() float64 { return time.Until(summer).Seconds() + 0.5 }},
		{"naive local time, unknown zone", func() []byte {
			return tmBody(ns, "NTP", "2026-07-01T12:00:00", "Somewhere/Else")
		}, map[string]float64{tmFeature: 1, tmNTP: 1}, nil},
		{"no timeMode", func() []byte {
			return tmBody(ns, "", "2026-07-01T12:00:00+02:00", "")
		}, map[string]float64{tmFeature: 1}, func() float64 { return time.Until(summer).Seconds() }},
		{"empty document", func() []byte { return tmBody(ns, "", "", "") }, map[string]float64{tmFeature: 1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim := svcStart(t, simulator.Profile{})
			sim.SetEndpoint(tmKey, simulator.Endpoint{Body: c.body()})
			got, err := svcCollect(t, timeCollector{}, svcNewDevice(t, sim))
			if err != nil {
				t.Fatal(err)
			}
			wantSkew := math.NaN()
			if c.skew != nil {
				wantSkew = c.skew()
			}
			tmCheck(t, got, c.want, wantSkew)
		})
	}
}

func TestTimeUnsupported(t *testing.T) {
	for name, p := range map[string]simulator.Profile{
		"403 notSupport": {NotSupported: []string{tmKey}},
		"404":            {Endpoints: map[string]simulator.Endpoint{tmKey: {Status: 404, Body: []byte("404 Not Found\n"), ContentType: "text/plain"}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := svcCollect(t, timeCollector{}, svcNewDevice(t, svcStart(t, p)))
			if err != nil {
				t.Fatalf("an unsupported endpoint must not fail the collector: %v", err)
			}
			tmCheck(t, got, map[string]float64{tmFeature: 0}, math.NaN())
		})
	}
}

func TestTimeMalformed(t *testing.T) {
	sim := svcStart(t, simulator.Profile{ClockSkew: time.Minute})
	sim.SetFault(tmKey, simulator.Fault{Malformed: true})
	got, err := svcCollect(t, timeCollector{}, svcNewDevice(t, sim))
	if err == nil || !strings.Contains(err.Error(), isapi.PathTime) {
		t.Fatalf("error = %v, want one naming %s", err, isapi.PathTime)
	}
	tmCheck(t, got, map[string]float64{}, math.NaN())
}
