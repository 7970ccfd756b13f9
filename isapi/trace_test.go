package isapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const tracePassword = "Trace-Canary-Pw-41d7"

// traceDevice starts a camera whose exporter account is admin/tracePassword.
func traceDevice(t *testing.T, mod func(*simulator.Profile), opts ...simulator.Option) *simulator.Device {
	t.Helper()
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Username, p.Password, p.LockAfter = "admin", tracePassword, 5
	if mod != nil {
		mod(&p)
	}
	return simulator.Start(t, p, opts...)
}

// traceClient is a client of d with password, a 5m cache and a 30m backoff.
func traceClient(t *testing.T, d *simulator.Device, password string, mod func(*isapi.Options)) *isapi.Client {
	t.Helper()
	o := isapi.Options{
		Scheme: "http", Address: d.Addr(), Username: "admin", Password: password,
		MaxConcurrent: 2, Backoff: 30 * time.Minute, CacheTTL: 5 * time.Minute,
	}
	if mod != nil {
		mod(&o)
	}
	c := isapi.New(o)
	t.Cleanup(c.Close)
	return c
}

func traced() (*isapi.Trace, context.Context) {
	tr := isapi.NewTrace(time.Now())
	return tr, isapi.WithTrace(context.Background(), tr)
}

// wantEvents checks the kind, path and authentication of each event.
func wantEvents(t *testing.T, got []isapi.TraceEvent, want ...isapi.TraceEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(got), len(want), describe(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.Kind || g.Path != w.Path || g.Auth != w.Auth || g.Status != w.Status || g.CredentialTest != w.CredentialTest {
			t.Errorf("event %d: %s\nwant kind %d %s status %d auth %q test %v", i, describe(got[i:i+1]), w.Kind, w.Path, w.Status, w.Auth, w.CredentialTest)
		}
	}
}

func describe(events []isapi.TraceEvent) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "  %+v (%s)\n", e, e.Auth)
	}
	return b.String()
}

func TestTraceRecordsRequestsAndCachedAnswers(t *testing.T) {
	dev := traceDevice(t, nil)
	c := traceClient(t, dev, tracePassword, nil)
	tr, ctx := traced()
	for range 2 {
		if _, err := isapi.Fetch(ctx, c, isapi.DeviceInfoEndpoint); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := isapi.Fetch(ctx, c, isapi.TimeEndpoint); err != nil {
		t.Fatal(err)
	}
	got := tr.Events()
	wantEvents(t, got,
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathDeviceInfo, Status: 200, Auth: isapi.AuthDigestChallenged, CredentialTest: true},
		isapi.TraceEvent{Kind: isapi.EventCached, Path: isapi.PathDeviceInfo},
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathTime, Status: 200, Auth: isapi.AuthDigestReused},
	)
	if got[0].Bytes == 0 || got[0].Duration <= 0 || got[0].Method != "GET" || got[0].Err != "" {
		t.Errorf("first request: %+v", got[0])
	}
	if got[1].Age < 0 || got[1].Stale {
		t.Errorf("cached answer: %+v", got[1])
	}
	accounts, _ := c.Lockout()
	if len(accounts) != 1 || !accounts[0].Verified || accounts[0].Trial || accounts[0].Failures != 0 {
		t.Errorf("lockout after an accepted password: %+v", accounts)
	}
}

func TestTraceRejectionThenHoldOff(t *testing.T) {
	dev := traceDevice(t, nil)
	c := traceClient(t, dev, "wrong-"+tracePassword, nil)
	tr, ctx := traced()
	_, err := c.CheckCredentials(ctx, isapi.PathUserCheck)
	var ae *isapi.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want a rejection", err)
	}
	_, err = c.Get(ctx, isapi.PathDeviceInfo)
	var he *isapi.HoldOffError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want a hold-off", err)
	}
	got := tr.Events()
	wantEvents(t, got,
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathUserCheck, Status: 401, Auth: isapi.AuthDigestChallenged, CredentialTest: true},
		isapi.TraceEvent{Kind: isapi.EventNotSent, Path: isapi.PathDeviceInfo},
	)
	if !strings.Contains(got[0].Err, "credentials rejected") || !strings.Contains(got[1].Err, "not contacting device") {
		t.Errorf("errors: %q, %q", got[0].Err, got[1].Err)
	}
	accounts, now := c.Lockout()
	if len(accounts) != 1 || accounts[0].Verified || accounts[0].Failures != 1 || !accounts[0].HoldUntil.After(now) || accounts[0].Cause == nil {
		t.Errorf("lockout after a rejection: %+v", accounts)
	}
	if n := dev.Stats().FailedLogins; n != 1 {
		t.Errorf("%d failed logins, want 1", n)
	}
}

func TestTraceStaleNonceIsANewRoundTrip(t *testing.T) {
	clock := simulator.NewClock(time.Now())
	dev := traceDevice(t, nil, simulator.WithClock(clock.Now))
	c := traceClient(t, dev, tracePassword, nil)
	tr, ctx := traced()
	for range 2 {
		if _, err := c.Get(ctx, isapi.PathDeviceInfo); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour) // past the device's nonce lifetime
	}
	wantEvents(t, tr.Events(),
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathDeviceInfo, Status: 200, Auth: isapi.AuthDigestChallenged, CredentialTest: true},
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathDeviceInfo, Status: 200, Auth: isapi.AuthDigestStale},
	)
}

func TestTraceBasicAuth(t *testing.T) {
	dev := traceDevice(t, func(p *simulator.Profile) { p.BasicOnly = true }, simulator.WithTLS())
	pool := x509.NewCertPool()
	pool.AddCert(dev.Certificate())
	c := traceClient(t, dev, tracePassword, func(o *isapi.Options) {
		o.Scheme, o.AllowBasic = "https", true
		o.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	})
	tr, ctx := traced()
	for range 2 {
		if _, err := c.Get(ctx, isapi.PathDeviceInfo); err != nil {
			t.Fatal(err)
		}
	}
	got := tr.Events()
	wantEvents(t, got,
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathDeviceInfo, Status: 200, Auth: isapi.AuthBasicChallenged, CredentialTest: true},
		isapi.TraceEvent{Kind: isapi.EventRequest, Path: isapi.PathDeviceInfo, Status: 200, Auth: isapi.AuthBasic},
	)
	leaks(t, got)
}

// A credential check still out at the caller's deadline shows as pending,
// the account as testing its credentials; what the check records after the
// trace is closed is background work and is dropped.
func TestTracePendingCredentialCheck(t *testing.T) {
	dev := traceDevice(t, nil)
	dev.SetLatency(400 * time.Millisecond)
	c := traceClient(t, dev, tracePassword, nil)
	tr, ctx := traced()
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := c.CheckCredentials(ctx, isapi.PathUserCheck)
	var pe *isapi.PendingError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a pending check", err)
	}
	accounts, _ := c.Lockout()
	if len(accounts) != 1 || !accounts[0].Trial {
		t.Errorf("lockout while a check is out: %+v", accounts)
	}
	tr.Close()
	if err := c.WaitTrial(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, tr.Events(), isapi.TraceEvent{Kind: isapi.EventPending, Path: isapi.PathUserCheck})
	if accounts, _ := c.Lockout(); !accounts[0].Verified {
		t.Errorf("after the check answered: %+v", accounts)
	}
}

// Without a trace the probe path must cost nothing: a cached answer is
// served without a single allocation.
func TestNoTraceCachedFetchAllocatesNothing(t *testing.T) {
	dev := traceDevice(t, nil)
	c := traceClient(t, dev, tracePassword, nil)
	ctx := context.Background()
	if _, err := isapi.Fetch(ctx, c, isapi.DeviceInfoEndpoint); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := isapi.Fetch(ctx, c, isapi.DeviceInfoEndpoint); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a cached Fetch without a trace allocates %v times, want 0", allocs)
	}
}

func TestTraceEventsInStartOrderAndClosed(t *testing.T) {
	dev := traceDevice(t, nil)
	c := traceClient(t, dev, tracePassword, nil)
	tr, ctx := traced()
	done := make(chan error, 3)
	for _, e := range []*isapi.Endpoint[isapi.DeviceInfo]{isapi.DeviceInfoEndpoint, isapi.DeviceInfoEndpoint, isapi.DeviceInfoEndpoint} {
		go func() { _, err := isapi.Fetch(ctx, c, e); done <- err }()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got := tr.Events()
	for i := 1; i < len(got); i++ {
		if got[i].Start < got[i-1].Start {
			t.Errorf("events out of order:\n%s", describe(got))
		}
	}
	requests := 0
	for _, e := range got {
		if e.Kind == isapi.EventRequest {
			requests++
		}
	}
	if requests != 1 || len(got) != 3 {
		t.Errorf("three concurrent reads of one path: %d requests in %d events, want 1 in 3:\n%s", requests, len(got), describe(got))
	}
	tr.Close()
	if _, err := c.Get(ctx, isapi.PathTime); err != nil {
		t.Fatal(err)
	}
	if n := len(tr.Events()); n != len(got) {
		t.Errorf("a closed trace recorded %d more events", n-len(got))
	}
	leaks(t, got)
}

// leaks fails when an event carries a secret or any part of the Digest
// exchange.
func leaks(t *testing.T, events []isapi.TraceEvent) {
	t.Helper()
	all := fmt.Sprintf("%#v", events)
	for _, s := range []string{tracePassword, "Authorization", "nonce", "response=", "Basic "} {
		if strings.Contains(all, s) {
			t.Errorf("trace holds %q:\n%s", s, all)
		}
	}
}
