package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	fleetDevices   = flag.Int("fleet.devices", 10, "simulated devices in the fleet benchmark")
	fleetInterval  = flag.Duration("fleet.interval", 2*time.Second, "scrape interval: every device is probed once per interval")
	fleetLatency   = flag.Duration("fleet.latency", 2*time.Millisecond, "latency the simulator adds to every request (L)")
	fleetWarmup    = flag.Duration("fleet.warmup", 0, "unmeasured warm-up (0: one interval)")
	fleetDuration  = flag.Duration("fleet.duration", 2*time.Second, "measured window of the exporter")
	fleetNaive     = flag.Duration("fleet.naive-duration", 2*time.Second, "measured window of the naive prober (0: skip it)")
	fleetPerChild  = flag.Int("fleet.per-child", 1000, "simulated devices per simulator process")
	fleetMaxConc   = flag.Int("fleet.max-concurrent", 0, "module max_concurrent_requests (0: the default)")
	fleetTimeout   = flag.Duration("fleet.scrape-timeout", 10*time.Second, "X-Prometheus-Scrape-Timeout-Seconds sent with every probe")
	fleetCPUProf   = flag.String("fleet.cpuprofile", "", "write the exporter's CPU profile over the measured window to this file")
	fleetMemProf   = flag.String("fleet.memprofile", "", "write the exporter's heap profile after the measured window to this file")
	fleetJSON      = flag.String("fleet.json", "", "write the full result as JSON to this file")
	fleetModuleYML = flag.String("fleet.module", "", "extra module settings, YAML lines separated by ';' (e.g. 'cache_ttl: 1m')")
	fleetScheme    = flag.String("fleet.scheme", "http", "how the simulated devices serve: http, or https (each device its own self-signed certificate, even devices TLS 1.2, odd 1.3)")
	fleetTrust     = flag.String("fleet.tls", TrustCAFile, "trust over https: "+TrustCAFile+" (one ca_file with every device's certificate) or "+TrustInsecure+" (insecure_skip_verify)")
)

// TestFleet is the fleet benchmark. Without flags it is a smoke run that
// checks only that every probe, the exporter's and the naive prober's,
// answered hikvision_up 1; it asserts nothing about time.
func TestFleet(t *testing.T) {
	runFleetTest(t, fleetConfig(t), *fleetJSON)
}

// TestFleetHTTPS is TestFleet's smoke run over HTTPS, the devices trusted
// through one ca_file (or as -fleet.tls says), so that a run without flags
// covers TLS too. A run that sets -fleet.devices is a measurement, which
// TestFleet alone makes, over -fleet.scheme.
func TestFleetHTTPS(t *testing.T) {
	if flagSet("fleet.devices") {
		t.Skip("-fleet.devices is set: TestFleet alone runs, over -fleet.scheme")
	}
	fc := fleetConfig(t)
	fc.Scheme, fc.TLSTrust = "https", *fleetTrust
	fc.CPUProfile, fc.MemProfile = "", "" // TestFleet's, not overwritten
	runFleetTest(t, fc, "")
}

// flagSet reports whether the flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// fleetConfig is the run the -fleet.* flags ask for.
func fleetConfig(t *testing.T) FleetConfig {
	fc := FleetConfig{
		Devices: *fleetDevices, Scheme: *fleetScheme, TLSTrust: *fleetTrust, PerChild: *fleetPerChild,
		Interval: *fleetInterval, Latency: *fleetLatency,
		Warmup: *fleetWarmup, Duration: *fleetDuration, NaiveDuration: *fleetNaive,
		ScrapeTimeout: *fleetTimeout, MaxConcurrent: *fleetMaxConc,
		CPUProfile: *fleetCPUProf, MemProfile: *fleetMemProf,
		Logf: func(format string, args ...any) {
			t.Logf("%s "+format, append([]any{time.Now().Format("15:04:05")}, args...)...)
		},
	}
	if fc.Warmup <= 0 {
		fc.Warmup = fc.Interval
	}
	for _, line := range strings.Split(*fleetModuleYML, ";") {
		if line = strings.TrimSpace(line); line != "" {
			fc.ModuleExtra += "    " + line + "\n"
		}
	}
	return fc
}

// runFleetTest runs fc, writes the result as JSON to jsonFile if set, logs
// the report and checks every probe answered hikvision_up 1.
func runFleetTest(t *testing.T, fc FleetConfig, jsonFile string) {
	t.Helper()
	var out *os.File // opened first: a large fleet may use every file descriptor
	if jsonFile != "" {
		var err error
		if out, err = os.Create(jsonFile); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
	}
	// Stop the run short of go test's -timeout, so that a run too long
	// for it ends with an error instead of a panic and orphaned children.
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	res, err := RunFleet(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			t.Error(err)
		}
	}
	t.Log("\n" + Report(res))
	for _, p := range []*PhaseResult{&res.Exporter, res.Naive} {
		if p == nil {
			continue
		}
		if p.Probes == 0 || p.Failed > 0 || p.NotUp > 0 || p.WarmFailed > 0 {
			t.Errorf("%s: %d probes, %d failed, %d not up, %d warm-up probes failed or not up; first failures: %q, in the warm-up: %q",
				p.Mode, p.Probes, p.Failed, p.NotUp, p.WarmFailed, p.Errors, p.WarmErrors)
		}
	}
	if n := res.Exporter.LogErrors; n > 0 {
		t.Logf("the exporter logged %d warnings or errors in the window", n)
	}
	if len(res.Exporter.FirstLogErrors) > 0 {
		t.Logf("the exporter's first warnings or errors of the run: %q", res.Exporter.FirstLogErrors)
	}
}

// Report renders a run as the Markdown of BENCHMARKS.md.
func Report(r *FleetResult) string {
	var b strings.Builder
	fc := r.Config
	scheme := fc.Scheme
	if scheme == "https" {
		scheme += " (trust " + fc.TLSTrust + ", even devices TLS 1.2, odd 1.3)"
	}
	fmt.Fprintf(&b, "devices %d over %s, interval %v, L %v, warm-up %v, window %v (naive %v), RLIMIT_NOFILE %d\n\n",
		fc.Devices, scheme, fc.Interval, fc.Latency, fc.Warmup, fc.Duration, fc.NaiveDuration, r.FileLimit)
	b.WriteString("| mode | probes | probes/s | p50 | p99 | max | CPU/probe | cores | heap/device | RSS | dev req/probe | 401/probe | new conn/probe | max dev in-flight |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	row := func(p *PhaseResult) {
		fmt.Fprintf(&b, "| %s | %d | %.1f | %v | %v | %v | %v | %.3f | %.1f KiB | %.0f MiB | %.2f | %.3f | %.3f | %d |\n",
			p.Mode, p.Probes, p.ProbesPerSec, ms(p.P50), ms(p.P99), ms(p.Max), p.CPUPerProbe.Round(time.Microsecond),
			p.Cores, float64(p.HeapPerDevice)/1024, float64(p.RSS)/(1<<20), p.Requests, p.Unauthorized, p.Connections, p.MaxDeviceInFlight)
	}
	row(&r.Exporter)
	if r.Naive != nil {
		row(r.Naive)
		e, n := &r.Exporter, r.Naive
		fmt.Fprintf(&b, "\nnaive / exporter: p50 %.1fx, p99 %.1fx, CPU per probe %.1fx, device requests per probe %.1fx\n",
			ratio(n.P50, e.P50), ratio(n.P99, e.P99), ratio(n.CPUPerProbe, e.CPUPerProbe), n.Requests/max(e.Requests, 1e-9))
	}
	p := &r.Exporter
	for _, p := range []*PhaseResult{&r.Exporter, r.Naive} {
		if p != nil {
			fmt.Fprintf(&b, "\n%s window: machine busy %.2f cores: exporter %.2f, simulators %.2f, the rest (load generator, other processes) %.2f",
				p.Mode, p.MachineCores, p.Cores, p.SimCPU.Seconds()/max(p.Window.Seconds(), 1e-9), p.MachineCores-p.Cores-p.SimCPU.Seconds()/max(p.Window.Seconds(), 1e-9))
		}
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "\nexporter: heap in use %.1f MiB over baseline, stacks %.1f MiB, Go runtime total %.0f MiB, RSS %.0f MiB (peak %.0f MiB), %d goroutines, %d open files, simulator CPU %v/probe, outcomes %v\n",
		float64(p.HeapInuse)/(1<<20), float64(p.StackInuse)/(1<<20), float64(p.RuntimeSys)/(1<<20), float64(p.RSS)/(1<<20), float64(p.PeakRSS)/(1<<20), p.Goroutines, p.OpenFiles,
		(p.SimCPU / time.Duration(max(p.Probes, 1))).Round(time.Microsecond), p.Outcomes)
	keys := make([]string, 0, len(p.ByPath))
	for k := range p.ByPath {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString("exporter device requests per probe by endpoint:")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%.3f", k, p.ByPath[k])
	}
	b.WriteString("\n")
	if len(r.NaiveEndpoints) > 0 {
		fmt.Fprintf(&b, "naive endpoints (%d): %s\n", len(r.NaiveEndpoints), strings.Join(r.NaiveEndpoints, ", "))
	}
	return b.String()
}
