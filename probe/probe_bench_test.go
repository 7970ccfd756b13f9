package probe_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/bench"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/probe"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// benchLatency is L, the latency the simulator adds to every request in the
// latency benchmarks; the target for a warm probe with every
// collector on is at most 3·L plus a few milliseconds.
const benchLatency = 20 * time.Millisecond

// startBenchmark starts one simulated device (the fleet benchmark's device 0)
// with latency l and a /probe handler with every collector, and makes one
// cold probe so that the benchmark loop measures warm ones.
func startBenchmark(b *testing.B, l time.Duration) (*probe.Handler, *simulator.Device) {
	b.Helper()
	d := simulator.Start(b, bench.DeviceProfile(0, time.Now()))
	d.SetLatency(l)
	cfg, err := config.Parse(fmt.Appendf(nil,
		"modules:\n  default:\n    username: %s\n    password: %q\n    scheme: http\ndevices:\n  - name: dev\n    address: %s\n",
		bench.Username, bench.Password, d.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	h := probe.NewHandler(probe.HandlerOptions{
		Config:   func() *config.Config { return cfg },
		Logger:   slog.New(slog.DiscardHandler),
		Resolver: net.DefaultResolver, TimeoutOffset: 500 * time.Millisecond,
		Registerer: prometheus.NewRegistry(),
	})
	probeOnce(b, h)
	return h, d
}

// probeOnce runs one probe through the handler as Prometheus would ask for it.
func probeOnce(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/probe?target=dev", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("probe: HTTP %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Encoding") == "" && !strings.Contains(rec.Body.String(), "\nhikvision_up 1\n") {
		b.Fatalf("probe: not up:\n%s", rec.Body)
	}
}

// probeLoop runs b.N warm probes and reports what they cost the device.
func probeLoop(b *testing.B, h http.Handler, d *simulator.Device, l time.Duration) {
	d.ResetStats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		probeOnce(b, h)
	}
	b.StopTimer()
	s := d.Stats()
	n := float64(b.N)
	b.ReportMetric(float64(s.Requests)/n, "dev-req/op")
	b.ReportMetric(float64(s.Unauthorized)/n, "401/op")
	b.ReportMetric(float64(s.Connections)/n, "new-conns/op")
	if l > 0 {
		b.ReportMetric(float64(b.Elapsed())/n/float64(l), "L/op")
	}
}

// BenchmarkProbe is a whole warm probe with every collector through the
// /probe handler against one simulated device, without latency (the
// exporter's own cost: CPU and allocations) and with L = 20ms.
func BenchmarkProbe(b *testing.B) {
	for _, l := range []time.Duration{0, benchLatency} {
		b.Run(fmt.Sprintf("latency=%v", l), func(b *testing.B) {
			h, d := startBenchmark(b, l)
			probeLoop(b, h, d, l)
		})
	}
}

// BenchmarkWarmProbeLatency is the single-probe latency the 3·L
// target is about: a warm probe with every collector at the default
// max_concurrent_requests, L = 20ms. Read ns/op (and L/op, the same in
// multiples of L); nothing is asserted.
func BenchmarkWarmProbeLatency(b *testing.B) {
	h, d := startBenchmark(b, benchLatency)
	probeLoop(b, h, d, benchLatency)
}
