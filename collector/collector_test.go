package collector

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

func TestDedupeKeepsTheFirstOfARepeatedSeries(t *testing.T) {
	var m Metrics
	m.Feature("ssh", true)
	m.Feature("ssh", false) // repeated: dropped
	m.Feature("telnet", false)
	m.Gauge(accountLockedDesc, 1)
	m.Gauge(accountLockedDesc, 0) // repeated: dropped
	m.Timestamp(logCursorDesc, time.Unix(10, 0))
	m.add(prometheus.NewConstMetricWithCreatedTimestamp(loginFailuresDesc, prometheus.CounterValue, 3, time.Unix(5, 0)))
	m.add(prometheus.NewConstMetricWithCreatedTimestamp(loginFailuresDesc, prometheus.CounterValue, 4, time.Unix(5, 0)))
	got := promtest.Series(t, ConstMetrics(Dedupe(m.out)))
	want := map[string]float64{
		`hikvision_feature_supported{feature="ssh"}`:    1,
		`hikvision_feature_supported{feature="telnet"}`: 0,
		"hikvision_account_locked":                      1,
		"hikvision_log_search_cursor_timestamp_seconds": 10,
		"hikvision_login_failures_total":                3,
		"hikvision_login_failures_total@created":        5,
	}
	promtest.Diff(t, "dedupe", got, want)
}
