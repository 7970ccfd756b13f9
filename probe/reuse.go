package probe

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

var resultAgeDesc = collector.NewDesc("probe_result_age_seconds",
	"Age of the collection this probe answered with: 0 when the probe collected, else how long ago the reused collection started.")

// lastCollection is a State's most recent completed collection, kept for
// the module setting min_probe_interval: a probe that comes within it of
// the collection's start is answered with that result and costs the device
// nothing. A Prometheus HA pair, whose two servers probe every device once
// per interval each, then makes one collection per interval.
//
// A State is one device account, password and client settings, so a
// result is never reused across credentials. It is also reused only under
// the configuration and module it was collected with: a reload that keeps
// the State but changes, say, the collectors collects afresh.
type lastCollection struct {
	mu     sync.Mutex
	set    bool
	start  time.Time // when the collection started, on the prober's clock
	cfg    *config.Config
	module *config.Module
	res    probeResult // without release, client and trace
}

// remember keeps r, the result of a collection that started at start, as
// the State's last collection (unless a later-started one completed
// first), and returns r as this probe answers it: with
// hikvision_probe_result_age_seconds 0 when the module reuses results.
func (l *lastCollection) remember(cfg *config.Config, t *config.Target, start time.Time, r probeResult) probeResult {
	if t.Module.MinProbeInterval <= 0 {
		return r
	}
	kept := probeResult{metrics: slices.Clip(r.metrics), outcome: r.outcome, err: r.err, runs: r.runs}
	l.mu.Lock()
	if !l.set || !start.Before(l.start) {
		l.set, l.start, l.cfg, l.module, l.res = true, start, cfg, t.Module, kept
	}
	l.mu.Unlock()
	r.metrics = withAge(kept.metrics, 0)
	return r
}

// reused returns the State's last collection's result when it started
// less than the module's min_probe_interval before now, under the same
// configuration and module; the probe then makes no request. Every
// outcome is reused, down (a timeout included) and rejected too: keep it
// simple, since a device that timed out is the one whose load most needs
// sparing, and a rejected one is holding off anyway. A debug probe (tr not
// nil) always collects, to show its trace. A warming one is collected
// again (see outcomeWarming).
func (s *State) reused(cfg *config.Config, t *config.Target, now time.Time, tr *isapi.Trace, logger *slog.Logger) (probeResult, bool) {
	interval := time.Duration(t.Module.MinProbeInterval)
	if interval <= 0 || tr != nil {
		return probeResult{}, false
	}
	l := &s.last
	l.mu.Lock()
	set, start, sameConfig, res := l.set, l.start, l.cfg == cfg && l.module == t.Module, l.res
	l.mu.Unlock()
	age := now.Sub(start)
	// A warming result is not reused: its areas' first fetches are still
	// under way, and the probe that collects again joins them.
	if !set || !sameConfig || age < 0 || age >= interval || res.outcome == outcomeWarming {
		return probeResult{}, false
	}
	logger.Debug("Answering with the device's last collection", "age", age, "min_probe_interval", interval)
	res.metrics = withAge(res.metrics, age)
	res.client = s.client
	return res, true
}

// withAge returns metrics and hikvision_probe_result_age_seconds, in a new
// slice: metrics may be shared by the probes that reuse it.
func withAge(metrics []prometheus.Metric, age time.Duration) []prometheus.Metric {
	var m collector.Metrics
	m.Gauge(resultAgeDesc, age.Seconds())
	return append(slices.Clip(metrics), m.Out()...)
}
