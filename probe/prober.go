package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

var (
	upDesc = collector.NewDesc("up",
		"1 when the device answered and accepted the exporter's credentials, else 0.")
	authRejectedDesc = collector.NewDesc("auth_rejected",
		"1 while the exporter holds off because the device rejected its credentials or locked its account.")
	authRetryDesc = collector.NewDesc("auth_retry_timestamp_seconds",
		"When the exporter will next send credentials to a device that rejected them.")
	collectorSuccessDesc = collector.NewDesc("scrape_collector_success",
		"1 when a posture area was read, 0 when it failed or its first read is still under way (warming).", "collector")
	collectorDurationDesc = collector.NewDesc("scrape_collector_duration_seconds",
		"Time spent reading a posture area.", "collector")
	probeDurationDesc = collector.NewDesc("probe_duration_seconds",
		"Time the probe took, as seen by this request.")
	probeTimeoutDesc = collector.NewDesc("probe_timeout_seconds",
		"The deadline this probe had: the scrape timeout minus the offset, capped by the module timeout.")
)

// outcome classifies a probe for the exporter's own counters.
type outcome string

const (
	outcomeSuccess  outcome = "success"  // every collector succeeded
	outcomePartial  outcome = "partial"  // up, but a collector failed
	outcomeWarming  outcome = "warming"  // up, but a collector's first read was still under way
	outcomeDown     outcome = "down"     // the device did not answer properly
	outcomeRejected outcome = "rejected" // credentials rejected, or holding off
)

type probeResult struct {
	metrics []prometheus.Metric
	outcome outcome
	release func() // ends the probe's device session once the answer is written

	// What /probe?debug=true shows besides the metrics; kept on every
	// probe since it costs no allocation.
	err    error         // why the probe is down or rejected
	client *isapi.Client // the device's client; nil when none was set up
	runs   []collectorRun
	trace  *isapi.Trace // the collection's trace, shared by debug probes that joined it
}

// done ends the probe's session with the device, letting background
// cache refreshes run.
func (r probeResult) done() {
	if r.release != nil {
		r.release()
	}
}

// prober runs probes against devices, one collection per device at a time.
type prober struct {
	pool      *pool
	logger    *slog.Logger
	now       func() time.Time
	passwords passwordErrors
}

// probe collects one device. Concurrent probes of the same device and
// credentials share one collection instead of doubling the device's load;
// the shared run keeps the first caller's deadline.
//
// tr is the trace of a debug probe (also attached to ctx), else nil.
func (p *prober) probe(ctx context.Context, cfg *config.Config, t *config.Target, logger *slog.Logger, tr *isapi.Trace) probeResult {
	password, err := t.Module.ReadPassword()
	if err != nil {
		p.passwords.failed(logger, t.ModuleName, err)
		return down(fmt.Errorf("not contacting the device: %w", err))
	}
	p.passwords.read(logger, t.ModuleName)
	p.pool.observe(t, password)
	st, err := p.pool.get(ctx, t, password)
	if err != nil {
		logger.Error("Cannot set up a client for the device", "err", err)
		return down(fmt.Errorf("cannot set up a client for the device: %w", err))
	}
	if res, ok := st.reused(cfg, t, p.now(), tr, logger); ok { // min_probe_interval
		return res
	}
	// No background cache refresh of this device runs from here until the
	// answer is written (isapi.Client.Begin).
	end, err := st.client.Begin(ctx)
	if err != nil {
		logger.Debug("Device busy with a background refresh past the probe's deadline", "err", err)
		res := down(err)
		res.client = st.client
		return res
	}
	res := p.shared(ctx, cfg, t, st, password, logger, tr)
	res.release, res.client = end, st.client
	return res
}

// shared runs the collection, or joins one already running for the same
// device and credentials. A debug probe joins only another debug probe's
// collection, whose trace it then reports: an ordinary one records none.
func (p *prober) shared(ctx context.Context, cfg *config.Config, t *config.Target, st *State, password string, logger *slog.Logger, tr *isapi.Trace) probeResult {
	deadline, _ := ctx.Deadline()
	key := "probe"
	if tr != nil {
		key = "debug"
	}
	ch := st.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		defer cancel()
		start := p.now()
		r := st.last.remember(cfg, t, start, p.collect(fctx, cfg, t, st, password, logger))
		r.trace = tr
		return r, nil
	})
	select {
	case r := <-ch:
		return r.Val.(probeResult)
	case <-ctx.Done():
	}
	if tr != nil {
		// The collection has the same deadline and answers at once (a
		// credential check still out is left to the background): a debug
		// report waits for it a moment, to show what it recorded.
		select {
		case r := <-ch:
			return r.Val.(probeResult)
		case <-time.After(debugGrace):
		}
	}
	logger.Debug("Probe gave up waiting for a shared collection", "err", context.Cause(ctx))
	return down(fmt.Errorf("gave up waiting for a collection of the device already running: %w", context.Cause(ctx)))
}

// debugGrace is how long a debug probe waits past its deadline for its
// collection's result.
const debugGrace = 250 * time.Millisecond

// down is the answer of a probe that did not get through to the device;
// err says why, for the debug report.
func down(err error) probeResult {
	var m collector.Metrics
	m.Gauge(upDesc, 0)
	m.Gauge(authRejectedDesc, 0)
	return probeResult{metrics: m.Out(), outcome: outcomeDown, err: err}
}

func (p *prober) collect(ctx context.Context, cfg *config.Config, t *config.Target, st *State, password string, logger *slog.Logger) probeResult {
	var m collector.Metrics
	d := &collector.Probe{
		Target: t, Module: t.Module, Config: cfg, Client: st.client,
		Values: st.values, Logger: logger, Now: p.now(),
	}
	if until, cause, holding := st.client.HoldOff(); holding {
		logger.Debug("Holding off: the device rejected the credentials earlier, or is locked", "until", until)
		rejected(&m, d, until, cause)
		return probeResult{metrics: m.Out(), outcome: outcomeRejected, err: &isapi.HoldOffError{Until: until, Cause: cause}}
	}
	uc, err := checkCredentials(ctx, d)
	if err != nil {
		return p.failedCheck(d, st, err)
	}
	st.health.note(logger, stateUp, nil, time.Time{})
	d.UserCheck = uc
	d.PasswordChangedAt = p.pool.accepted(t, password)
	m.Gauge(upDesc, 1)
	m.Gauge(authRejectedDesc, 0)
	out := probeResult{outcome: outcomeSuccess, runs: p.runCollectors(ctx, d)}
	all := m.Out()
	for _, r := range out.runs {
		all = append(all, r.metrics...)
		switch {
		case r.err != nil && warming(r.err):
			logger.Debug("Collector warming: a first fetch goes on after the probe", "collector", r.name, "err", r.err)
			if out.outcome == outcomeSuccess {
				out.outcome = outcomeWarming
			}
		case r.err != nil:
			out.outcome = outcomePartial
			st.health.collector(logger, r.name, r.err)
		default:
			st.health.collector(logger, r.name, nil)
		}
	}
	out.metrics = collector.Dedupe(all)
	return out
}

// warming reports whether every error in err is a first fetch still under
// way at the deadline (isapi.FetchingError): the collector is not failing,
// its device's cache is filling (after a restart, at the pace of the
// exporter's first-fetch gate) and the next probe reads it.
func warming(err error) bool {
	// Each error of the tree is looked at, not the first match errors.As
	// would find: a failure next to a warming fetch is a failure.
	switch e := err.(type) { //nolint:errorlint // walks the wrapped errors itself
	case *isapi.FetchingError:
		return true
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if !warming(inner) {
				return false
			}
		}
		return len(e.Unwrap()) > 0
	case interface{ Unwrap() error }:
		return warming(e.Unwrap())
	}
	return false
}

// failedCheck turns a failed credential check into the probe's answer, and
// logs it when the device's state changed.
func (p *prober) failedCheck(d *collector.Probe, st *State, err error) probeResult {
	var m collector.Metrics
	var ae *isapi.AuthError
	var he *isapi.HoldOffError
	switch {
	case errors.As(err, &ae):
		until, _, _ := d.Client.HoldOff()
		state := stateRejected
		if ae.Locked.V {
			state = stateLocked
		}
		st.health.note(d.Logger, state, err, until)
		rejected(&m, d, until, ae)
		return probeResult{metrics: m.Out(), outcome: outcomeRejected, err: err}
	case errors.As(err, &he):
		rejected(&m, d, he.Until, he.Cause)
		return probeResult{metrics: m.Out(), outcome: outcomeRejected, err: err}
	}
	// A *isapi.PendingError (the check goes on in the background) is down
	// for this probe too; its outcome shows at the next one.
	st.health.note(d.Logger, stateDown, err, time.Time{})
	return down(fmt.Errorf("credential check: %w", err))
}

// checkCredentials makes the probe's one credentialed request before any
// fan-out, so that a wrong password costs the device one failed login, not
// one per endpoint. userCheck also carries the account's password state;
// firmware without it is checked with deviceInfo.
func checkCredentials(ctx context.Context, d *collector.Probe) (*isapi.UserCheck, error) {
	body, err := d.Client.CheckCredentials(ctx, isapi.PathUserCheck)
	if err == nil {
		var uc isapi.UserCheck
		if derr := isapi.Decode(body, &uc); derr == nil {
			if uc.Rejected() {
				ae := uc.AuthError()
				d.Client.Reject(ae)
				return nil, ae
			}
			return &uc, nil
		}
		// A 200 that is not a userCheck still proves the credentials.
		return nil, nil
	}
	var se *isapi.StatusError
	if !errors.As(err, &se) {
		return nil, err
	}
	// No usable userCheck: deviceInfo proves the credentials instead, and
	// its answer is kept for the device collector.
	body, err = d.Client.CheckCredentials(ctx, isapi.PathDeviceInfo)
	if err != nil {
		return nil, err
	}
	d.Client.Remember(isapi.PathDeviceInfo, body, time.Duration(d.Module.CacheTTL))
	return nil, nil
}

func rejected(m *collector.Metrics, d *collector.Probe, until time.Time, cause *isapi.AuthError) {
	m.Gauge(upDesc, 0)
	m.Gauge(authRejectedDesc, 1)
	if !until.IsZero() {
		m.Timestamp(authRetryDesc, until)
	}
	if d.Module.Enabled("account") && cause != nil {
		collector.LockMetrics(m, cause)
	}
}

type collectorRun struct {
	i        int
	name     string
	metrics  []prometheus.Metric
	err      error
	duration time.Duration
	finished bool // false: abandoned at the probe's deadline
}

// collectorMargin is the time kept between the collectors' deadline and
// the probe's: a collector that overruns (a hung endpoint) fails alone,
// and the probe still answers with everything else it read.
func collectorMargin(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return min(max(time.Until(dl)/10, 50*time.Millisecond), time.Second)
}

func (p *prober) runCollectors(ctx context.Context, d *collector.Probe) []collectorRun {
	names := d.Module.Collectors
	if len(names) == 0 {
		names = collector.Names()
	}
	margin := collectorMargin(ctx)
	cctx := ctx
	giveUp := ctx.Done()
	if margin > 0 {
		dl, _ := ctx.Deadline()
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
		// Wait half the margin past the collectors' deadline for them to
		// notice it, then answer without the ones that did not.
		wctx, stop := context.WithDeadline(ctx, dl.Add(-margin/2))
		defer stop()
		giveUp = wctx.Done()
	}
	done := make(chan collectorRun, len(names))
	for i, name := range names {
		go func() { done <- runCollector(cctx, d, i, name) }()
	}
	runs := make([]collectorRun, len(names))
	finished := make([]bool, len(names))
wait:
	for range names {
		select {
		case r := <-done:
			runs[r.i], finished[r.i] = r, true
		case <-giveUp:
			break wait
		}
	}
	for i, name := range names {
		if !finished[i] {
			runs[i] = unfinished(i, name)
		}
	}
	return runs
}

// runCollector runs one posture area. A name the registry does not know
// (a configuration loaded without collector.Names) fails, never skips.
func runCollector(ctx context.Context, d *collector.Probe, i int, name string) collectorRun {
	var m collector.Metrics
	start := time.Now()
	err := fmt.Errorf("unknown collector %q", name)
	if c, ok := collector.Lookup(name); ok {
		err = c.Collect(ctx, d, &m)
	}
	if err == nil {
		err = m.Err()
	}
	success := 1.0
	if err != nil {
		success = 0
	}
	elapsed := time.Since(start)
	m.Gauge(collectorSuccessDesc, success, name)
	m.Gauge(collectorDurationDesc, elapsed.Seconds(), name)
	return collectorRun{i: i, name: name, metrics: m.Out(), err: err, duration: elapsed, finished: true}
}

// unfinished reports a collector that ignored its deadline; its goroutine
// ends when its requests do, and what it collects is dropped.
func unfinished(i int, name string) collectorRun {
	err := fmt.Errorf("collector %s did not finish before the probe's deadline", name)
	var m collector.Metrics
	m.Gauge(collectorSuccessDesc, 0, name)
	return collectorRun{i: i, name: name, metrics: m.Out(), err: err}
}
