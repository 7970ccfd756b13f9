package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/probe"
)

// Trust of a fleet run over HTTPS (FleetConfig.TLSTrust).
const (
	// TrustCAFile trusts every device's self-signed certificate through one
	// ca_file holding them all, as an operator pinning a fleet would.
	TrustCAFile = "ca_file"
	// TrustInsecure skips verification (insecure_skip_verify).
	TrustInsecure = "insecure"
)

// FleetConfig is one fleet run.
type FleetConfig struct {
	Devices int
	// Scheme is how the devices serve, "http" (the default) or "https":
	// each device then has its own self-signed certificate, even devices
	// offer TLS up to 1.2 and odd ones up to 1.3.
	Scheme string
	// TLSTrust is how the exporter and the naive prober trust the devices
	// over HTTPS: TrustCAFile (the default) or TrustInsecure.
	TLSTrust      string
	PerChild      int           // devices per simulator process
	Interval      time.Duration // every device is probed once per interval
	Latency       time.Duration // added by the simulator to every request
	Warmup        time.Duration // probes not measured; at least one interval
	Duration      time.Duration // measured window of the exporter
	NaiveDuration time.Duration // measured window of the naive prober; 0 skips it
	ScrapeTimeout time.Duration
	MaxConcurrent int                              // module max_concurrent_requests; 0 = default
	ModuleExtra   string                           // more YAML lines for the module, indented by four spaces
	CPUProfile    string                           // exporter CPU profile over the measured window
	MemProfile    string                           // exporter heap profile after the measured window
	Logf          func(format string, args ...any) `json:"-"`
}

// PhaseResult is one measured window, exporter or naive.
type PhaseResult struct {
	Mode string
	LoadResult
	ProbesPerSec float64
	CPU          time.Duration // exporter process CPU over the window
	CPUPerProbe  time.Duration
	Cores        float64 // CPU / window
	SimCPU       time.Duration
	// MachineCores is how busy the whole machine was over the window, in
	// cores: exporter, simulators, load generator and anything else running.
	MachineCores float64
	// Device side, per probe.
	Requests, Unauthorized, Connections, FailedLogins float64
	ByPath                                            map[string]float64
	MaxDeviceInFlight                                 int
	// Exporter memory after the window (after a GC).
	HeapInuse, HeapPerDevice uint64 // heap in use minus the pre-run baseline
	RSS, PeakRSS             uint64
	StackInuse, RuntimeSys   uint64 // goroutine stacks; everything the Go runtime has from the OS
	Goroutines, OpenFiles    int
	Outcomes                 map[string]float64 // hikvision_exporter_probes_total in the window
	LogErrors                int                // warnings and errors the exporter logged in the window
	FirstLogErrors           []string
}

// FleetResult is a whole run.
type FleetResult struct {
	Config         FleetConfig
	FileLimit      uint64
	CAFile         string `json:",omitempty"` // the module's ca_file (removed after the run)
	CAFileBytes    int64  `json:",omitempty"` // its size: every device's certificate
	Exporter       PhaseResult
	Naive          *PhaseResult
	NaiveEndpoints []string
}

// RunFleet starts the simulator fleet, the exporter and the load
// generator, measures the exporter, then the naive prober on the same
// devices.
func RunFleet(ctx context.Context, fc FleetConfig) (*FleetResult, error) {
	if fc.Logf == nil {
		fc.Logf = func(string, ...any) {}
	}
	if fc.PerChild <= 0 {
		fc.PerChild = 1000
	}
	if fc.ScrapeTimeout <= 0 {
		fc.ScrapeTimeout = 10 * time.Second
	}
	if fc.Scheme == "" {
		fc.Scheme = "http"
	}
	switch {
	case fc.Scheme == "http":
		fc.TLSTrust = ""
	case fc.Scheme != "https":
		return nil, fmt.Errorf("scheme %q: want http or https", fc.Scheme)
	case fc.TLSTrust == "":
		fc.TLSTrust = TrustCAFile
	case fc.TLSTrust != TrustCAFile && fc.TLSTrust != TrustInsecure:
		return nil, fmt.Errorf("TLS trust %q: want %s or %s", fc.TLSTrust, TrustCAFile, TrustInsecure)
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, fmt.Errorf("raising RLIMIT_NOFILE: %w", err)
	}
	res := &FleetResult{Config: fc, FileLimit: limit}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	var certDir string
	if fc.Scheme == "https" {
		if certDir, err = os.MkdirTemp("", "hikbench-tls-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(certDir)
		if certDir, err = filepath.Abs(certDir); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	sims, err := startSimFleet(fc.Devices, fc.PerChild, fc.Latency, certDir)
	if err != nil {
		return nil, err
	}
	defer sims.close()
	addrs := sims.addrs(fc.Devices)
	fc.Logf("started %d simulated %s devices in %d processes in %v", fc.Devices, fc.Scheme, len(sims), time.Since(t0).Round(time.Millisecond))
	var naiveTLS *tls.Config
	if certDir != "" {
		if res.CAFile, err = sims.caFile(certDir); err != nil {
			return nil, fmt.Errorf("fleet CA file: %w", err)
		}
		if naiveTLS, err = fleetTLS(fc.TLSTrust, res.CAFile); err != nil {
			return nil, err
		}
		if st, err := os.Stat(res.CAFile); err == nil {
			res.CAFileBytes = st.Size()
		}
	}

	cfg, err := config.Parse([]byte(fleetYAML(fc, addrs, res.CAFile)))
	if err != nil {
		return nil, fmt.Errorf("fleet config: %w", err)
	}
	logs := newCountingHandler()
	reg := prometheus.NewRegistry()
	probe := probe.NewHandler(probe.HandlerOptions{
		Config: func() *config.Config { return cfg }, Logger: slog.New(logs),
		Resolver: net.DefaultResolver, TimeoutOffset: 500 * time.Millisecond,
		MaxInFlight: 512, Registerer: reg,
	})
	targets := make(map[string]string, fc.Devices)
	for i, a := range addrs {
		targets[DeviceName(i)] = a
	}
	naive := &NaiveProber{Targets: targets, Username: Username, Password: Password,
		Endpoints: NaiveEndpoints, Timeout: fc.ScrapeTimeout, TLS: naiveTLS}
	mux := http.NewServeMux()
	mux.Handle("/probe", probe)
	mux.Handle("/naive", naive)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with ErrServerClosed at Close
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	// Profile files are opened now: at the end of a window a large fleet
	// may have used every file descriptor the process has.
	var cpuProf, memProf *os.File
	if fc.CPUProfile != "" {
		if cpuProf, err = os.Create(fc.CPUProfile); err != nil {
			return nil, err
		}
	}
	if fc.MemProfile != "" {
		if memProf, err = os.Create(fc.MemProfile); err != nil {
			return nil, err
		}
		defer memProf.Close()
	}

	// The exporter.
	var (
		startCPU      time.Duration
		startBusy     time.Duration
		startOutcomes map[string]float64
		startLogs     int
		phaseErr      error
		mu            sync.Mutex
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		phaseErr = errors.Join(phaseErr, err)
	}
	ph := PhaseResult{Mode: "exporter"}
	var startSim, endSim SimStats // the simulators' counters restart at the window, their CPU does not
	// endPhase reads what the simulators did over a measured phase.
	endPhase := func() {
		var err error
		if endSim, err = sims.stats(); err != nil {
			fail(err)
		}
		endSim.CPU -= startSim.CPU
	}
	load, err := runLoad(ctx, LoadSpec{URL: url, Path: "/probe", Devices: fc.Devices, Interval: fc.Interval,
		Warmup: fc.Warmup, Duration: fc.Duration, ScrapeTimeout: fc.ScrapeTimeout, SlowOver: 3*fc.Latency + 50*time.Millisecond},
		func() {
			fc.Logf("exporter: warm-up done, measuring for %v", fc.Duration)
			// What a cold probe asked for is what the naive prober fetches.
			var err error
			if startSim, err = sims.stats(); err != nil {
				fail(err)
			}
			if paths := startSim.paths(); len(paths) > 0 {
				res.NaiveEndpoints = orderEndpoints(paths)
			}
			if err := sims.each("reset"); err != nil {
				fail(err)
			}
			startOutcomes, startLogs = outcomes(reg), logs.count()
			if cpuProf != nil {
				if err := pprof.StartCPUProfile(cpuProf); err != nil {
					fc.Logf("no CPU profile: %v", err)
					cpuProf = nil
				}
			}
			startCPU, startBusy = selfCPU(), machineBusy()
		},
		func() {
			ph.CPU = selfCPU() - startCPU
			ph.MachineCores = (machineBusy() - startBusy).Seconds()
			if cpuProf != nil {
				pprof.StopCPUProfile()
				cpuProf.Close()
			}
			endPhase()
		})
	if err := errors.Join(err, phaseErr); err != nil {
		return nil, err
	}
	ph.LoadResult = load
	ph.finish(fc, endSim)
	ph.Outcomes = sub(outcomes(reg), startOutcomes)
	ph.LogErrors = logs.count() - startLogs
	ph.FirstLogErrors = logs.first()
	memory(&ph, base, fc.Devices)
	if memProf != nil {
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(memProf, 0); err != nil {
			fc.Logf("no heap profile: %v", err)
		}
	}
	res.Exporter = ph
	fc.Logf("exporter: %s", ph.Summary())

	if fc.NaiveDuration <= 0 {
		return res, nil
	}
	if len(res.NaiveEndpoints) > 0 {
		naive.SetEndpoints(res.NaiveEndpoints)
	}
	fc.Logf("naive: fetching %d endpoints per probe, measuring for %v", len(naive.endpoints()), fc.NaiveDuration)
	nph := PhaseResult{Mode: "naive"}
	load, err = runLoad(ctx, LoadSpec{URL: url, Path: "/naive", Devices: fc.Devices, Interval: fc.Interval,
		Duration: fc.NaiveDuration, ScrapeTimeout: fc.ScrapeTimeout},
		func() {
			var err error
			if startSim, err = sims.stats(); err != nil {
				fail(err)
			}
			if err := sims.each("reset"); err != nil {
				fail(err)
			}
			startCPU, startBusy = selfCPU(), machineBusy()
		},
		func() {
			nph.CPU = selfCPU() - startCPU
			nph.MachineCores = (machineBusy() - startBusy).Seconds()
			endPhase()
		})
	if err := errors.Join(err, phaseErr); err != nil {
		return nil, err
	}
	nph.LoadResult = load
	nph.finish(fc, endSim)
	memory(&nph, base, fc.Devices)
	res.Naive = &nph
	fc.Logf("naive: %s", nph.Summary())
	return res, nil
}

func (p *PhaseResult) finish(_ FleetConfig, s SimStats) {
	n := float64(max(p.Probes, 1))
	if p.Window > 0 {
		p.ProbesPerSec = float64(p.Probes) / p.Window.Seconds()
		p.Cores = p.CPU.Seconds() / p.Window.Seconds()
	}
	p.CPUPerProbe = p.CPU / time.Duration(max(p.Probes, 1))
	p.SimCPU = s.CPU
	if p.Window > 0 {
		p.MachineCores /= p.Window.Seconds()
	}
	p.Requests = float64(s.Requests) / n
	p.Unauthorized = float64(s.Unauthorized) / n
	p.Connections = float64(s.Connections) / n
	p.FailedLogins = float64(s.FailedLogins) / n
	p.MaxDeviceInFlight = s.MaxInFlight
	p.ByPath = map[string]float64{}
	for k, v := range s.ByPath {
		p.ByPath[k] = float64(v) / n
	}
}

// Summary is a one-line report of the phase.
func (p *PhaseResult) Summary() string {
	return fmt.Sprintf("%d probes (%d failed, %d not up) in %v: %.1f probes/s, p50 %v p99 %v max %v, CPU %v/probe (%.2f cores), "+
		"%.2f device requests/probe (%.3f 401s, %.3f new connections), heap %.1f KiB/device, RSS %.0f MiB, %d open files",
		p.Probes, p.Failed, p.NotUp, p.Window.Round(time.Millisecond), p.ProbesPerSec,
		p.P50.Round(100*time.Microsecond), p.P99.Round(100*time.Microsecond), p.Max.Round(100*time.Microsecond),
		p.CPUPerProbe.Round(time.Microsecond), p.Cores, p.Requests, p.Unauthorized, p.Connections,
		float64(p.HeapPerDevice)/1024, float64(p.RSS)/(1<<20), p.OpenFiles)
}

func memory(p *PhaseResult, base runtime.MemStats, devices int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > base.HeapInuse {
		p.HeapInuse = ms.HeapInuse - base.HeapInuse
	}
	p.HeapPerDevice = p.HeapInuse / uint64(max(devices, 1))
	p.StackInuse, p.RuntimeSys = ms.StackInuse, ms.Sys
	p.RSS, p.PeakRSS = procStatus("VmRSS"), procStatus("VmHWM")
	p.Goroutines = runtime.NumGoroutine()
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.OpenFiles = len(fds)
	}
}

// machineBusy is the CPU time all processes have used since boot
// (/proc/stat: everything but idle and iowait).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy uint64
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is in user already
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// fleetYAML is one module and every device, as an operator would write it.
// Over HTTPS with TrustCAFile the module trusts caFile, an absolute path.
func fleetYAML(fc FleetConfig, addrs []string, caFile string) string {
	var b strings.Builder
	b.WriteString("modules:\n  default:\n")
	fmt.Fprintf(&b, "    username: %s\n    password: %q\n    scheme: %s\n    timeout: 10s\n", Username, Password, fc.Scheme)
	switch {
	case fc.Scheme != "https":
	case fc.TLSTrust == TrustInsecure:
		b.WriteString("    tls_config:\n      insecure_skip_verify: true\n")
	default:
		fmt.Fprintf(&b, "    tls_config:\n      ca_file: %q\n", caFile)
	}
	if fc.MaxConcurrent > 0 {
		fmt.Fprintf(&b, "    max_concurrent_requests: %d\n", fc.MaxConcurrent)
	}
	b.WriteString(fc.ModuleExtra)
	b.WriteString("devices:\n")
	for i, a := range addrs {
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n", DeviceName(i), a)
	}
	return b.String()
}

// fleetTLS is the naive prober's trust, the same as the exporter's module:
// every certificate in caFile, or none checked.
func fleetTLS(trust, caFile string) (*tls.Config, error) {
	if trust == TrustInsecure {
		return &tls.Config{InsecureSkipVerify: true}, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// orderEndpoints puts userCheck first, as the exporter and the naive prober check credentials first.
func orderEndpoints(paths []string) []string {
	out := slices.Clone(paths)
	slices.SortStableFunc(out, func(a, b string) int {
		ua, ub := strings.HasSuffix(a, "/userCheck"), strings.HasSuffix(b, "/userCheck")
		switch {
		case ua && !ub:
			return -1
		case ub && !ua:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// outcomes reads hikvision_exporter_probes_total by outcome.
func outcomes(reg prometheus.Gatherer) map[string]float64 {
	return counters(reg, "hikvision_exporter_probes_total", "outcome")
}

// counters reads the counter called name by the value of its label.
func counters(reg prometheus.Gatherer, name, label string) map[string]float64 {
	out := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

func sub(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// countingHandler is the exporter's logger in a run: it drops everything
// below Warn, as the default info level drops the per-probe debug lines,
// and counts the warnings and errors, keeping the first few.
type countingHandler struct {
	log   *logCount
	attrs []slog.Attr
}

type logCount struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func newCountingHandler() *countingHandler { return &countingHandler{log: &logCount{}} }

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	h.log.n++
	if len(h.log.lines) < 5 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
		for _, a := range h.attrs {
			fmt.Fprintf(&b, " %s", a)
		}
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		h.log.lines = append(h.log.lines, b.String())
	}
	return nil
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{log: h.log, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h *countingHandler) WithGroup(string) slog.Handler { return h }

func (h *countingHandler) count() int {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	return h.log.n
}

func (h *countingHandler) first() []string {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	return slices.Clone(h.log.lines)
}
