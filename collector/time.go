package collector

import (
	"context"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The time area reports the device clock: how far it is from the
// exporter's, and whether it follows NTP. Log timestamps, recordings and
// certificate checks depend on it. The clock is read fresh on every probe.

var (
	clockSkewDesc  = NewDesc("clock_skew_seconds", "Device clock minus exporter clock, from localTime of /ISAPI/System/time taken against the middle of the request's round trip.")
	ntpEnabledDesc = NewDesc("ntp_enabled", "1 when the device clock follows NTP (timeMode NTP in /ISAPI/System/time), 0 for any other mode (manual, ...).")
)

type timeCollector struct{}

func init() { registerCollector("time", timeCollector{}) }

func (timeCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	var rt roundTrip
	start := time.Now()
	t, err := isapi.Fetch(httptrace.WithClientTrace(ctx, rt.trace()), d.Client, isapi.TimeEndpoint)
	end := time.Now()
	if ok, err := m.Optional("time", err); !ok {
		return err
	}
	m.Bool(ntpEnabledDesc, t.NTP())
	if device, ok := t.DeviceTime(); ok {
		m.Gauge(clockSkewDesc, device.Sub(rt.midpoint(start, end)).Seconds())
	}
	return nil
}

// roundTrip records when the last request went out and its answer began,
// so the skew is measured against the device's reply and not against time
// spent waiting for a request slot or answering a Digest challenge.
type roundTrip struct {
	mu        sync.Mutex
	wrote     time.Time
	firstByte time.Time
}

func (r *roundTrip) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
			r.mu.Lock()
			r.wrote, r.firstByte = time.Now(), time.Time{}
			r.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			r.mu.Lock()
			r.firstByte = time.Now()
			r.mu.Unlock()
		},
	}
}

// midpoint is the middle of the last request's round trip, or of
// [start, end] when the trace saw none.
func (r *roundTrip) midpoint(start, end time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.wrote.IsZero() && !r.firstByte.IsZero() && !r.firstByte.Before(r.wrote) {
		start, end = r.wrote, r.firstByte
	}
	return start.Add(end.Sub(start) / 2)
}
