package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// lkClock is the fake clock shared by the simulator, the client and the
// prober's Now.
type lkClock struct {
	mu sync.Mutex
	t  time.Time
}

var lkT0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func lkNewClock() *lkClock { return &lkClock{t: lkT0} }

func (c *lkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lkClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lkStart runs a simulated device on clk and builds the Device the prober
// would hand a collector: a real client, a module parsed from YAML with the
// defaults applied (moduleExtra adds indented module keys), a fresh State.
func lkStart(t *testing.T, p simulator.Profile, clk *lkClock, moduleExtra string) (*simulator.Device, *Probe) {
	t.Helper()
	sim, err := simulator.New(p, simulator.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	prof := sim.Profile()
	cfg, err := config.Parse([]byte(fmt.Sprintf("modules:\n  default:\n    username: %q\n    password: %q\n    scheme: http\n%s", prof.Username, prof.Password, moduleExtra)))
	if err != nil {
		t.Fatal(err)
	}
	client := isapi.New(isapi.Options{
		Scheme: "http", Address: sim.Addr(), Username: prof.Username, Password: prof.Password,
		MaxConcurrent: 4, Backoff: time.Minute, BackoffMax: time.Hour, Now: clk.Now,
		CacheTTL: time.Duration(cfg.Modules["default"].CacheTTL),
	})
	t.Cleanup(client.Close)
	return sim, &Probe{
		Module: cfg.Modules["default"], Config: cfg, Client: client, Values: NewValues(nil),
		Logger: slog.New(slog.DiscardHandler), Now: clk.Now(),
	}
}

// lkGather turns metrics into `name{label="value",...}` -> value (labels in
// name order), failing the test on anything the registry or the linter
// rejects. Counters also appear as `name@created` with their created time.
func lkGather(t *testing.T, ms []prometheus.Metric) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ConstMetrics(ms))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	problems, err := testutil.CollectAndLint(ConstMetrics(ms))
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
				if ct := m.GetCounter().GetCreatedTimestamp(); ct != nil {
					out[key+"@created"] = float64(ct.AsTime().Unix())
				}
			default:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// lkCollect runs one collector as a probe at the clock's time.
func lkCollect(t *testing.T, c Collector, d *Probe, clk *lkClock) (map[string]float64, error) {
	t.Helper()
	return lkCollectWithin(t, c, d, clk, 20*time.Second)
}

// lkCollectWithin is lkCollect with a probe deadline (real time).
func lkCollectWithin(t *testing.T, c Collector, d *Probe, clk *lkClock, timeout time.Duration) (map[string]float64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d.Now = clk.Now()
	var m Metrics
	// As a probe does: no background refresh meanwhile; the refreshes the
	// collection queued run after it, and are done before the clock moves.
	end, err := d.Client.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Collect(ctx, d, &m)
	end()
	if werr := d.Client.WaitRefreshed(ctx); werr != nil {
		t.Fatal(werr)
	}
	if len(m.err) > 0 {
		t.Fatalf("building metrics: %v", m.err)
	}
	return lkGather(t, m.out), err
}

func lkDiff(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	all := map[string]bool{}
	for k := range got {
		all[k] = true
	}
	for k := range want {
		all[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("%s: missing %s (want %v)", what, k, w)
		case !wok:
			t.Errorf("%s: unexpected %s = %v", what, k, g)
		case g != w:
			t.Errorf("%s: %s = %v, want %v", what, k, g, w)
		}
	}
}

func lkFeature(name string) string {
	return fmt.Sprintf("hikvision_feature_supported{feature=%q}", name)
}

func lkUnix(t time.Time) float64 { return float64(t.Unix()) }

const (
	lkCounter = "hikvision_login_failures_total"
	lkLast    = "hikvision_last_login_failure_timestamp_seconds"
	lkCursor  = "hikvision_log_search_cursor_timestamp_seconds"
	lkSearch  = "POST /ISAPI/ContentMgmt/logSearch"
)

func lkSearches(sim *simulator.Device) int { return sim.Stats().ByPath[lkSearch] }

func lkIllegal(ts time.Time, ip string) simulator.LogEvent {
	return simulator.LogEvent{Time: ts, Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: ip}
}

// Illegal-access methods per capture model (isapi.md §5.13).
var lkCaptureMethods = map[string][]string{
	"DS-2CD2146G2-ISU":    {"center"},
	"DS-2CD2346G2-ISU":    {"email", "record", "center"},
	"DS-2CD2443G0-IW":     {"email", "center"},
	"DS-2CD2T46G2-ISU":    {"email", "record", "center"},
	"DS-2CD2T86G2-ISU":    {"record", "center"},
	"DS-2SE4C425MWG-E-26": {},
	"DS-7608NXI-I2":       {"center"},
	"DS-7616NI-K2":        {"center"},
	"DS-7616NI-Q2":        {},
	"iDS-7208HQHI-M1":     {},
}

func TestLockoutCaptureProfiles(t *testing.T) {
	models := simulator.CaptureModels()
	if len(models) != 11 {
		t.Fatalf("capture models: %v", models)
	}
	for _, model := range models {
		clk := lkNewClock()
		_, d := lkStart(t, simulator.CaptureProfile(model), clk, "")
		got, err := lkCollect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		want := map[string]float64{
			lkFeature("log_search"):     1,
			lkCounter:                   0,
			lkCounter + "@created":      lkUnix(lkT0.Add(-24 * time.Hour)),
			lkCursor:                    lkUnix(lkT0),
			lkFeature("event_triggers"): 1,
		}
		if model == "k1a340fwx" {
			// The terminal: real lock policy, no triggers capture.
			want[lkFeature("illegal_login_lock")] = 1
			want["hikvision_login_lock_enabled"] = 1
			want["hikvision_login_lock_max_attempts"] = 5
			want["hikvision_login_lock_duration_seconds"] = 1800
			want[lkFeature("event_triggers")] = 0
		} else {
			want[lkFeature("illegal_login_lock")] = 0
			methods, ok := lkCaptureMethods[model]
			if !ok {
				t.Fatalf("no expectation for %s", model)
			}
			want["hikvision_login_failure_notification_enabled"] = map[bool]float64{true: 1, false: 0}[len(methods) > 0]
			for _, m := range methods {
				want[fmt.Sprintf("hikvision_login_failure_notification_methods{method=%q}", m)] = 1
			}
		}
		lkDiff(t, model, got, want)
	}
}

func TestLockoutLockDurationRule(t *testing.T) {
	minutes := &isapi.CapRange{Min: isapi.OptionalInt{V: 1, Set: true}, Max: isapi.OptionalInt{V: 120, Set: true}, Def: isapi.OptionalInt{V: 30, Set: true}}
	seconds := &isapi.CapRange{Min: isapi.OptionalInt{V: 60, Set: true}, Max: isapi.OptionalInt{V: 3600, Set: true}}
	maxOnly := &isapi.CapRange{Max: isapi.OptionalInt{V: 120, Set: true}}
	for _, tc := range []struct {
		v    int64
		rng  *isapi.CapRange
		want float64
	}{
		{30, minutes, 1800},           // camera default: 30 minutes
		{120, minutes, 7200},          // top of the minute range
		{1800, minutes, 1800},         // outside the advertised range: the value decides
		{0, minutes, 0},               // below min: the value decides, 0 either way
		{90, seconds, 5400},           // a range past 120 does not decide: the value does
		{1800, seconds, 1800},         // the terminal's value
		{5, maxOnly, 300},             // no min given
		{30, nil, 1800},               // no capability: <= 120 is minutes
		{120, nil, 7200},              //
		{121, nil, 121},               // > 120 is seconds
		{1800, nil, 1800},             // the DS-K1A340FWX value
		{30, &isapi.CapRange{}, 1800}, // a range without max is no help
	} {
		if got := lockDurationSeconds(tc.v, tc.rng); got != tc.want {
			t.Errorf("%d with %+v: %v, want %v", tc.v, tc.rng, got, tc.want)
		}
	}
}

func TestLockoutLockPolicyUnits(t *testing.T) {
	ns := simulator.NamespaceHikvision20
	lockKey := "GET " + isapi.PathIllegalLoginLock
	secondsCap := []byte(`<SecurityCap version="2.0" xmlns="urn:psialliance-org"><issupIllegalLoginLock>true</issupIllegalLoginLock><maxIllegalLoginLockTime min="60" max="3600" def="1800"/></SecurityCap>`)
	for _, tc := range []struct {
		name    string
		profile simulator.Profile
		lock    []byte
		want    map[string]float64 // the lock series
	}{
		{"camera range, 30 minutes", simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.IllegalLoginLockXML(ns, true, 7, 30),
			map[string]float64{"enabled": 1, "max_attempts": 7, "duration_seconds": 1800}},
		{"camera range, value outside it", simulator.CaptureProfile("DS-2CD2T86G2-ISU"), simulator.IllegalLoginLockXML(ns, true, 7, 1800),
			map[string]float64{"enabled": 1, "max_attempts": 7, "duration_seconds": 1800}},
		{"terminal capture, seconds", simulator.CaptureProfile("k1a340fwx"), nil,
			map[string]float64{"enabled": 1, "max_attempts": 5, "duration_seconds": 1800}},
		{"no capabilities, minutes", simulator.Profile{}, simulator.IllegalLoginLockXML(simulator.NamespaceISAPIOrg20, false, 5, 10),
			map[string]float64{"enabled": 0, "max_attempts": 5, "duration_seconds": 600}},
		{"no capabilities, seconds", simulator.Profile{}, simulator.IllegalLoginLockXML(ns, true, 3, 600),
			map[string]float64{"enabled": 1, "max_attempts": 3, "duration_seconds": 600}},
		{"range past 120: the value decides", simulator.Profile{Endpoints: map[string]simulator.Endpoint{"GET " + isapi.PathSecurityCapabilities: {Body: secondsCap}}},
			simulator.IllegalLoginLockXML(ns, true, 5, 90),
			map[string]float64{"enabled": 1, "max_attempts": 5, "duration_seconds": 5400}},
		{"old firmware: enabled only", simulator.Profile{}, []byte(`<IllegalLoginLock version="1.0" xmlns="urn:psialliance-org"><enabled>true</enabled></IllegalLoginLock>`),
			map[string]float64{"enabled": 1}},
	} {
		clk := lkNewClock()
		sim, d := lkStart(t, tc.profile, clk, "")
		if tc.lock != nil {
			sim.SetEndpoint(lockKey, simulator.Endpoint{Body: tc.lock})
		}
		got, err := lkCollect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		policy := map[string]float64{}
		for k, v := range got {
			if name, ok := strings.CutPrefix(k, "hikvision_login_lock_"); ok {
				policy[name] = v
			}
		}
		lkDiff(t, tc.name, policy, tc.want)
		if got[lkFeature("illegal_login_lock")] != 1 {
			t.Errorf("%s: feature %v", tc.name, got[lkFeature("illegal_login_lock")])
		}
	}
}

func TestLockoutTriggers(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want map[string]float64
	}{
		{"empty illaccess list", simulator.EventTriggersXML(simulator.NamespaceISAPIOrg20), map[string]float64{
			"hikvision_login_failure_notification_enabled": 0,
		}},
		{"center and email", simulator.EventTriggersXML("urn:psialliance-org", "center", "email"), map[string]float64{
			"hikvision_login_failure_notification_enabled":                  1,
			`hikvision_login_failure_notification_methods{method="center"}`: 1,
			`hikvision_login_failure_notification_methods{method="email"}`:  1,
		}},
		{"no illaccess trigger", []byte(`<EventTriggerList><EventTrigger><id>VMD-1</id><eventType>VMD</eventType></EventTrigger></EventTriggerList>`), map[string]float64{}},
	} {
		clk := lkNewClock()
		_, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{"GET " + isapi.PathEventTriggers: {Body: tc.body}}}, clk, "")
		got, err := lkCollect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		notify := map[string]float64{}
		for k, v := range got {
			if strings.HasPrefix(k, "hikvision_login_failure_notification") {
				notify[k] = v
			}
		}
		lkDiff(t, tc.name, notify, tc.want)
		if got[lkFeature("event_triggers")] != 1 {
			t.Errorf("%s: feature %v", tc.name, got)
		}
	}

	// Denied: feature 0, not a failure. Broken: a failure, the rest still reported.
	clk := lkNewClock()
	sim, d := lkStart(t, simulator.Profile{NotSupported: []string{"GET " + isapi.PathEventTriggers}}, clk, "")
	sim.SetEndpoint("GET "+isapi.PathIllegalLoginLock, simulator.Endpoint{Body: simulator.IllegalLoginLockXML(simulator.NamespaceHikvision20, true, 7, 30)})
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkFeature("event_triggers")] != 0 || got["hikvision_login_lock_duration_seconds"] != 1800 {
		t.Fatalf("403: %v %v", err, got)
	}
	clk = lkNewClock()
	sim, d = lkStart(t, simulator.Profile{}, clk, "")
	sim.SetEndpoint("GET "+isapi.PathIllegalLoginLock, simulator.Endpoint{Body: simulator.IllegalLoginLockXML(simulator.NamespaceHikvision20, true, 7, 30)})
	sim.SetEndpoint("GET "+isapi.PathEventTriggers, simulator.Endpoint{Body: simulator.EventTriggersXML(simulator.NamespaceHikvision20)})
	sim.SetFault("GET "+isapi.PathEventTriggers, simulator.Fault{Status: 500})
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500 not reported: %v", err)
	}
	if got["hikvision_login_lock_max_attempts"] != 7 || got[lkCounter+"@created"] == 0 {
		t.Fatalf("other endpoints' metrics missing: %v", got)
	}
}

func TestLockoutLogAcrossProbes(t *testing.T) {
	clk := lkNewClock()
	p := simulator.Profile{Log: []simulator.LogEvent{
		lkIllegal(lkT0.Add(-25*time.Hour), "192.0.2.1"),                                                  // before the lookback
		lkIllegal(lkT0.Add(-24*time.Hour-time.Second), "192.0.2.1"),                                      // just before it
		lkIllegal(lkT0.Add(-24*time.Hour), "192.0.2.2"),                                                  // its first second counts
		lkIllegal(lkT0.Add(-23*time.Hour), "192.0.2.3"),                                                  // on a window boundary
		{Time: lkT0.Add(-90 * time.Minute), Major: "Exception", Minor: "illegalAccess", IP: "192.0.2.4"}, // the other spelling
		lkIllegal(lkT0.Add(-10*time.Second), "192.0.2.5"),
		{Time: lkT0.Add(-5 * time.Minute), Major: "Exception", Minor: "netBroken"},
		{Time: lkT0.Add(-5 * time.Minute), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.0.2.9"},
	}}
	sim, d := lkStart(t, p, clk, "")
	lk := func(what string, wantCount float64, wantLast, wantCursor time.Time) {
		t.Helper()
		got, err := lkCollect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := map[string]float64{
			lkCounter:               wantCount,
			lkCounter + "@created":  lkUnix(lkT0.Add(-24 * time.Hour)),
			lkLast:                  lkUnix(wantLast),
			lkCursor:                lkUnix(wantCursor),
			lkFeature("log_search"): 1,
		}
		log := map[string]float64{}
		for k, v := range got {
			if _, ok := want[k]; ok {
				log[k] = v
			}
		}
		lkDiff(t, what, log, want)
	}

	lk("first probe", 4, lkT0.Add(-10*time.Second), lkT0)
	searches := lkSearches(sim)
	if searches < 1 || searches > 2 { // one search, plus its Digest challenge on a new client
		t.Fatalf("first probe: %d search requests for a 24h lookback of four entries, want one search", searches)
	}

	// Inside the interval: no search, the kept values.
	clk.Advance(time.Minute)
	sim.AddLog(lkIllegal(lkT0.Add(30*time.Second), "198.51.100.7"))
	lk("inside the interval", 4, lkT0.Add(-10*time.Second), lkT0)
	clk.Advance(3*time.Minute + 59*time.Second)
	lk("still inside", 4, lkT0.Add(-10*time.Second), lkT0)
	if n := lkSearches(sim); n != searches {
		t.Fatalf("searched inside the interval: %d -> %d", searches, n)
	}

	// Due: one search of [T0, now].
	clk.Advance(time.Second)
	lk("interval over", 5, lkT0.Add(30*time.Second), lkT0.Add(5*time.Minute))
	if n := lkSearches(sim) - searches; n < 1 || n > 2 { // a stale nonce may add a 401
		t.Fatalf("%d search requests after the interval", n)
	}

	// A custom interval is honoured too.
	clk2 := lkNewClock()
	sim2, d2 := lkStart(t, simulator.Profile{}, clk2, "    log_search_interval: 1m\n    log_search_lookback: 1h\n")
	if _, err := lkCollect(t, lockoutCollector{}, d2, clk2); err != nil {
		t.Fatal(err)
	}
	n := lkSearches(sim2)
	clk2.Advance(59 * time.Second)
	lkCollect(t, lockoutCollector{}, d2, clk2)
	if lkSearches(sim2) != n {
		t.Fatal("searched before log_search_interval")
	}
	clk2.Advance(time.Second)
	lkCollect(t, lockoutCollector{}, d2, clk2)
	if lkSearches(sim2) == n {
		t.Fatal("no search after log_search_interval")
	}
}

func TestLockoutLogBoundarySecond(t *testing.T) {
	clk := lkNewClock()
	first := lkIllegal(lkT0, "192.0.2.1")
	sim, d := lkStart(t, simulator.Profile{Log: []simulator.LogEvent{first}}, clk, "")
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkCounter] != 1 {
		t.Fatalf("%v %v", err, got)
	}
	// Entries the device logs in the second the search ended in, after it
	// ran: an identical twin of the first, and another address.
	sim.AddLog(first, lkIllegal(lkT0, "192.0.2.2"), lkIllegal(lkT0.Add(time.Second), "192.0.2.1"))
	clk.Advance(5 * time.Minute)
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkCounter] != 4 || got[lkLast] != lkUnix(lkT0.Add(time.Second)) {
		t.Fatalf("late entries: %v %v", err, got)
	}
	// Nothing new: nothing added, whatever is re-read at the boundary.
	for range 3 {
		clk.Advance(5 * time.Minute)
		got, err = lkCollect(t, lockoutCollector{}, d, clk)
		if err != nil || got[lkCounter] != 4 {
			t.Fatalf("recount: %v %v", err, got)
		}
	}
}

// The log grows while probes run every minute for three hours; entries
// land on window boundaries, in the second a search ended in, and as
// identical twins. Every one within the lookback is counted exactly once.
func TestLockoutLogNoneLostNoneTwice(t *testing.T) {
	clk := lkNewClock()
	rng := rand.New(rand.NewPCG(7, 11))
	var initial []simulator.LogEvent
	want := 0
	for range 400 {
		ts := lkT0.Add(-time.Duration(rng.Int64N(int64(30*time.Hour/time.Second))) * time.Second)
		initial = append(initial, lkIllegal(ts, fmt.Sprintf("10.0.0.%d", rng.IntN(4))))
		if !ts.Before(lkT0.Add(-24 * time.Hour)) {
			want++
		}
	}
	for h := range 25 { // every window boundary of the lookback, twice
		ts := lkT0.Add(-24*time.Hour + time.Duration(h)*time.Hour)
		initial = append(initial, lkIllegal(ts, "10.9.9.9"), lkIllegal(ts, "10.9.9.9"))
		want += 2
	}
	sim, d := lkStart(t, simulator.Profile{Log: initial}, clk, "")
	lastNow := lkT0
	for range 180 {
		if _, err := lkCollect(t, lockoutCollector{}, d, clk); err != nil {
			t.Fatal(err)
		}
		// Late entries in the second the last probe ran, and new ones.
		for range rng.IntN(3) {
			sim.AddLog(lkIllegal(lastNow, fmt.Sprintf("10.1.0.%d", rng.IntN(3))))
			want++
		}
		clk.Advance(time.Minute)
		lastNow = clk.Now()
		for range rng.IntN(4) {
			sim.AddLog(lkIllegal(lastNow.Add(-time.Duration(rng.IntN(60))*time.Second), fmt.Sprintf("10.2.0.%d", rng.IntN(3))))
			want++
		}
		if rng.IntN(10) == 0 {
			sim.AddLog(simulator.LogEvent{Time: lastNow, Major: "Exception", Minor: "hdError"})
		}
	}
	clk.Advance(10 * time.Minute)
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	if got[lkCounter] != float64(want) {
		t.Fatalf("counted %v, want %d", got[lkCounter], want)
	}
}

func TestLockoutLogCapSplitting(t *testing.T) {
	clk := lkNewClock()
	start := lkT0.Add(-2 * time.Hour)
	var evs []simulator.LogEvent
	for i := range 4500 {
		evs = append(evs, lkIllegal(start.Add(time.Duration(i)*800*time.Millisecond).Truncate(time.Second), fmt.Sprintf("203.0.113.%d", i%250)))
	}
	evs = append(evs, simulator.LogEvent{Time: start.Add(30 * time.Minute), Major: "Exception", Minor: "netBroken"})
	sim, d := lkStart(t, simulator.Profile{Log: evs, LogCap: 2000}, clk, "")
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	if got[lkCounter] != 4500 || got[lkCursor] != lkUnix(lkT0) || got[lkLast] != lkUnix(start.Add(4499*800*time.Millisecond).Truncate(time.Second)) {
		t.Fatalf("counter %v cursor %v last %v", got[lkCounter], got[lkCursor], got[lkLast])
	}
	// Bounded: the lookback's 24 windows plus a few splits, each at most 20 pages.
	if n := lkSearches(sim); n > 24+2*20+6*20 {
		t.Fatalf("%d search requests", n)
	}
}

func TestLockoutLogFloodAtSmallestWindow(t *testing.T) {
	clk := lkNewClock()
	second := lkT0.Add(-2*time.Hour + 10*time.Second)
	var evs []simulator.LogEvent
	for i := range 2500 {
		evs = append(evs, lkIllegal(second, fmt.Sprintf("203.0.113.%d", i%250)))
	}
	evs = append(evs, lkIllegal(lkT0.Add(-time.Hour), "198.51.100.1"))
	_, d := lkStart(t, simulator.Profile{Log: evs, LogCap: 2000}, clk, "")
	var got map[string]float64
	for probe := 0; ; probe++ {
		var err error
		if got, err = lkCollect(t, lockoutCollector{}, d, clk); err != nil {
			t.Fatal(err)
		}
		if got[lkCursor] == lkUnix(lkT0) || probe == 3 {
			break
		}
	}
	// 2500 failures in one second are past what a recorder returns for
	// any window: the 2000 it gives are counted and reading moves on.
	if got[lkCounter] != 2001 || got[lkCursor] != lkUnix(lkT0) {
		t.Fatalf("counter %v cursor %v", got[lkCounter], got[lkCursor])
	}
}

func TestLockoutLogBudget(t *testing.T) {
	clk := lkNewClock()
	const days = logMaxSearches + 2
	var evs []simulator.LogEvent
	for day := range days {
		evs = append(evs, lkIllegal(lkT0.Add(-time.Duration(day)*24*time.Hour-30*time.Minute), "192.0.2.1"))
	}
	sim, d := lkStart(t, simulator.Profile{Log: evs}, clk, fmt.Sprintf("    log_search_lookback: %dh\n", days*24))
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	// logMaxSearches one-day windows, then the rest is left for the next
	// probe. The counter waits for the whole lookback.
	if _, ok := got[lkCounter]; ok || got[lkCursor] != lkUnix(lkT0.Add(-2*24*time.Hour)) {
		t.Fatalf("first probe: %v", got)
	}
	if n := lkSearches(sim); n < logMaxSearches || n > logMaxSearches+2 {
		t.Fatalf("%d search requests", n)
	}
	// The next probe goes on at once, without waiting for the interval.
	clk.Advance(15 * time.Second)
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkCursor] != lkUnix(clk.Now()) || got[lkCounter] != days || got[lkCounter+"@created"] != lkUnix(lkT0.Add(-days*24*time.Hour)) {
		t.Fatalf("second probe: %v %v", err, got)
	}
}

// On a slow device and a short scrape timeout the first pass takes several
// probes. The counter must then appear with the whole lookback's count, not
// grow towards it: old failures are a starting value, never an increase.
func TestLockoutLogShortProbeDeadline(t *testing.T) {
	clk := lkNewClock()
	var evs []simulator.LogEvent
	// A month's lookback is 30 one-day searches, over a second at 40 ms each.
	for day := range 30 {
		evs = append(evs, lkIllegal(lkT0.Add(-time.Duration(day)*24*time.Hour-time.Minute), "192.0.2.1"))
	}
	sim, d := lkStart(t, simulator.Profile{Log: evs}, clk, "    log_search_lookback: 720h\n")
	sim.SetLatency(40 * time.Millisecond)
	probes := 0
	for {
		probes++
		got, err := lkCollectWithin(t, lockoutCollector{}, d, clk, 500*time.Millisecond)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("probe %d: %v", probes, err) // a deadline hit on a loaded machine is allowed
		}
		if v, ok := got[lkCounter]; ok {
			if v != 30 || got[lkCursor] != lkUnix(clk.Now()) {
				t.Fatalf("probe %d: counter %v cursor %v", probes, v, got[lkCursor])
			}
			break
		}
		if probes == 40 {
			t.Fatal("first pass never completed")
		}
		clk.Advance(time.Second) // scrapes every second, as in the e2e setup
	}
	if probes < 2 {
		t.Fatalf("the first pass fitted in one probe (%d); the test does not exercise a short deadline", probes)
	}
}

func TestLockoutLogNotSupportedAndErrors(t *testing.T) {
	clk := lkNewClock()
	sim, d := lkStart(t, simulator.Profile{NotSupported: []string{lkSearch}}, clk, "")
	got, err := lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkFeature("log_search")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
	if _, ok := got[lkCounter]; ok {
		t.Fatal("counter present without a log search")
	}
	n := lkSearches(sim)
	clk.Advance(time.Minute)
	if got, _ = lkCollect(t, lockoutCollector{}, d, clk); lkSearches(sim) != n || got[lkFeature("log_search")] != 0 {
		t.Fatalf("retried inside the interval, or forgot the feature: %v", got)
	}

	// A failing search: an error on the probe that ran it, no counter yet;
	// the next attempt after the interval starts a full lookback.
	clk = lkNewClock()
	sim, d = lkStart(t, simulator.Profile{Log: []simulator.LogEvent{lkIllegal(lkT0.Add(-23*time.Hour), "192.0.2.1")}}, clk, "")
	sim.SetFault(lkSearch, simulator.Fault{Status: 500})
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err == nil || !strings.Contains(err.Error(), "log search") {
		t.Fatalf("500 not reported: %v", err)
	}
	if _, ok := got[lkCounter]; ok {
		t.Fatal("counter present before any search succeeded")
	}
	clk.Advance(time.Minute)
	if _, err = lkCollect(t, lockoutCollector{}, d, clk); err != nil {
		t.Fatalf("inside the interval: %v", err)
	}
	sim.SetFault(lkSearch, simulator.Fault{})
	clk.Advance(5 * time.Minute)
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err != nil || got[lkCounter] != 1 || got[lkCounter+"@created"] != lkUnix(clk.Now().Add(-24*time.Hour)) {
		t.Fatalf("after recovery: %v %v", err, got)
	}

	// A failure after progress keeps what was read.
	sim.AddLog(lkIllegal(clk.Now().Add(time.Minute), "192.0.2.3"))
	sim.SetFault(lkSearch, simulator.Fault{Malformed: true})
	clk.Advance(5 * time.Minute)
	got, err = lkCollect(t, lockoutCollector{}, d, clk)
	if err == nil || got[lkCounter] != 1 {
		t.Fatalf("malformed: %v %v", err, got)
	}
	sim.SetFault(lkSearch, simulator.Fault{})
	clk.Advance(5 * time.Minute)
	if got, err = lkCollect(t, lockoutCollector{}, d, clk); err != nil || got[lkCounter] != 2 {
		t.Fatalf("after the second recovery: %v %v", err, got)
	}
}

// Probes of one device normally run one at a time; if several arrive
// together, one searches and the others report its result.
func TestLockoutLogSingleFlight(t *testing.T) {
	clk := lkNewClock()
	sim, d := lkStart(t, simulator.Profile{Log: []simulator.LogEvent{lkIllegal(lkT0.Add(-time.Hour), "192.0.2.1")}}, clk, "")
	var wg sync.WaitGroup
	results := make([]float64, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dd := *d // each probe has its own Device, sharing State and Client
			var m Metrics
			if err := logCursorOf(&dd).collect(context.Background(), &dd, &m); err != nil {
				t.Error(err)
			}
			for _, metric := range m.out {
				if strings.Contains(metric.Desc().String(), lkCounter) {
					var pb dto.Metric
					metric.Write(&pb)
					results[i] = pb.GetCounter().GetValue()
				}
			}
		}()
	}
	wg.Wait()
	if results[0] != 1 || results[1] != 1 || results[2] != 1 || results[3] != 1 {
		t.Fatalf("counters %v", results)
	}
	if n := lkSearches(sim); n > 26 {
		t.Fatalf("%d search requests for one 24h lookback", n)
	}
}
