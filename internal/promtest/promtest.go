// Package promtest holds the Prometheus helpers of the exporter's tests:
// it turns what a collector or a registry exposes into a plain map that a
// test compares with the map it expects, reads sample lines of a text
// exposition, and finds the real Prometheus tools.
//
// A series is keyed `name{label="value",...}`, labels in name order as the
// registry sorts them and values quoted as Go's %q does, or just `name`
// without labels. A counter with a created timestamp has a second entry,
// `name{...}@created`, holding it in Unix seconds:
//
//	got := promtest.Series(t, collector.ConstMetrics(ms))
//	promtest.Diff(t, "first probe", got, map[string]float64{
//		promtest.Key("hikvision_feature_supported", "feature", "users"): 1,
//		"hikvision_login_failures_total":                                  2,
//		"hikvision_login_failures_total@created":                          1795000000,
//	})
package promtest

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// CreatedSuffix ends the key of a counter's created timestamp.
const CreatedSuffix = "@created"

// Series collects c once through a pedantic registry and returns its
// series (see the package comment for the keys). It fails the test when
// the registry rejects a metric (a repeated series, an invalid name or
// label) or the linter objects to one, and on metric types other than
// gauge, counter and untyped.
func Series(tb testing.TB, c prometheus.Collector) map[string]float64 {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		tb.Fatalf("registering the collector: %v", err)
	}
	return Gathered(tb, reg)
}

// Gathered is Series for what a gatherer, such as a *prometheus.Registry
// the code under test registers its metrics with, serves now.
func Gathered(tb testing.TB, g prometheus.Gatherer) map[string]float64 {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	problems, err := testutil.GatherAndLint(g)
	if err != nil {
		tb.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		tb.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			key := Key(mf.GetName(), labels...)
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
				if ct := m.GetCounter().GetCreatedTimestamp(); ct != nil {
					out[key+CreatedSuffix] = float64(ct.AsTime().Unix())
				}
			case dto.MetricType_UNTYPED:
				out[key] = m.GetUntyped().GetValue()
			default:
				tb.Fatalf("%s: %s metrics are not supported by promtest", key, mf.GetType())
			}
		}
	}
	return out
}

// Key renders the key of a series: name and label name/value pairs, e.g.
// Key("hikvision_feature_supported", "feature", "users") is
// `hikvision_feature_supported{feature="users"}`. The labels are sorted by
// name, as Series sorts them.
func Key(name string, labelPairs ...string) string {
	if len(labelPairs)%2 != 0 {
		panic(fmt.Sprintf("promtest.Key(%q): odd number of label names and values %q", name, labelPairs))
	}
	if len(labelPairs) == 0 {
		return name
	}
	var labels []string
	for i := 0; i < len(labelPairs); i += 2 {
		labels = append(labels, fmt.Sprintf("%s=%q", labelPairs[i], labelPairs[i+1]))
	}
	slices.Sort(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// Diff reports, as test errors prefixed with what (none if ""), every
// series missing from got, every series got has that want lacks, and every
// value that differs, in key order.
func Diff(tb testing.TB, what string, got, want map[string]float64) {
	tb.Helper()
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	keys := slices.Sorted(maps.Keys(got))
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, inGot := got[k]
		w, inWant := want[k]
		switch {
		case !inGot:
			tb.Errorf("%smissing %s (want %v)", prefix, k, w)
		case !inWant:
			tb.Errorf("%sunexpected %s = %v", prefix, k, g)
		case g != w:
			tb.Errorf("%s%s = %v, want %v", prefix, k, g, w)
		}
	}
}

// HasLine reports whether the text exposition body has a line starting
// with prefix, e.g. HasLine(body, "hikvision_up 1") or
// HasLine(body, "hikvision_device_info{").
func HasLine(body, prefix string) bool {
	_, ok := line(body, prefix)
	return ok
}

// LineValue returns the value, the last field, of the first line of the
// text exposition body that starts with prefix, e.g.
// LineValue(body, "hikvision_up ") is "1" for a device that is up.
func LineValue(body, prefix string) (string, bool) {
	l, ok := line(body, prefix)
	if !ok {
		return "", false
	}
	f := strings.Fields(l)
	if len(f) == 0 {
		return "", true
	}
	return f[len(f)-1], true
}

func line(body, prefix string) (string, bool) {
	for l := range strings.Lines(body) {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimRight(l, "\r\n"), true
		}
	}
	return "", false
}

// Tool returns the path of a Prometheus program ("promtool" or
// "prometheus") and fails the test, never skipping it, when the program is
// not on PATH: the tests that use them are the only check of what they
// check.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s is not on PATH (%v): these tests need the real Prometheus tools. Install Debian's prometheus "+
			"package (apt-get install -y prometheus), which provides both prometheus and promtool, and stop its system "+
			"service (systemctl disable --now prometheus), the tests start their own servers; or put the programs "+
			"of a Prometheus release on PATH", name, err)
	}
	return path
}
