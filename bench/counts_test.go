package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/probe"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// countSteps are the probes of TestRequestCounts: once a minute on the
// exporter's clock for a quarter of an hour, the cold one first. The log
// search and cache_ttl (both 5m by default) come round three times.
var countSteps = func() []time.Duration {
	var out []time.Duration
	for m := range 16 {
		out = append(out, time.Duration(m)*time.Minute)
	}
	return out
}()

// countSteady is where the steady state starts: a cache_ttl after the
// cold probe, once everything it fetched has been refreshed.
const countSteady = 5

// countRun is what one probe cost the device.
type countRun struct {
	registered                          bool
	up                                  bool
	requests, unauthorized, connections int
	inProbe                             int // requests the probe made itself, not background refreshes
	maxInFlight                         int
	byPath                              map[string]int
}

// probeCounts probes one fresh simulated device with a module collecting
// collectors, at the countSteps offsets of an exporter clock, and returns
// what each probe asked of the device.
func probeCounts(t *testing.T, collectors []string, maxConc int) []countRun {
	t.Helper()
	d := simulator.Start(t, DeviceProfile(0, time.Now()))
	// A little latency lets the requests of one probe overlap, as they do
	// against a real device, so the in-flight limit is exercised.
	d.SetLatency(2 * time.Millisecond)
	yaml := fmt.Sprintf("modules:\n  default:\n    username: %s\n    password: %q\n    scheme: http\n    max_concurrent_requests: %d\n    collectors: [%s]\ndevices:\n  - name: dev\n    address: %s\n",
		Username, Password, maxConc, strings.Join(collectors, ", "), d.Addr())
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	clock := simulator.NewClock(start)
	reg := prometheus.NewRegistry()
	h := probe.NewHandler(probe.HandlerOptions{
		Config: func() *config.Config { return cfg }, Logger: slog.New(slog.DiscardHandler),
		Resolver: net.DefaultResolver, TimeoutOffset: 500 * time.Millisecond, Registerer: reg,
		Now: clock.Now,
	})
	var runs []countRun
	for _, at := range countSteps {
		clock.Set(start.Add(at))
		d.ResetStats()
		before := counters(reg, "hikvision_exporter_device_requests_total", "kind")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/probe?target=dev", nil))
		// Count what the probe set off after it answered (the background
		// refresh) too, and keep it out of the next probe, which in real
		// life comes a minute later: wait for that work, whatever the
		// machine's load.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := h.WaitIdle(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		s := d.Stats()
		// The exporter tells its probe's requests from the refreshes; what
		// it counts must be what the device saw.
		sent := sub(counters(reg, "hikvision_exporter_device_requests_total", "kind"), before)
		if n := int(sent["probe"] + sent["refresh"]); n != s.Requests {
			t.Fatalf("probe at +%v: the exporter counts %d requests sent (%v), the device %d", at, n, sent, s.Requests)
		}
		body := rec.Body.String()
		r := countRun{
			up: isUp([]byte(body)), registered: true, byPath: s.ByPath,
			requests: s.Requests, inProbe: int(sent["probe"]), unauthorized: s.Unauthorized, connections: s.Connections, maxInFlight: s.MaxInFlight,
		}
		for _, c := range collectors {
			if !strings.Contains(body, fmt.Sprintf("hikvision_scrape_collector_success{collector=%q}", c)) {
				r.registered = false
			}
		}
		runs = append(runs, r)
	}
	return runs
}

// TestRequestCounts reports the device requests of a probe, cold, warm and
// after cache_ttl, for each collector alone and for all of them, and checks
// the frame's promises that do not depend on time: a warm probe makes no
// 401 round trip and opens no connection, and no more than
// max_concurrent_requests requests are ever in flight to the device.
func TestRequestCounts(t *testing.T) {
	const maxConc = config.DefaultMaxConcurrentRequests
	var b strings.Builder
	b.WriteString("| collectors | cold | warm +1m | warm +2m..+4m | steady (+5m..+15m): mean | max | of which after the probe answered (background refresh): max | endpoints read cold |\n|---|---|---|---|---|---|---|---|\n")
	sets := [][]string{}
	for _, c := range collector.Names() {
		sets = append(sets, []string{c})
	}
	sets = append(sets, collector.Names())
	for _, set := range sets {
		name := strings.Join(set, ",")
		if len(set) > 1 {
			name = "all"
		}
		runs := probeCounts(t, set, maxConc)
		if !runs[0].registered {
			fmt.Fprintf(&b, "| %s | not registered | | | | | | |\n", name)
			continue
		}
		for i, r := range runs {
			if !r.up {
				t.Errorf("%s: probe %d not up", name, i)
			}
			if r.maxInFlight > maxConc {
				t.Errorf("%s: %d requests in flight to the device, max_concurrent_requests is %d", name, r.maxInFlight, maxConc)
			}
		}
		reqs := field(runs, func(r countRun) int { return r.requests })
		steady := reqs[countSteady:]
		sum, most, after := 0, 0, 0
		for i, n := range steady {
			sum += n
			most = max(most, n)
			after = max(after, n-runs[countSteady+i].inProbe)
		}
		paths := make([]string, 0, len(runs[0].byPath))
		for p, n := range runs[0].byPath {
			if n > 1 {
				p += fmt.Sprintf(" ×%d", n)
			}
			paths = append(paths, strings.TrimPrefix(strings.Replace(p, " /ISAPI/", " ", 1), "GET "))
		}
		slices.Sort(paths)
		fmt.Fprintf(&b, "| %s | %d | %d | %v | %.1f | %d | %d | %s |\n", name, reqs[0], reqs[1], reqs[2:countSteady],
			float64(sum)/float64(len(steady)), most, after, strings.Join(paths, ", "))
		if name == "all" {
			t.Logf("all collectors, probes once a minute: requests %v (the probe's own %v, the rest background refreshes), 401s %v, new connections %v, most in flight %v",
				reqs, field(runs, func(r countRun) int { return r.inProbe }),
				field(runs, func(r countRun) int { return r.unauthorized }),
				field(runs, func(r countRun) int { return r.connections }),
				field(runs, func(r countRun) int { return r.maxInFlight }))
			for i, r := range runs[1:] {
				// The probe itself never waits for a cache refresh: the
				// credential check, the clock and the log search at most.
				if r.inProbe > 3 {
					t.Errorf("warm probe at +%v made %d requests of its own; want at most 3", countSteps[i+1], r.inProbe)
				}
				// Small answers reuse the one kept connection; each large
				// one (the log search, a refreshed capabilities, triggers or
				// users answer) has a connection of its own.
				if large := largeAnswers(r.byPath); r.unauthorized > 0 || r.connections != large {
					t.Errorf("warm probe at +%v: %d 401 answers and %d new connections; want none and %d (one per large answer: %v)",
						countSteps[i+1], r.unauthorized, r.connections, large, r.byPath)
				}
			}
		}
	}
	t.Log("device requests per probe, the credential check (userCheck) included:\n" + b.String())
}

// largeAnswers counts the requests for endpoints the exporter declares
// large (isapi.Endpoint.LargeAnswer, and the log search).
func largeAnswers(byPath map[string]int) int {
	n := 0
	for _, p := range []string{
		"GET " + isapi.PathSystemCapabilities, "GET " + isapi.PathEventTriggers, "GET " + isapi.PathUsers,
		"GET " + isapi.PathInputProxyChannels, "GET " + isapi.PathInputProxyChannelStatus, "POST " + isapi.PathLogSearch,
	} {
		n += byPath[p]
	}
	return n
}
