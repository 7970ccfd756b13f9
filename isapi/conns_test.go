package isapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// resumptionCounter is a client session cache that counts the sessions
// it handed back for resumption.
type resumptionCounter struct {
	tls.ClientSessionCache
	hits atomic.Int64
}

func (r *resumptionCounter) Get(key string) (*tls.ClientSessionState, bool) {
	s, ok := r.ClientSessionCache.Get(key)
	if ok {
		r.hits.Add(1)
	}
	return s, ok
}

func TestLargeAnswersGoOverTheirOwnConnection(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			dev := simulator.Start(t, camProfile(), simulator.WithTLS())
			roots := x509.NewCertPool()
			roots.AddCert(dev.Certificate())
			sessions := &resumptionCounter{ClientSessionCache: tls.NewLRUClientSessionCache(2)}
			c := clientFor(t, dev, "right-password", func(o *Options) {
				o.Scheme = "https"
				o.TLSConfig = &tls.Config{RootCAs: roots, MaxVersion: version, ClientSessionCache: sessions}
			})
			ctx := context.Background()
			small := func() {
				t.Helper()
				if _, err := c.Get(ctx, PathTime); err != nil {
					t.Fatal(err)
				}
			}
			small()
			small()
			if n := dev.Stats().Connections; n != 1 {
				t.Fatalf("small answers used %d connections, want the kept one", n)
			}
			for range 3 {
				if _, err := Fetch(ctx, c, SystemSecurityCapEndpoint); err != nil { // no cache_ttl: fetched every time
					t.Fatal(err)
				}
			}
			if n := dev.Stats().Connections; n != 4 {
				t.Errorf("three large answers and the kept connection: %d connections, want 4", n)
			}
			small()
			if n := dev.Stats().Connections; n != 4 {
				t.Errorf("a small answer after large ones opened a connection (%d in all): the kept one was not kept", n)
			}
			if n := sessions.hits.Load(); n < 3 {
				t.Errorf("%d of the 3 large answers' connections resumed a TLS session, want all", n)
			}
		})
	}
}

func TestFirstFetchOutlivesItsCaller(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	dev.SetFault("GET "+PathSystemCapabilities, simulator.Fault{AnswerLatency: 300 * time.Millisecond})
	c := clientFor(t, dev, "right-password", func(o *Options) { o.CacheTTL = time.Hour })
	if _, err := c.CheckCredentials(context.Background(), PathUserCheck); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := Fetch(ctx, c, SystemSecurityCapEndpoint)
	var fe *FetchingError
	if !errors.As(err, &fe) || fe.Path != PathSystemCapabilities {
		t.Fatalf("Fetch past its deadline: %v, want a *FetchingError for %s", err, PathSystemCapabilities)
	}
	// The next caller joins the fetch still under way, or finds its answer.
	if _, err := Fetch(context.Background(), c, SystemSecurityCapEndpoint); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if n := dev.Stats().Authenticated["GET "+PathSystemCapabilities]; n != 1 {
		t.Errorf("the device answered %s %d times, want once", PathSystemCapabilities, n)
	}
}

func TestFirstFetchesArePutOffWhileTheGateIsFull(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	gate := NewFetchGate(1)
	c := clientFor(t, dev, "right-password", func(o *Options) { o.CacheTTL = time.Hour; o.FirstFetches = gate })
	if _, err := c.CheckCredentials(context.Background(), PathUserCheck); err != nil {
		t.Fatal(err)
	}
	gate <- struct{}{} // another client's first fetch holds the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var fe *FetchingError
	if _, err := Fetch(ctx, c, SystemSecurityCapEndpoint); !errors.As(err, &fe) {
		t.Fatalf("Fetch while the gate is full: %v, want a *FetchingError", err)
	}
	if _, err := Fetch(context.Background(), c, TimeEndpoint); err != nil {
		t.Errorf("an uncached request waited for the gate: %v", err)
	}
	if n := dev.Stats().ByPath["GET "+PathSystemCapabilities]; n != 0 {
		t.Errorf("the device was asked for %s %d times while the gate was full", PathSystemCapabilities, n)
	}
	<-gate
	if _, err := Fetch(context.Background(), c, SystemSecurityCapEndpoint); err != nil {
		t.Fatal(err)
	}
	if n := dev.Stats().Authenticated["GET "+PathSystemCapabilities]; n != 1 {
		t.Errorf("the device answered %s %d times, want once", PathSystemCapabilities, n)
	}
}

func TestCloseIdleKeepsNoConnectionBetweenProbes(t *testing.T) {
	for _, closeIdle := range []bool{false, true} {
		dev := simulator.Start(t, camProfile())
		c := clientFor(t, dev, "right-password", func(o *Options) { o.CloseIdle = closeIdle })
		for range 3 { // three probes, each one request
			end, err := c.Begin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(context.Background(), PathTime); err != nil {
				t.Fatal(err)
			}
			end()
		}
		want := 1
		if closeIdle {
			want = 3
		}
		if n := dev.Stats().Connections; n != want {
			t.Errorf("CloseIdle %v: three probes used %d connections, want %d", closeIdle, n, want)
		}
	}
}
