package probe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// DefaultMaxInFlight is how many probes are served at once across all
// devices by default (--probe.max-concurrent).
const DefaultMaxInFlight = 512

// HandlerOptions configures the /probe handler.
type HandlerOptions struct {
	Config        func() *config.Config
	Logger        *slog.Logger
	Resolver      config.Resolver
	TimeoutOffset time.Duration
	MaxInFlight   int                   // exporter-wide probes at once; more wait, then get 503 (see admit); default DefaultMaxInFlight
	Registerer    prometheus.Registerer // for the exporter's own metrics
	Now           func() time.Time      // for tests; time.Now by default
	// StoragePath is where hold-offs and log cursors are kept across
	// restarts; empty runs without persistence.
	StoragePath string
}

// Handler serves /probe.
type Handler struct {
	opts     HandlerOptions
	prober   *prober
	persist  *persister
	inFlight chan struct{}
	probes   *prometheus.CounterVec
	history  history
}

// NewHandler builds the /probe handler and registers its counters.
func NewHandler(o HandlerOptions) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	ledger := isapi.NewLedger(o.Now)
	pl := newPool(o.Now, ledger, o.Resolver)
	h := &Handler{
		opts:     o,
		prober:   &prober{pool: pl, logger: o.Logger, now: o.Now},
		persist:  startPersister(o.StoragePath, ledger, pl, o.Logger),
		inFlight: make(chan struct{}, o.MaxInFlight),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hikvision", Subsystem: "exporter", Name: "probes_total",
			Help: "Probes served, by outcome: success, partial (a collector failed), warming (a collector's first read still under way), down, rejected (credentials rejected or holding off), bad_request, overloaded.",
		}, []string{"outcome"}),
	}
	for _, oc := range []string{"success", "partial", "warming", "down", "rejected", "bad_request", "overloaded"} {
		h.probes.WithLabelValues(oc)
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(h.probes)
		o.Registerer.MustRegister(deviceRequests(&pl.requests)...)
	}
	return h
}

// deviceRequests exposes what the exporter asks of the devices, so that an
// operator sees the load it puts on the cameras and how much of it is the
// background refresh that probes do not wait for.
func deviceRequests(n *isapi.RequestCounts) []prometheus.Collector {
	const help = "HTTP requests sent to devices, 401 round trips included, by kind: probe (what probes wait for), refresh (background cache refreshes between probes)."
	counter := func(kind string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "hikvision", Subsystem: "exporter", Name: "device_requests_total",
			Help: help, ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{counter("probe", &n.Probe), counter("refresh", &n.Refresh)}
}

// Close saves the persisted state and closes every device client. Probes
// still running finish on their own; call it after the server stopped.
func (h *Handler) Close() {
	h.persist.close()
	h.prober.pool.close()
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	pr, err := h.parse(r)
	if err != nil {
		h.refuse(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), pr.timeout)
	defer cancel()
	if !h.admit(ctx, pr.timeout) {
		h.probes.WithLabelValues("overloaded").Inc()
		http.Error(w, "too many probes in flight for half the probe's timeout; try again later", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-h.inFlight }()
	var tr *isapi.Trace
	if pr.debug {
		tr = isapi.NewTrace(start)
		ctx = isapi.WithTrace(ctx, tr)
	}
	t := pr.target
	logger := h.opts.Logger.With("target", t.Name, "module", t.ModuleName)
	logger.Debug("Probe starting", "address", t.Address, "timeout", pr.timeout)
	res := h.prober.probe(ctx, pr.cfg, t, logger, tr)
	defer res.done() // after the answer is written
	h.respond(w, r, pr, start, res, tr, logger)
}

// admit takes one of the --probe.max-concurrent slots. A probe that finds
// them all taken waits in line for up to half its timeout rather than being
// refused at once: after a restart, a fleet's first probes are slow and
// bunch up, and a scrape that waits a little still succeeds. Past that, it
// is refused (503), keeping half its time for the device.
func (h *Handler) admit(ctx context.Context, timeout time.Duration) bool {
	select {
	case h.inFlight <- struct{}{}:
		return true
	default:
	}
	h.opts.Logger.Debug("Every probe slot is taken; waiting for one", "max_concurrent", cap(h.inFlight))
	wait := time.NewTimer(timeout / 2)
	defer wait.Stop()
	select {
	case h.inFlight <- struct{}{}:
		return true
	case <-wait.C:
	case <-ctx.Done():
	}
	return false
}

// respond counts and records the probe, and answers its metrics, or its
// debug report.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, pr probeRequest, start time.Time, res probeResult, tr *isapi.Trace, logger *slog.Logger) {
	h.probes.WithLabelValues(string(res.outcome)).Inc()
	elapsed := time.Since(start)
	var m collector.Metrics
	m.Gauge(probeDurationDesc, elapsed.Seconds())
	m.Gauge(probeTimeoutDesc, pr.timeout.Seconds())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.ConstMetrics(append(m.Out(), res.metrics...)))
	h.history.add(pr.target.Name, pr.target.ModuleName, Record{Time: start, Outcome: string(res.outcome), Duration: elapsed})
	logger.Debug("Probe done", "outcome", res.outcome, "duration", elapsed)
	if pr.debug {
		h.debug(w, pr, start, elapsed, res, tr, reg)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// probeRequest is a /probe query, checked.
type probeRequest struct {
	cfg     *config.Config
	target  *config.Target
	timeout time.Duration
	debug   bool
}

// parse checks the query and the scrape-timeout header; its errors are 400s.
func (h *Handler) parse(r *http.Request) (probeRequest, error) {
	q := r.URL.Query()
	target, err := single(q["target"], "target", true)
	if err != nil {
		return probeRequest{}, err
	}
	module, err := single(q["module"], "module", false)
	if err != nil {
		return probeRequest{}, err
	}
	debug, err := debugParam(q["debug"])
	if err != nil {
		return probeRequest{}, err
	}
	cfg := h.opts.Config()
	t, err := cfg.Resolve(r.Context(), h.opts.Resolver, target, module)
	if err != nil {
		return probeRequest{}, err
	}
	timeout, err := probeTimeout(r, h.opts.TimeoutOffset, time.Duration(t.Module.Timeout))
	if err != nil {
		return probeRequest{}, err
	}
	return probeRequest{cfg: cfg, target: t, timeout: timeout, debug: debug}, nil
}

// debug answers a debug probe with its report. A debug probe that joined
// another's collection reports that one's trace.
func (h *Handler) debug(w http.ResponseWriter, pr probeRequest, start time.Time, elapsed time.Duration, res probeResult, own *isapi.Trace, reg prometheus.Gatherer) {
	tr := res.trace
	if tr == nil {
		tr = own
	}
	tr.Close() // what the client records from now on is background work
	writeDebug(w, debugReport{target: pr.target, start: start, duration: elapsed, timeout: pr.timeout, res: res, trace: tr, reg: reg})
}

func (h *Handler) refuse(w http.ResponseWriter, err error) {
	h.probes.WithLabelValues("bad_request").Inc()
	h.opts.Logger.Debug("Probe refused", "err", err)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// single returns a query parameter that must appear at most once.
func single(vals []string, name string, required bool) (string, error) {
	switch {
	case len(vals) > 1:
		return "", fmt.Errorf("parameter %q given %d times; give it once", name, len(vals))
	case len(vals) == 0 || vals[0] == "":
		if required {
			return "", fmt.Errorf("parameter %q is missing", name)
		}
		return "", nil
	}
	return vals[0], nil
}

// probeTimeout takes Prometheus' scrape timeout minus the offset, capped by
// the module timeout, which alone applies when the header is absent.
func probeTimeout(r *http.Request, offset, moduleTimeout time.Duration) (time.Duration, error) {
	v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if v == "" {
		return moduleTimeout, nil
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || !(secs > 0 && secs <= 1e6) {
		return 0, fmt.Errorf("header X-Prometheus-Scrape-Timeout-Seconds: %q is not a positive number of seconds", v)
	}
	t := time.Duration(secs * float64(time.Second))
	if t > offset {
		t -= offset
	}
	return min(t, moduleTimeout), nil
}

// WarnDuplicates logs configured devices that reach the same device
// account under different names (say 127.0.0.1 and localhost): they share
// one lockout budget, and the device is probed twice as often.
func (h *Handler) WarnDuplicates(ctx context.Context, cfg *config.Config) {
	seen := map[isapi.Account]string{}
	for _, d := range cfg.Devices {
		t, err := cfg.Resolve(ctx, nil, d.Name, "")
		if err != nil {
			continue
		}
		for _, a := range h.prober.pool.accounts(ctx, t) {
			if other, dup := seen[a]; dup && other != d.Name {
				h.opts.Logger.Warn("Two configured devices reach the same device account; they share one lockout budget",
					"device", d.Name, "same_as", other, "endpoint", a.Endpoint, "user", a.User)
				break
			}
			seen[a] = d.Name
		}
	}
}
