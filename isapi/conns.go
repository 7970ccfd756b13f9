package isapi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// A client holds at most one connection to its device between probes,
// and that connection only ever carries small answers.
//
// Thousands of devices over, what a kept connection holds is most of the
// exporter's memory: a goroutine pair, net/http's buffers and, over TLS,
// crypto/tls's input buffer, which grows to the largest record the
// connection has read (16 KiB once an answer spans records) and never
// shrinks. A warm probe needs one connection (the credential check, then
// the clock), so one is kept. Answers that can run to tens of kilobytes
// (capabilities, triggers, users, a recorder's channels, a log page) go
// over a connection that is closed once the answer is read: a new TCP
// connection (and TLS handshake, resumed from the kept connection's
// session where the device allows it) about once a probe on average,
// instead of every kept connection growing to the largest answer (see
// DeviceTLS for the session cache).
// BENCHMARKS.md measures the trade.
type connections struct {
	kept *http.Transport // keep-alive, one idle connection
	bulk *http.Transport // a connection per request, closed after it
}

func newConnections(o Options) *connections {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	kept := &http.Transport{
		Proxy:               nil, // credentials go to the device and nowhere else
		DialContext:         pinnedDial(dialer, o.Pinned),
		TLSClientConfig:     o.TLSConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 1,
		// No MaxConnsPerHost: the client's own slots bound its requests in
		// flight (MaxConcurrent), and the transport's count would keep two
		// maps per device.
		// Headers are small, so are the buffers.
		ReadBufferSize:  1 << 10,
		WriteBufferSize: 1 << 10,
		// Longer than the gap between probes at any usual scrape interval,
		// so the connection is there for the next probe. A device that
		// closes idle connections sooner is handled by net/http, which
		// retries an idempotent request on a new one.
		IdleConnTimeout:   15 * time.Minute,
		ForceAttemptHTTP2: false,
	}
	bulk := kept.Clone()
	bulk.DisableKeepAlives = true
	bulk.MaxIdleConnsPerHost = 0
	return &connections{kept: kept, bulk: bulk}
}

// RoundTrip sends a request marked with withLargeAnswer on a connection of
// its own, any other on the kept one.
func (c *connections) RoundTrip(r *http.Request) (*http.Response, error) {
	if largeAnswer(r.Context()) {
		return c.bulk.RoundTrip(r)
	}
	return c.kept.RoundTrip(r)
}

// CloseIdleConnections closes the kept connection while it is idle.
func (c *connections) CloseIdleConnections() {
	c.kept.CloseIdleConnections()
	c.bulk.CloseIdleConnections()
}

type largeAnswerKey struct{}

// withLargeAnswer marks requests made with ctx as ones whose answer may be
// large: they go over a connection that is closed after the answer.
func withLargeAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, largeAnswerKey{}, true)
}

// getAnswer is Get of an endpoint's answer, over a connection of its own
// when the answer may be large.
func (c *Client) getAnswer(ctx context.Context, path string, large bool) ([]byte, error) {
	if large {
		ctx = withLargeAnswer(ctx)
	}
	return c.Get(ctx, path)
}

func largeAnswer(ctx context.Context) bool { return ctx.Value(largeAnswerKey{}) != nil }

// DeviceTLS returns base as the clients of many devices share it: with
// one session cache for all of them, so that the connections of a large
// answer resume the kept connection's session instead of a full handshake
// (the cache is keyed by device), and, unless base says otherwise,
// classic key exchanges only: camera firmware offers no post-quantum key
// exchange, so the hybrid key share Go sends by default would be computed
// for nothing on every handshake. One configuration per module, not per
// device: a tls.Config and its cache cost kilobytes, ten thousand devices
// over.
func DeviceTLS(base *tls.Config) *tls.Config {
	tc := base.Clone()
	if tc.ClientSessionCache == nil {
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(maxTLSSessions)
	}
	if len(tc.CurvePreferences) == 0 {
		tc.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
	}
	return tc
}

// maxTLSSessions bounds a shared session cache: one session per device,
// for fleets of tens of thousands.
const maxTLSSessions = 1 << 16

// pinnedDial connects only to the pinned addresses when there are any.
func pinnedDial(d *net.Dialer, pinned []netip.Addr) func(context.Context, string, string) (net.Conn, error) {
	if len(pinned) == 0 {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var errs []error
		for _, ip := range pinned {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}
