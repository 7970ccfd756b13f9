package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// Tests of hikvision_login_failures_last_hour: the failed logins of the
// last hour, right from a device's first log read and across restarts.

const lastHourSeries = "hikvision_login_failures_last_hour"

// lfT0 is where these tests' clocks start: half a minute into a minute, so
// that the hour's first minute is only partly inside it.
var lfT0 = testEpoch.Add(30 * time.Second)

// logPart is the lockout collector's log part alone: the failed-login
// counter and gauge.
type logPart struct{}

func (logPart) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	return logCursorOf(d).collect(ctx, d, m)
}

// logDevice is a simulated device on a clock and the exporter's Probe of it.
type logDevice struct {
	t     *testing.T
	clk   *simulator.Clock
	sim   *simulator.Device
	probe *Probe
}

// startLogDevice runs a simulated device with log on a clock at lfT0 and a Probe
// of it with a fresh Values.
func startLogDevice(t *testing.T, log ...simulator.LogEvent) *logDevice {
	t.Helper()
	clk := simulator.NewClock(lfT0)
	sim, probe := startProbe(t, simulator.Profile{Log: log}, clk, "")
	return &logDevice{t: t, clk: clk, sim: sim, probe: probe}
}

// restart gives the device a new client and Values restored from
// persisted (nil: nothing persisted), as an exporter restart does.
func (d *logDevice) restart(persisted map[string]json.RawMessage) {
	d.t.Helper()
	d.probe = newProbe(d.t, d.sim, d.clk, d.probe.Config)
	d.probe.Values = NewValues(persisted)
}

// collect runs the log part as a probe at the clock's time and returns its
// series, failing the test on an error.
func (d *logDevice) collect() map[string]float64 {
	d.t.Helper()
	got, err := collect(d.t, logPart{}, d.probe, d.clk)
	if err != nil {
		d.t.Fatalf("collect at %s: %v", d.clk.Now().Format(time.TimeOnly), err)
	}
	return got
}

// want checks the gauge and the counter; a negative want means absent.
func (d *logDevice) want(what string, got map[string]float64, gauge, counter float64) {
	d.t.Helper()
	for _, c := range []struct {
		name string
		want float64
	}{{lastHourSeries, gauge}, {loginFailuresSeries, counter}} {
		v, ok := got[c.name]
		switch {
		case c.want < 0 && ok:
			d.t.Errorf("%s: %s = %v, want it absent", what, c.name, v)
		case c.want >= 0 && !ok:
			d.t.Errorf("%s: %s absent, want %v", what, c.name, c.want)
		case c.want >= 0 && v != c.want:
			d.t.Errorf("%s: %s = %v, want %v", what, c.name, v, c.want)
		}
	}
}

// A burst already in the log when the exporter first reads it counts in
// the gauge at once: it is what the first pass found in the last hour.
// Failures outside the hour only enter the counter.
func TestLoginFailuresLastHourAtFirstRead(t *testing.T) {
	at := func(minutes float64) time.Time { return lfT0.Add(time.Duration(minutes * float64(time.Minute))) }
	log := []simulator.LogEvent{ // the probe runs at 12:00:30
		illegalLogin(at(-25*60), "192.0.2.1"),                                        // before the lookback: nowhere
		illegalLogin(at(-3*60), "192.0.2.2"),                                         // in the lookback, not the hour
		illegalLogin(at(-62), "192.0.2.3"),                                           // 10:58:30, before the hour's first minute
		illegalLogin(at(-60), "192.0.2.4"),                                           // 11:00:30, an hour ago: its minute is the first counted
		illegalLogin(at(-60.5), "192.0.2.4"),                                         // 11:00:00, the same minute
		{Time: at(-30), Major: "Exception", Minor: "illegalAccess", IP: "192.0.2.5"}, // the other spelling
		illegalLogin(at(-30), "192.0.2.5"),
		illegalLogin(at(-1), "192.0.2.6"),
		illegalLogin(lfT0, "192.0.2.6"), // the probe's own second
		{Time: at(-5), Major: "Exception", Minor: "netBroken"},
		{Time: at(-5), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.0.2.9"},
	}
	d := startLogDevice(t, log...)
	got := d.collect()
	d.want("first read", got, 6, 8)
	if got[loginFailuresSeries+promtest.CreatedSuffix] != float64(lfT0.Add(-24*time.Hour).Unix()) {
		t.Errorf("counter created %v, want the start of the lookback", got[loginFailuresSeries+promtest.CreatedSuffix])
	}
}

// The hardened case: a log without failed logins reports 0, not nothing,
// once the log has been read.
func TestLoginFailuresLastHourZero(t *testing.T) {
	d := startLogDevice(t, simulator.LogEvent{Time: lfT0.Add(-time.Hour), Major: "Operation", Minor: "remoteLogin", User: "exporter", IP: "10.0.0.20"})
	d.want("no failures", d.collect(), 0, 0)
}

// Between searches the gauge still loses the failures that leave the hour;
// new failures show at the next search.
func TestLoginFailuresLastHourBetweenSearches(t *testing.T) {
	d := startLogDevice(t,
		illegalLogin(lfT0.Add(-59*time.Minute), "192.0.2.1"),
		illegalLogin(lfT0.Add(-58*time.Minute), "192.0.2.1"),
		illegalLogin(lfT0.Add(-10*time.Minute), "192.0.2.2"))
	d.want("first read", d.collect(), 3, 3)
	n := logSearches(d.sim)

	// 1m30s later, inside log_search_interval: no search; the failure of
	// -59m (11:01:30, minute 11:01) has left the hour (from 11:02 on).
	d.clk.Advance(90 * time.Second)
	d.sim.AddLog(illegalLogin(d.clk.Now().Add(-time.Second), "198.51.100.7"))
	d.want("inside the interval", d.collect(), 2, 3)
	d.clk.Advance(time.Minute)
	d.want("still inside", d.collect(), 1, 3)
	if logSearches(d.sim) != n {
		t.Fatalf("searched inside the interval: %d -> %d", n, logSearches(d.sim))
	}

	// The interval is over: the new failure is read.
	d.clk.Advance(150 * time.Second)
	d.want("next search", d.collect(), 2, 4)
	if logSearches(d.sim) == n {
		t.Fatal("no search after the interval")
	}

	// An hour of quiet later everything has left the hour; the counter stays.
	d.clk.Advance(time.Hour)
	d.want("an hour later", d.collect(), 0, 4)
}

// The per-minute counts are bounded by the hour, whatever the rate and
// however long the exporter runs, in memory and in the persisted form.
func TestLoginFailuresLastHourBounded(t *testing.T) {
	var log []simulator.LogEvent
	for s := -3 * 3600; s < 0; s += 7 { // a failure every 7 s for 3 hours
		log = append(log, illegalLogin(lfT0.Add(time.Duration(s)*time.Second), fmt.Sprintf("203.0.113.%d", s%200+200)))
	}
	d := startLogDevice(t, log...)
	want := 0
	for _, ev := range log {
		if !ev.Time.Truncate(time.Minute).Before(lfT0.Add(-time.Hour).Truncate(time.Minute)) {
			want++
		}
	}
	d.want("first read", d.collect(), float64(want), float64(len(log)))
	lc := logCursorOf(d.probe)
	for i := range 36 { // three more hours, probed every 5 minutes, 40 failures each time
		now := d.clk.Now()
		for j := range 40 { // within the probe's first 4 minutes
			d.sim.AddLog(illegalLogin(now.Add(time.Duration(j)*6*time.Second), "203.0.113.99"))
		}
		d.clk.Advance(5 * time.Minute)
		got := d.collect()
		// Every 5 minutes of the last hour holds 40 failures, the first
		// three hours' 7-second rhythm has gone after the first hour.
		if i >= 12 && got[lastHourSeries] != 12*40 {
			t.Fatalf("probe %d: gauge %v, want %d", i, got[lastHourSeries], 12*40)
		}
		if len(lc.recent) > 61 {
			t.Fatalf("probe %d: %d per-minute counts kept, want at most 61", i, len(lc.recent))
		}
	}
	b, err := lc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var p persistedCursor
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Recent) == 0 || len(p.Recent) > 61 || len(b) > 4096 {
		t.Fatalf("persisted form: %d minutes, %d bytes", len(p.Recent), len(b))
	}
}

// After a restart with --storage.path the gauge goes on with the failures
// of the hour before the restart, plus those logged while the exporter was
// down; without it the first read finds the same from the log. Either way
// the burst is in the gauge at the first probe after the restart.
func TestLoginFailuresLastHourAcrossRestart(t *testing.T) {
	d := startLogDevice(t)
	for i := range 20 { // a burst in the 20 minutes before T0
		d.sim.AddLog(illegalLogin(lfT0.Add(-time.Duration(20-i)*time.Minute), "203.0.113.5"))
	}
	d.want("before the restart", d.collect(), 20, 20)
	persisted := d.probe.Values.Persisted()
	if persisted[logStateKey] == nil {
		t.Fatalf("nothing persisted: %v", persisted)
	}

	// Down for 10 minutes, during which the burst goes on.
	for i := range 10 {
		d.sim.AddLog(illegalLogin(lfT0.Add(time.Duration(i)*time.Minute+30*time.Second), "203.0.113.6"))
	}
	d.clk.Advance(10 * time.Minute)
	searches := logSearches(d.sim)

	d.restart(persisted)
	got := d.collect()
	d.want("restart with persistence", got, 30, 30)
	if got[loginFailuresSeries+promtest.CreatedSuffix] != float64(lfT0.Add(-24*time.Hour).Unix()) {
		t.Errorf("counter created %v: the persisted counter must go on, not restart", got[loginFailuresSeries+promtest.CreatedSuffix])
	}
	if logSearches(d.sim)-searches > 2 {
		t.Errorf("%d searches after the restart: it must go on from the cursor, not re-read the lookback", logSearches(d.sim)-searches)
	}

	// Without persistence: the lookback again, the counter restarts with
	// it, and the gauge is the same.
	d.restart(nil)
	d.want("restart without persistence", d.collect(), 30, 30)

	// State saved before the gauge existed (no per-minute counts) restores:
	// the gauge counts what is read from then on.
	var old map[string]any
	if err := json.Unmarshal(persisted[logStateKey], &old); err != nil {
		t.Fatal(err)
	}
	if _, ok := old["recent"]; !ok {
		t.Fatalf("persisted form has no per-minute counts: %s", persisted[logStateKey])
	}
	delete(old, "recent")
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	d.restart(map[string]json.RawMessage{logStateKey: b})
	d.want("restart from an older state", d.collect(), 10, 30)
}

// The gauge waits for the first pass, like the counter: a partial pass
// would report a burst as smaller than it is.
func TestLoginFailuresLastHourWaitsForFirstPass(t *testing.T) {
	d := startLogDevice(t, illegalLogin(lfT0.Add(-time.Minute), "192.0.2.1"))
	d.sim.SetFault(logSearchKey, simulator.Fault{Status: 500})
	got, err := collect(t, logPart{}, d.probe, d.clk)
	if err == nil {
		t.Fatal("a failing search reported no error")
	}
	d.want("search failing", got, -1, -1)
	d.sim.SetFault(logSearchKey, simulator.Fault{})
	d.clk.Advance(5 * time.Minute)
	d.want("search recovered", d.collect(), 1, 1)
}

// absorb: entries without a readable time enter the counter only, entries
// of the boundary second counted by the previous window are not counted
// again, and the minute horizon is honoured.
func TestLoginFailuresLastHourAbsorb(t *testing.T) {
	lc := &logCursor{}
	start, end := lfT0.Add(-2*time.Hour), lfT0
	horizon := recentHorizon(lfT0)
	entry := func(ts time.Time, ip string) isapi.LogEntry {
		return isapi.LogEntry{MetaID: "log.hikvision.com/Exception/illlegealAccess", Major: "Exception", Minor: "illlegealAccess", Time: ts, IP: ip}
	}
	lc.absorb(start, end, horizon, []isapi.LogEntry{
		entry(time.Time{}, "192.0.2.1"),               // no time
		entry(lfT0.Add(-90*time.Minute), "192.0.2.2"), // outside the hour
		entry(lfT0.Add(-30*time.Minute), "192.0.2.3"),
		entry(end, "192.0.2.4"), // the boundary second
	})
	if lc.total != 4 || lc.lastHour(lfT0) != 2 {
		t.Fatalf("first window: total %d, last hour %d; want 4, 2", lc.total, lc.lastHour(lfT0))
	}
	// The next window starts in the boundary second: its known entry is
	// skipped, a new one of that second counts.
	lc.absorb(end, end.Add(time.Minute), horizon, []isapi.LogEntry{entry(end, "192.0.2.4"), entry(end, "192.0.2.5")})
	if lc.total != 5 || lc.lastHour(lfT0.Add(time.Minute)) != 3 {
		t.Fatalf("second window: total %d, last hour %d; want 5, 3", lc.total, lc.lastHour(lfT0.Add(time.Minute)))
	}
	// A clock that went back forgets the minutes after its present.
	if n := lc.lastHour(lfT0.Add(-20 * time.Minute)); n != 1 || len(lc.recent) != 1 {
		t.Fatalf("after the clock went back: last hour %d over %d minutes, want 1 over 1", n, len(lc.recent))
	}
}
