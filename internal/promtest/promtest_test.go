package promtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// recorder is a testing.TB that keeps the errors Diff reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestSeries(t *testing.T) {
	created := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	counter := prometheus.MustNewConstMetricWithCreatedTimestamp(
		prometheus.NewDesc("test_failures_total", "Failures.", nil, nil), prometheus.CounterValue, 3, created)
	info := prometheus.MustNewConstMetric(
		prometheus.NewDesc("test_info", "Info.", []string{"model", "firmware"}, nil), prometheus.GaugeValue, 1, "DS-2CD", `V5.7 "b"`)
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_up", Help: "Up."})
	up.Set(1)
	got := Series(t, constCollector{up, counter, info})
	want := map[string]float64{
		"test_up":                             1,
		"test_failures_total":                 3,
		"test_failures_total" + CreatedSuffix: float64(created.Unix()),
		`test_info{firmware="V5.7 \"b\"",model="DS-2CD"}`: 1,
	}
	Diff(t, "", got, want)
	if k := Key("test_info", "model", "DS-2CD", "firmware", `V5.7 "b"`); want[k] != 1 {
		t.Errorf("Key renders %s, not the key Series renders", k)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(up)
	Diff(t, "registry", Gathered(t, reg), map[string]float64{"test_up": 1})
}

func TestDiff(t *testing.T) {
	r := &recorder{TB: t}
	Diff(r, "probe 2", map[string]float64{"a": 1, "b": 2, "c": 3}, map[string]float64{"a": 1, "b": 5, "d": 4})
	want := []string{"probe 2: b = 2, want 5", "probe 2: unexpected c = 3", "probe 2: missing d (want 4)"}
	if !slices.Equal(r.errors, want) {
		t.Errorf("Diff reported %q, want %q", r.errors, want)
	}
}

func TestLines(t *testing.T) {
	body := "# HELP hikvision_up Up.\n# TYPE hikvision_up gauge\nhikvision_up 1\nhikvision_up_since 17\n"
	if !HasLine(body, "hikvision_up 1") || HasLine(body, "hikvision_up 0") || HasLine(body, "up") {
		t.Error("HasLine")
	}
	if v, ok := LineValue(body, "hikvision_up "); v != "1" || !ok {
		t.Errorf("LineValue = %q, %v", v, ok)
	}
	if v, ok := LineValue(body, "hikvision_down "); v != "" || ok {
		t.Errorf("LineValue of a missing line = %q, %v", v, ok)
	}
}

// constCollector is an unchecked collector of fixed metrics, like the
// collector package's ConstMetrics.
type constCollector []prometheus.Metric

func (constCollector) Describe(chan<- *prometheus.Desc) {}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}
