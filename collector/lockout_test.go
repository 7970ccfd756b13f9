package collector

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// Illegal-access methods per capture model (docs/isapi.md §5.13).
var illaccessMethodsByModel = map[string][]string{
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

// nestings are the shapes a device may answer in: as the captures have
// them, and one level deeper (simulator.Nesting).
var nestings = map[string]simulator.Nesting{
	"captured":        0,
	"wrapped root":    simulator.NestRoot,
	"nested lists":    simulator.NestLists,
	"wrapped, nested": simulator.NestRoot | simulator.NestLists,
}

// Every capture profile, in every shape: the same series.
func TestLockoutCaptureProfiles(t *testing.T) {
	models := simulator.CaptureModels()
	if len(models) != 11 {
		t.Fatalf("capture models: %v", models)
	}
	for shape, nesting := range nestings {
		for _, model := range models {
			lockoutCaptureProfile(t, model+", "+shape, model, nesting)
		}
	}
}

func lockoutCaptureProfile(t *testing.T, name, model string, nesting simulator.Nesting) {
	t.Helper()
	p := simulator.CaptureProfile(model)
	p.Nesting = nesting
	_, got, err := collectOnce(t, lockoutCollector{}, p)
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
	want := map[string]float64{
		featureSeries("log_search"):          1,
		loginFailuresSeries:                  0,
		loginFailuresSeries + "@created":     unixSeconds(testEpoch.Add(-24 * time.Hour)),
		"hikvision_login_failures_last_hour": 0, // read with the counter (logcursor.go)
		logCursorSeries:                      unixSeconds(testEpoch),
		featureSeries("event_triggers"):      1,
	}
	if model == "k1a340fwx" {
		// The terminal: real lock policy, no triggers capture.
		want[featureSeries("illegal_login_lock")] = 1
		want["hikvision_login_lock_enabled"] = 1
		want["hikvision_login_lock_max_attempts"] = 5
		want["hikvision_login_lock_duration_seconds"] = 1800
		want[featureSeries("event_triggers")] = 0
	} else {
		want[featureSeries("illegal_login_lock")] = 0
		methods, ok := illaccessMethodsByModel[model]
		if !ok {
			t.Fatalf("no expectation for %s", model)
		}
		want["hikvision_login_failure_notification_enabled"] = map[bool]float64{true: 1, false: 0}[len(methods) > 0]
		for _, m := range methods {
			want[fmt.Sprintf("hikvision_login_failure_notification_methods{method=%q}", m)] = 1
		}
	}
	promtest.Diff(t, name, got, want)
}

// The variation seen on real firmware (docs/isapi.md §5.13): the illaccess
// trigger with an empty notification list, one level deeper than in the
// captures. The lock policy, the trigger and the failed logins read the
// same in every shape.
func TestLockoutNestedAnswers(t *testing.T) {
	ns := simulator.NamespaceISAPIOrg20
	for _, methods := range [][]string{nil, {"center", "email"}} {
		for shape, nesting := range nestings {
			name := fmt.Sprintf("%s, methods %v", shape, methods)
			p := simulator.CaptureProfile("DS-7616NI-K2") // the recorder: System/capabilities without a lock range
			p.Nesting = nesting
			p.Endpoints["GET "+isapi.PathIllegalLoginLock] = simulator.Endpoint{Body: simulator.IllegalLoginLockXML(ns, true, 5, 30)}
			p.Endpoints["GET "+isapi.PathEventTriggers] = simulator.Endpoint{Body: simulator.EventTriggersXML(ns, methods...)}
			p.Log = []simulator.LogEvent{
				illegalLogin(testEpoch.Add(-3*time.Hour), "192.0.2.1"),
				illegalLogin(testEpoch.Add(-30*time.Minute), "192.0.2.2"),
				{Time: testEpoch.Add(-20 * time.Minute), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.0.2.3"},
				illegalLogin(testEpoch.Add(-10*time.Minute), "192.0.2.2"),
			}
			_, got, err := collectOnce(t, lockoutCollector{}, p)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			want := map[string]float64{
				featureSeries("illegal_login_lock"):              1,
				"hikvision_login_lock_enabled":                   1,
				"hikvision_login_lock_max_attempts":              5,
				"hikvision_login_lock_duration_seconds":          1800,
				featureSeries("event_triggers"):                  1,
				"hikvision_login_failure_notification_enabled":   map[bool]float64{true: 1, false: 0}[len(methods) > 0],
				featureSeries("log_search"):                      1,
				loginFailuresSeries:                              3,
				loginFailuresSeries + "@created":                 unixSeconds(testEpoch.Add(-24 * time.Hour)),
				"hikvision_login_failures_last_hour":             2,
				"hikvision_last_login_failure_timestamp_seconds": unixSeconds(testEpoch.Add(-10 * time.Minute)),
				logCursorSeries:                                  unixSeconds(testEpoch),
			}
			for _, m := range methods {
				want[fmt.Sprintf("hikvision_login_failure_notification_methods{method=%q}", m)] = 1
			}
			promtest.Diff(t, name, got, want)
		}
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
		clk := newClock()
		sim, d := startProbe(t, tc.profile, clk, "")
		if tc.lock != nil {
			sim.SetEndpoint(lockKey, simulator.Endpoint{Body: tc.lock})
		}
		got, err := collect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		policy := map[string]float64{}
		for k, v := range got {
			if name, ok := strings.CutPrefix(k, "hikvision_login_lock_"); ok {
				policy[name] = v
			}
		}
		promtest.Diff(t, tc.name, policy, tc.want)
		if got[featureSeries("illegal_login_lock")] != 1 {
			t.Errorf("%s: feature %v", tc.name, got[featureSeries("illegal_login_lock")])
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
		clk := newClock()
		_, d := startProbe(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{"GET " + isapi.PathEventTriggers: {Body: tc.body}}}, clk, "")
		got, err := collect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		notify := map[string]float64{}
		for k, v := range got {
			if strings.HasPrefix(k, "hikvision_login_failure_notification") {
				notify[k] = v
			}
		}
		promtest.Diff(t, tc.name, notify, tc.want)
		if got[featureSeries("event_triggers")] != 1 {
			t.Errorf("%s: feature %v", tc.name, got)
		}
	}

	// Denied: feature 0, not a failure. Broken: a failure, the rest still reported.
	clk := newClock()
	sim, d := startProbe(t, simulator.Profile{NotSupported: []string{"GET " + isapi.PathEventTriggers}}, clk, "")
	sim.SetEndpoint("GET "+isapi.PathIllegalLoginLock, simulator.Endpoint{Body: simulator.IllegalLoginLockXML(simulator.NamespaceHikvision20, true, 7, 30)})
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[featureSeries("event_triggers")] != 0 || got["hikvision_login_lock_duration_seconds"] != 1800 {
		t.Fatalf("403: %v %v", err, got)
	}
	clk = newClock()
	sim, d = startProbe(t, simulator.Profile{}, clk, "")
	sim.SetEndpoint("GET "+isapi.PathIllegalLoginLock, simulator.Endpoint{Body: simulator.IllegalLoginLockXML(simulator.NamespaceHikvision20, true, 7, 30)})
	sim.SetEndpoint("GET "+isapi.PathEventTriggers, simulator.Endpoint{Body: simulator.EventTriggersXML(simulator.NamespaceHikvision20)})
	sim.SetFault("GET "+isapi.PathEventTriggers, simulator.Fault{Status: 500})
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500 not reported: %v", err)
	}
	if got["hikvision_login_lock_max_attempts"] != 7 || got[loginFailuresSeries+"@created"] == 0 {
		t.Fatalf("other endpoints' metrics missing: %v", got)
	}
}

func TestLockoutLogAcrossProbes(t *testing.T) {
	clk := newClock()
	p := simulator.Profile{Log: []simulator.LogEvent{
		illegalLogin(testEpoch.Add(-25*time.Hour), "192.0.2.1"),                                               // before the lookback
		illegalLogin(testEpoch.Add(-24*time.Hour-time.Second), "192.0.2.1"),                                   // just before it
		illegalLogin(testEpoch.Add(-24*time.Hour), "192.0.2.2"),                                               // its first second counts
		illegalLogin(testEpoch.Add(-23*time.Hour), "192.0.2.3"),                                               // on a window boundary
		{Time: testEpoch.Add(-90 * time.Minute), Major: "Exception", Minor: "illegalAccess", IP: "192.0.2.4"}, // the other spelling
		illegalLogin(testEpoch.Add(-10*time.Second), "192.0.2.5"),
		{Time: testEpoch.Add(-5 * time.Minute), Major: "Exception", Minor: "netBroken"},
		{Time: testEpoch.Add(-5 * time.Minute), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.0.2.9"},
	}}
	sim, d := startProbe(t, p, clk, "")
	lk := func(what string, wantCount float64, wantLast, wantCursor time.Time) {
		t.Helper()
		got, err := collect(t, lockoutCollector{}, d, clk)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := map[string]float64{
			loginFailuresSeries:              wantCount,
			loginFailuresSeries + "@created": unixSeconds(testEpoch.Add(-24 * time.Hour)),
			lastLoginFailureSeries:           unixSeconds(wantLast),
			logCursorSeries:                  unixSeconds(wantCursor),
			featureSeries("log_search"):      1,
		}
		log := map[string]float64{}
		for k, v := range got {
			if _, ok := want[k]; ok {
				log[k] = v
			}
		}
		promtest.Diff(t, what, log, want)
	}

	lk("first probe", 4, testEpoch.Add(-10*time.Second), testEpoch)
	searches := logSearches(sim)
	if searches < 1 || searches > 2 { // one search, plus its Digest challenge on a new client
		t.Fatalf("first probe: %d search requests for a 24h lookback of four entries, want one search", searches)
	}

	// Inside the interval: no search, the kept values.
	clk.Advance(time.Minute)
	sim.AddLog(illegalLogin(testEpoch.Add(30*time.Second), "198.51.100.7"))
	lk("inside the interval", 4, testEpoch.Add(-10*time.Second), testEpoch)
	clk.Advance(3*time.Minute + 59*time.Second)
	lk("still inside", 4, testEpoch.Add(-10*time.Second), testEpoch)
	if n := logSearches(sim); n != searches {
		t.Fatalf("searched inside the interval: %d -> %d", searches, n)
	}

	// Due: one search of [T0, now].
	clk.Advance(time.Second)
	lk("interval over", 5, testEpoch.Add(30*time.Second), testEpoch.Add(5*time.Minute))
	if n := logSearches(sim) - searches; n < 1 || n > 2 { // a stale nonce may add a 401
		t.Fatalf("%d search requests after the interval", n)
	}

	// A custom interval is honoured too.
	clk2 := newClock()
	sim2, d2 := startProbe(t, simulator.Profile{}, clk2, "    log_search_interval: 1m\n    log_search_lookback: 1h\n")
	if _, err := collect(t, lockoutCollector{}, d2, clk2); err != nil {
		t.Fatal(err)
	}
	n := logSearches(sim2)
	clk2.Advance(59 * time.Second)
	if _, err := collect(t, lockoutCollector{}, d2, clk2); err != nil {
		t.Fatal(err)
	}
	if logSearches(sim2) != n {
		t.Fatal("searched before log_search_interval")
	}
	clk2.Advance(time.Second)
	if _, err := collect(t, lockoutCollector{}, d2, clk2); err != nil {
		t.Fatal(err)
	}
	if logSearches(sim2) == n {
		t.Fatal("no search after log_search_interval")
	}
}

func TestLockoutLogBoundarySecond(t *testing.T) {
	clk := newClock()
	first := illegalLogin(testEpoch, "192.0.2.1")
	sim, d := startProbe(t, simulator.Profile{Log: []simulator.LogEvent{first}}, clk, "")
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[loginFailuresSeries] != 1 {
		t.Fatalf("%v %v", err, got)
	}
	// Entries the device logs in the second the search ended in, after it
	// ran: an identical twin of the first, and another address.
	sim.AddLog(first, illegalLogin(testEpoch, "192.0.2.2"), illegalLogin(testEpoch.Add(time.Second), "192.0.2.1"))
	clk.Advance(5 * time.Minute)
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[loginFailuresSeries] != 4 || got[lastLoginFailureSeries] != unixSeconds(testEpoch.Add(time.Second)) {
		t.Fatalf("late entries: %v %v", err, got)
	}
	// Nothing new: nothing added, whatever is re-read at the boundary.
	for range 3 {
		clk.Advance(5 * time.Minute)
		got, err = collect(t, lockoutCollector{}, d, clk)
		if err != nil || got[loginFailuresSeries] != 4 {
			t.Fatalf("recount: %v %v", err, got)
		}
	}
}

// The log grows while probes run every minute for three hours; entries
// land on window boundaries, in the second a search ended in, and as
// identical twins. Every one within the lookback is counted exactly once.
func TestLockoutLogNoneLostNoneTwice(t *testing.T) {
	clk := newClock()
	rng := rand.New(rand.NewPCG(7, 11))
	var initial []simulator.LogEvent
	want := 0
	for range 400 {
		ts := testEpoch.Add(-time.Duration(rng.Int64N(int64(30*time.Hour/time.Second))) * time.Second)
		initial = append(initial, illegalLogin(ts, fmt.Sprintf("10.0.0.%d", rng.IntN(4))))
		if !ts.Before(testEpoch.Add(-24 * time.Hour)) {
			want++
		}
	}
	for h := range 25 { // every window boundary of the lookback, twice
		ts := testEpoch.Add(-24*time.Hour + time.Duration(h)*time.Hour)
		initial = append(initial, illegalLogin(ts, "10.9.9.9"), illegalLogin(ts, "10.9.9.9"))
		want += 2
	}
	sim, d := startProbe(t, simulator.Profile{Log: initial}, clk, "")
	lastNow := testEpoch
	for range 180 {
		if _, err := collect(t, lockoutCollector{}, d, clk); err != nil {
			t.Fatal(err)
		}
		// Late entries in the second the last probe ran, and new ones.
		for range rng.IntN(3) {
			sim.AddLog(illegalLogin(lastNow, fmt.Sprintf("10.1.0.%d", rng.IntN(3))))
			want++
		}
		clk.Advance(time.Minute)
		lastNow = clk.Now()
		for range rng.IntN(4) {
			sim.AddLog(illegalLogin(lastNow.Add(-time.Duration(rng.IntN(60))*time.Second), fmt.Sprintf("10.2.0.%d", rng.IntN(3))))
			want++
		}
		if rng.IntN(10) == 0 {
			sim.AddLog(simulator.LogEvent{Time: lastNow, Major: "Exception", Minor: "hdError"})
		}
	}
	clk.Advance(10 * time.Minute)
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	if got[loginFailuresSeries] != float64(want) {
		t.Fatalf("counted %v, want %d", got[loginFailuresSeries], want)
	}
}

func TestLockoutLogCapSplitting(t *testing.T) {
	clk := newClock()
	start := testEpoch.Add(-2 * time.Hour)
	var evs []simulator.LogEvent
	for i := range 4500 {
		evs = append(evs, illegalLogin(start.Add(time.Duration(i)*800*time.Millisecond).Truncate(time.Second), fmt.Sprintf("203.0.113.%d", i%250)))
	}
	evs = append(evs, simulator.LogEvent{Time: start.Add(30 * time.Minute), Major: "Exception", Minor: "netBroken"})
	sim, d := startProbe(t, simulator.Profile{Log: evs, LogCap: 2000}, clk, "")
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	if got[loginFailuresSeries] != 4500 || got[logCursorSeries] != unixSeconds(testEpoch) || got[lastLoginFailureSeries] != unixSeconds(start.Add(4499*800*time.Millisecond).Truncate(time.Second)) {
		t.Fatalf("counter %v cursor %v last %v", got[loginFailuresSeries], got[logCursorSeries], got[lastLoginFailureSeries])
	}
	// Bounded: the lookback's 24 windows plus a few splits, each at most 20 pages.
	if n := logSearches(sim); n > 24+2*20+6*20 {
		t.Fatalf("%d search requests", n)
	}
}

func TestLockoutLogFloodAtSmallestWindow(t *testing.T) {
	clk := newClock()
	second := testEpoch.Add(-2*time.Hour + 10*time.Second)
	var evs []simulator.LogEvent
	for i := range 2500 {
		evs = append(evs, illegalLogin(second, fmt.Sprintf("203.0.113.%d", i%250)))
	}
	evs = append(evs, illegalLogin(testEpoch.Add(-time.Hour), "198.51.100.1"))
	_, d := startProbe(t, simulator.Profile{Log: evs, LogCap: 2000}, clk, "")
	var got map[string]float64
	for probe := 0; ; probe++ {
		var err error
		if got, err = collect(t, lockoutCollector{}, d, clk); err != nil {
			t.Fatal(err)
		}
		if got[logCursorSeries] == unixSeconds(testEpoch) || probe == 3 {
			break
		}
	}
	// 2500 failures in one second are past what a recorder returns for
	// any window: the 2000 it gives are counted and reading moves on.
	if got[loginFailuresSeries] != 2001 || got[logCursorSeries] != unixSeconds(testEpoch) {
		t.Fatalf("counter %v cursor %v", got[loginFailuresSeries], got[logCursorSeries])
	}
}

func TestLockoutLogBudget(t *testing.T) {
	clk := newClock()
	const days = logMaxSearches + 2
	var evs []simulator.LogEvent
	for day := range days {
		evs = append(evs, illegalLogin(testEpoch.Add(-time.Duration(day)*24*time.Hour-30*time.Minute), "192.0.2.1"))
	}
	sim, d := startProbe(t, simulator.Profile{Log: evs}, clk, fmt.Sprintf("    log_search_lookback: %dh\n", days*24))
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	// logMaxSearches one-day windows, then the rest is left for the next
	// probe. The counter waits for the whole lookback.
	if _, ok := got[loginFailuresSeries]; ok || got[logCursorSeries] != unixSeconds(testEpoch.Add(-2*24*time.Hour)) {
		t.Fatalf("first probe: %v", got)
	}
	if n := logSearches(sim); n < logMaxSearches || n > logMaxSearches+2 {
		t.Fatalf("%d search requests", n)
	}
	// The next probe goes on at once, without waiting for the interval.
	clk.Advance(15 * time.Second)
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[logCursorSeries] != unixSeconds(clk.Now()) || got[loginFailuresSeries] != days || got[loginFailuresSeries+"@created"] != unixSeconds(testEpoch.Add(-days*24*time.Hour)) {
		t.Fatalf("second probe: %v %v", err, got)
	}
}

// On a slow device and a short scrape timeout the first pass takes several
// probes. The counter must then appear with the whole lookback's count, not
// grow towards it: old failures are a starting value, never an increase.
func TestLockoutLogShortProbeDeadline(t *testing.T) {
	clk := newClock()
	var evs []simulator.LogEvent
	// A month's lookback is 30 one-day searches, over a second at 40 ms each.
	for day := range 30 {
		evs = append(evs, illegalLogin(testEpoch.Add(-time.Duration(day)*24*time.Hour-time.Minute), "192.0.2.1"))
	}
	sim, d := startProbe(t, simulator.Profile{Log: evs}, clk, "    log_search_lookback: 720h\n")
	sim.SetLatency(40 * time.Millisecond)
	probes := 0
	for {
		probes++
		got, err := collectWithin(t, lockoutCollector{}, d, clk, 500*time.Millisecond)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("probe %d: %v", probes, err) // a deadline hit on a loaded machine is allowed
		}
		if v, ok := got[loginFailuresSeries]; ok {
			if v != 30 || got[logCursorSeries] != unixSeconds(clk.Now()) {
				t.Fatalf("probe %d: counter %v cursor %v", probes, v, got[logCursorSeries])
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
	clk := newClock()
	sim, d := startProbe(t, simulator.Profile{NotSupported: []string{logSearchKey}}, clk, "")
	got, err := collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[featureSeries("log_search")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
	if _, ok := got[loginFailuresSeries]; ok {
		t.Fatal("counter present without a log search")
	}
	n := logSearches(sim)
	clk.Advance(time.Minute)
	if got, _ = collect(t, lockoutCollector{}, d, clk); logSearches(sim) != n || got[featureSeries("log_search")] != 0 {
		t.Fatalf("retried inside the interval, or forgot the feature: %v", got)
	}

	// A failing search: an error on the probe that ran it, no counter yet;
	// the next attempt after the interval starts a full lookback.
	clk = newClock()
	sim, d = startProbe(t, simulator.Profile{Log: []simulator.LogEvent{illegalLogin(testEpoch.Add(-23*time.Hour), "192.0.2.1")}}, clk, "")
	sim.SetFault(logSearchKey, simulator.Fault{Status: 500})
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err == nil || !strings.Contains(err.Error(), "log search") {
		t.Fatalf("500 not reported: %v", err)
	}
	if _, ok := got[loginFailuresSeries]; ok {
		t.Fatal("counter present before any search succeeded")
	}
	clk.Advance(time.Minute)
	if _, err = collect(t, lockoutCollector{}, d, clk); err != nil {
		t.Fatalf("inside the interval: %v", err)
	}
	sim.SetFault(logSearchKey, simulator.Fault{})
	clk.Advance(5 * time.Minute)
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err != nil || got[loginFailuresSeries] != 1 || got[loginFailuresSeries+"@created"] != unixSeconds(clk.Now().Add(-24*time.Hour)) {
		t.Fatalf("after recovery: %v %v", err, got)
	}

	// A failure after progress keeps what was read.
	sim.AddLog(illegalLogin(clk.Now().Add(time.Minute), "192.0.2.3"))
	sim.SetFault(logSearchKey, simulator.Fault{Malformed: true})
	clk.Advance(5 * time.Minute)
	got, err = collect(t, lockoutCollector{}, d, clk)
	if err == nil || got[loginFailuresSeries] != 1 {
		t.Fatalf("malformed: %v %v", err, got)
	}
	sim.SetFault(logSearchKey, simulator.Fault{})
	clk.Advance(5 * time.Minute)
	if got, err = collect(t, lockoutCollector{}, d, clk); err != nil || got[loginFailuresSeries] != 2 {
		t.Fatalf("after the second recovery: %v %v", err, got)
	}
}

// Probes of one device normally run one at a time; if several arrive
// together, one searches and the others report its result.
func TestLockoutLogSingleFlight(t *testing.T) {
	clk := newClock()
	sim, d := startProbe(t, simulator.Profile{Log: []simulator.LogEvent{illegalLogin(testEpoch.Add(-time.Hour), "192.0.2.1")}}, clk, "")
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
				if strings.Contains(metric.Desc().String(), loginFailuresSeries) {
					var pb dto.Metric
					if err := metric.Write(&pb); err != nil {
						t.Error(err)
					}
					results[i] = pb.GetCounter().GetValue()
				}
			}
		}()
	}
	wg.Wait()
	if results[0] != 1 || results[1] != 1 || results[2] != 1 || results[3] != 1 {
		t.Fatalf("counters %v", results)
	}
	if n := logSearches(sim); n > 26 {
		t.Fatalf("%d search requests for one 24h lookback", n)
	}
}
