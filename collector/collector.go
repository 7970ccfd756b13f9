// Package collector turns ISAPI answers into Prometheus metrics. Each posture
// area is one collector in its own file; the prober runs the enabled ones
// after one credential check, concurrently, and a failing area never hides
// the others.
package collector

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

const namespace = "hikvision"

// Collector is one posture area.
type Collector interface {
	// Collect reads what it needs from the device and emits metrics. An
	// endpoint the device lacks is reported with m.Feature(name, false) and
	// is not an error; an error means the area could not be read.
	Collect(ctx context.Context, d *Probe, m *Metrics) error
}

var (
	registryMu sync.Mutex
	registry   = map[string]Collector{}
)

// registerCollector adds a posture area. The registry is the only list of
// collector names: configuration is validated against Names.
func registerCollector(name string, c Collector) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[name] = c
}

// Lookup returns the posture area registered under name.
func Lookup(name string) (Collector, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	c, ok := registry[name]
	return c, ok
}

// Names lists every registered posture area, sorted.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return slices.Sorted(maps.Keys(registry))
}

// Probe is what a collector sees of one probe: the device, its module and
// client, what the credential check found, and the values kept between probes.
type Probe struct {
	Target *config.Target
	Module *config.Module
	Config *config.Config
	Client *isapi.Client
	Values *Values
	Logger *slog.Logger
	Now    time.Time
	// UserCheck is the credential check's answer; nil when the device has
	// no userCheck endpoint and the check used deviceInfo instead.
	UserCheck *isapi.UserCheck
	// PasswordChangedAt is when the exporter saw its configured password
	// change to one the device accepted (zero when never seen).
	PasswordChangedAt time.Time
}

// Metrics collects the const metrics of one collector run.
type Metrics struct {
	mu  sync.Mutex
	out []prometheus.Metric
	err []error
}

func (m *Metrics) add(metric prometheus.Metric, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.err = append(m.err, err)
		return
	}
	m.out = append(m.out, metric)
}

// Out returns the metrics emitted so far.
func (m *Metrics) Out() []prometheus.Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out
}

// Err returns the errors of metrics that could not be built, joined.
func (m *Metrics) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.err...)
}

// Gauge emits a gauge.
func (m *Metrics) Gauge(d *prometheus.Desc, v float64, labels ...string) {
	m.add(prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...))
}

// Counter emits a counter.
func (m *Metrics) Counter(d *prometheus.Desc, v float64, labels ...string) {
	m.add(prometheus.NewConstMetric(d, prometheus.CounterValue, v, labels...))
}

// Bool emits 1 or 0 for a value the device sent, and nothing for one it did not.
func (m *Metrics) Bool(d *prometheus.Desc, b isapi.OptionalBool, labels ...string) {
	if b.Set {
		m.Gauge(d, boolFloat(b.V), labels...)
	}
}

// boolFloat is a gauge's 1 or 0 for a bool the exporter worked out itself.
func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Int emits an integer the device sent, and nothing for one it did not.
func (m *Metrics) Int(d *prometheus.Desc, i isapi.OptionalInt, labels ...string) {
	if i.Set {
		m.Gauge(d, float64(i.V), labels...)
	}
}

// Timestamp emits a point in time as Unix seconds.
func (m *Metrics) Timestamp(d *prometheus.Desc, t time.Time, labels ...string) {
	m.Gauge(d, float64(t.UnixNano())/1e9, labels...)
}

var featureSupportedDesc = NewDesc("feature_supported", "1 when the device answers the endpoint behind a feature, 0 when it lacks it (403 notSupport, 404, 501) or denies the exporter's account.", "feature")

// Feature reports whether the device has a feature.
func (m *Metrics) Feature(name string, supported bool) {
	m.Gauge(featureSupportedDesc, boolFloat(supported), name)
}

// Optional handles an endpoint error: nil and feature 1 on success; feature 0
// and no error when the device lacks it; otherwise the error.
func (m *Metrics) Optional(feature string, err error) (supported bool, _ error) {
	switch {
	case err == nil:
		m.Feature(feature, true)
		return true, nil
	case isapi.IsNotSupported(err):
		m.Feature(feature, false)
		return false, nil
	default:
		return false, err
	}
}

// fanOut runs fns concurrently and joins their errors, in argument order.
// A collector's endpoints are independent: the client keeps the device's
// limit on requests in flight, so asking for all at once only saves time.
func fanOut(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fetchInto returns a fanOut task that reads e into *v.
func fetchInto[T any](ctx context.Context, d *Probe, e *isapi.Endpoint[T], v *T) func() error {
	return func() (err error) {
		*v, err = isapi.Fetch(ctx, d.Client, e)
		return err
	}
}

// readFeature returns a fanOut task that reads e, reports feature as
// m.Optional does, and hands an answer the device sent to emit.
func readFeature[T any](ctx context.Context, d *Probe, m *Metrics, feature string, e *isapi.Endpoint[T], emit func(*T)) func() error {
	return func() error {
		v, err := isapi.Fetch(ctx, d.Client, e)
		if ok, err := m.Optional(feature, err); !ok {
			return err
		}
		emit(&v)
		return nil
	}
}

// NewDesc builds the descriptor of the metric hikvision_<name>, for the
// exporter's metrics outside the posture areas (the prober's), so that
// every metric takes its name from the same place.
func NewDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Dedupe drops a repeated series (same name and labels), keeping the first,
// so that one sloppy collector cannot make the registry reject a whole probe.
func Dedupe(ms []prometheus.Metric) []prometheus.Metric {
	seen := make(map[seriesID]bool, len(ms))
	out := ms[:0]
	for _, m := range ms {
		k := seriesKey(m)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, m)
	}
	return out
}

// seriesID identifies a series cheaply: every metric name has one Desc
// (package variables), and a const metric's label pairs come sorted by name.
type seriesID struct {
	desc   *prometheus.Desc
	labels string
}

func seriesKey(m prometheus.Metric) seriesID {
	id := seriesID{desc: m.Desc()}
	var pb dto.Metric
	if err := m.Write(&pb); err == nil {
		var b strings.Builder
		for _, l := range pb.Label {
			b.WriteString(l.GetName())
			b.WriteByte('=')
			b.WriteString(l.GetValue())
			b.WriteByte(0xff)
		}
		id.labels = b.String()
	}
	return id
}

// ConstMetrics serves metrics gathered earlier as an unchecked
// prometheus.Collector.
type ConstMetrics []prometheus.Metric

// Describe sends nothing: the metrics are unchecked.
func (ConstMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect sends the metrics.
func (c ConstMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}
