package isapi

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestCacheReusesDecodedAnswersAndAbsence(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, camProfile())
	c := cachedClient(t, dev, clock)
	for range 3 {
		probeOnce(t, c) // telnetd: not supported, then its cached absence
	}
	by := dev.Stats().ByPath
	if by["GET "+PathDeviceInfo] != 2 || by["GET "+PathTelnetd] != 1 {
		t.Errorf("requests by path %v; want deviceInfo once (+ its challenge) and telnetd once", by)
	}
	// The bytes are let go once decoded.
	c.cache.mu.Lock()
	for path, e := range c.cache.entries {
		if e.body != nil {
			t.Errorf("%s: cache still holds the raw answer", path)
		}
	}
	c.cache.mu.Unlock()
}

func TestStaleAnswerIsServedAndRefreshedAfterTheProbe(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, camProfile())
	var counts RequestCounts
	c := clientFor(t, dev, "right-password", func(o *Options) { o.Now, o.CacheTTL, o.Requests = clock.Now, time.Minute, &counts })
	first := probeOnce(t, c)
	if p, r := counts.Probe.Load(), counts.Refresh.Load(); p != int64(dev.Stats().Requests) || r != 0 {
		t.Fatalf("cold probe counted as %d probe and %d refresh requests; the device saw %d, all the probe's", p, r, dev.Stats().Requests)
	}
	dev.ResetStats()
	counts.Probe.Store(0)

	// Past the ttl the old answer is served, and nothing is fetched while
	// the probe runs.
	clock.Advance(90 * time.Second)
	body := []byte(`<DeviceInfo xmlns="http://www.isapi.org/ver20/XMLSchema"><model>NEW-MODEL</model><firmwareVersion>V9.9.9</firmwareVersion></DeviceInfo>`)
	dev.SetEndpoint("GET "+PathDeviceInfo, simulator.Endpoint{Body: body})
	ctx := context.Background()
	end, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	di, err := Fetch(ctx, c, DeviceInfoEndpoint)
	if err != nil || di.Model != first.Model {
		t.Fatalf("stale read: %+v %v, want the cached model %q", di, err, first.Model)
	}
	if _, err := Fetch(ctx, c, TelnetdEndpoint); !IsNotSupported(err) {
		t.Fatalf("stale absence: %v", err)
	}
	waitRefreshed(t, c)
	if n := dev.Stats().Requests; n != 0 {
		t.Fatalf("%d requests during the probe; refreshes must wait for it to end", n)
	}
	end()
	waitRefreshed(t, c)
	by := dev.Stats().ByPath
	if by["GET "+PathDeviceInfo] != 1 || by["GET "+PathTelnetd] != 1 {
		t.Fatalf("background refresh requests %v, want one of each path", by)
	}
	if p, r := counts.Probe.Load(), counts.Refresh.Load(); p != 0 || r != 2 {
		t.Errorf("counted %d probe and %d refresh requests; want the 2 refreshes only", p, r)
	}
	if di := probeOnce(t, c); di.Model != "NEW-MODEL" {
		t.Errorf("after the refresh model = %q, want NEW-MODEL", di.Model)
	}
	if n := dev.Stats().Requests; n != 2 {
		t.Errorf("%d requests in all, want the 2 refreshes only", n)
	}
	// Older than two ttls, nothing is served from the cache.
	clock.Advance(3 * time.Minute)
	dev.ResetStats()
	probeOnce(t, c)
	if by := dev.Stats().ByPath; by["GET "+PathDeviceInfo] != 1 {
		t.Errorf("an answer two ttls old must be fetched by the probe; requests %v", by)
	}
}

func TestFailedRefreshLeavesTheErrorToTheNextProbe(t *testing.T) {
	_, _, c := staleDevice(t, simulator.Fault{Malformed: true})
	probeOnce(t, c) // stale answer served, refresh queued and run after
	waitRefreshed(t, c)
	ctx := context.Background()
	end, _ := c.Begin(ctx)
	defer end()
	_, err := Fetch(ctx, c, DeviceInfoEndpoint)
	var ae *AnswerError
	if !errors.As(err, &ae) || ae.Path != PathDeviceInfo {
		t.Fatalf("after a failed refresh the probe got %v, want the answer error", err)
	}
}

func TestBeginWaitsForARefreshInFlight(t *testing.T) {
	clock, dev, c := staleDevice(t, simulator.Fault{Latency: 300 * time.Millisecond})
	// Every wait is bounded: if the behaviour under test broke, the test
	// must fail, not hang the package run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
	}
	end, _ := c.Begin(ctx)
	if _, err := Fetch(ctx, c, DeviceInfoEndpoint); err != nil { // stale: queues the refresh
		t.Fatal(err)
	}
	dev.ResetStats()
	end() // the refresh starts now
	waitFor("the refresh request", func() bool { return dev.Stats().Requests != 0 })
	end, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := dev.Stats(); st.Requests != 1 || st.MaxInFlight != 1 {
		t.Fatalf("device saw %+v", st)
	}
	c.refresh.mu.Lock()
	inFlight := len(c.refresh.busy)
	c.refresh.mu.Unlock()
	if inFlight != 0 {
		t.Error("Begin returned while a refresh request was in flight")
	}
	// A deadline ends the wait.
	end()
	clock.Advance(3 * time.Minute)
	probeOnce(t, c)
	clock.Advance(90 * time.Second)
	end, _ = c.Begin(ctx)
	if _, err := Fetch(ctx, c, DeviceInfoEndpoint); err != nil { // stale: queues the second refresh
		t.Fatal(err)
	}
	end()
	waitFor("the second refresh to start", func() bool { return len(c.refresh.busy) != 0 })
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if _, err := c.Begin(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Begin under a short deadline: %v", err)
	}
	waitRefreshed(t, c)
}

func TestDecodersOfOnePathShareOneFetch(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, camProfile())
	c := cachedClient(t, dev, clock)
	ctx := context.Background()
	// Two declarations of one path: each is a reader of its own.
	model := Derived(PathDeviceInfo, true, func(b []byte) (string, error) {
		var d DeviceInfo
		err := Decode(b, &d)
		return d.Model, err
	})
	serial := Derived(PathDeviceInfo, true, func(b []byte) (string, error) {
		var d DeviceInfo
		err := Decode(b, &d)
		return d.SerialNumber, err
	})
	if _, err := Fetch(ctx, c, model); err != nil {
		t.Fatal(err)
	}
	// A second decoder of a cached path costs one fetch, once; after that a
	// refresh decodes both.
	if _, err := Fetch(ctx, c, serial); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, c, model); err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Second)
	if _, err := Fetch(ctx, c, model); err != nil { // stale: queues the refresh
		t.Fatal(err)
	}
	waitRefreshed(t, c)
	dev.ResetStats()
	m, err1 := Fetch(ctx, c, model)
	s, err2 := Fetch(ctx, c, serial)
	if err1 != nil || err2 != nil || m == "" || s == "" {
		t.Fatalf("model %q %v, serial %q %v", m, err1, s, err2)
	}
	if n := dev.Stats().Requests; n != 0 {
		t.Errorf("%d requests after the refresh; it should have decoded both", n)
	}
}

func TestRememberedAnswerIsDecodedOnce(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, camProfile())
	c := cachedClient(t, dev, clock)
	c.Remember(PathDeviceInfo, simulator.Capture("deviceInfo__hikvision_next_DS-2CD2146G2-ISU.xml"), time.Minute)
	di, err := Fetch(context.Background(), c, DeviceInfoEndpoint)
	if err != nil || di.Model != "DS-2CD2146G2-ISU" {
		t.Fatalf("%+v %v", di, err)
	}
	if n := dev.Stats().Requests; n != 0 {
		t.Errorf("%d requests; the remembered answer should have served", n)
	}
}

func TestRefreshPhasesSpreadOverTheTTL(t *testing.T) {
	const ttl = 5 * time.Minute
	now := time.Date(2026, 11, 26, 3, 0, 7, 0, time.UTC)
	seen := map[time.Time]bool{}
	for dev := range 20 {
		c := &cache{device: fmt.Sprintf("http://10.0.0.%d:80", dev)}
		for _, path := range []string{PathDeviceInfo, PathUsers, PathSystemCapabilities, PathEventTriggers} {
			e := c.expiry(path, now, ttl)
			if !e.After(now) || e.After(now.Add(ttl)) {
				t.Fatalf("%s %s: expiry %v not within (now, now+ttl]", c.device, path, e)
			}
			// From one refresh to the next is exactly ttl.
			if next := c.expiry(path, e.Add(time.Millisecond), ttl); next.Sub(e) != ttl {
				t.Fatalf("%s %s: period %v, want %v", c.device, path, next.Sub(e), ttl)
			}
			seen[e] = true
		}
	}
	if len(seen) < 70 {
		t.Errorf("80 paths of 20 devices expire at only %d distinct times; refreshes would come in waves", len(seen))
	}
}
