// Package isapi is a small client for the Hikvision ISAPI HTTP API: Digest
// auth that never spends more than one login attempt per rejection, a
// per-device hold-off after rejected credentials, deadlines from the caller's
// context, size-limited answers, namespace-agnostic XML, and typed device
// errors.
package isapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Options configures a Client. One Client serves one device and one set of
// credentials for as long as they stay configured, so that its connections,
// Digest challenge and hold-off state carry over from probe to probe.
type Options struct {
	Scheme        string // http or https
	Address       string // host:port
	Username      string
	Password      string
	TLSConfig     *tls.Config
	AllowBasic    bool
	MaxConcurrent int   // requests in flight to the device
	MaxBodyBytes  int64 // larger answers fail with ErrBodyTooLarge
	Backoff       time.Duration
	BackoffMax    time.Duration
	Pinned        []netip.Addr  // when set, connect only to these addresses
	Timeout       time.Duration // bounds a background cache refresh; default 10s
	Now           func() time.Time
}

// Client talks to one device.
type Client struct {
	base    string
	maxBody int64
	now     func() time.Time
	http    *http.Client
	auth    *authTransport
	guard   guard
	sem     chan struct{}
	cache   cache
	fetches singleflight.Group
	refresh refresher

	life           context.Context // ends with Close; bounds background refreshes
	stop           context.CancelFunc
	refreshTimeout time.Duration

	sent       atomic.Int64 // requests put on the wire, challenges included
	certExpiry atomic.Int64 // unix seconds of the device's TLS certificate NotAfter
}

// New builds a Client. It does not contact the device.
func New(o Options) *Client {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 1
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	c := &Client{
		base:    (&url.URL{Scheme: o.Scheme, Host: o.Address}).String(),
		maxBody: o.MaxBodyBytes,
		now:     o.Now,
		guard:   guard{base: o.Backoff, max: max(o.Backoff, o.BackoffMax)},
		sem:     make(chan struct{}, o.MaxConcurrent),

		refreshTimeout: o.Timeout,
	}
	c.refresh.busy = make(chan struct{}, 1)
	c.cache.device = c.base
	c.life, c.stop = context.WithCancel(context.Background())
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil, // credentials go to the device and nowhere else
		DialContext:         pinnedDial(dialer, o.Pinned),
		TLSClientConfig:     o.TLSConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		// A warm probe needs two connections at most (the credential check,
		// then the clock and sometimes the log search); more idle ones
		// would only hold memory and file descriptors, thousands of devices
		// over. Headers are small, so are the buffers.
		MaxIdleConnsPerHost: min(o.MaxConcurrent, 2),
		ReadBufferSize:      1 << 10,
		WriteBufferSize:     1 << 10,
		MaxConnsPerHost:     o.MaxConcurrent,
		// Longer than the gaps between uses of the second connection (the
		// log search, every log_search_interval, 5m by default, plus up to
		// a scrape interval): at 5m it was closed just before it was needed
		// again. A device that closes idle connections sooner is handled by
		// net/http, which retries an idempotent request on a new one.
		IdleConnTimeout:   15 * time.Minute,
		ForceAttemptHTTP2: false,
	}
	c.auth = &authTransport{next: countingTransport{tr, &c.sent}, username: o.Username, password: o.Password, allowBasic: o.AllowBasic}
	c.http = &http.Client{
		Transport: c.auth,
		// Never follow a redirect: it could carry the Digest answer, or a
		// Basic password, to a host the operator did not configure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

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

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// Close stops background refreshes and releases idle connections.
func (c *Client) Close() {
	c.refresh.mu.Lock()
	c.refresh.closed = true
	c.refresh.mu.Unlock()
	c.stop()
	c.http.CloseIdleConnections()
}

// RequestsSent counts the HTTP requests sent to the device, 401 round trips included.
func (c *Client) RequestsSent() int64 { return c.sent.Load() }

// CertificateExpiry returns the NotAfter of the device's TLS certificate as
// last seen on a connection, if the client has connected over TLS.
func (c *Client) CertificateExpiry() (time.Time, bool) {
	s := c.certExpiry.Load()
	return time.Unix(s, 0), s != 0
}

// HoldOff reports whether the client is holding off after rejected credentials.
func (c *Client) HoldOff() (until time.Time, cause *AuthError, holding bool) {
	return c.guard.state()
}

// Reject records a rejection the caller found in an answer body (some
// firmware answers userCheck with HTTP 200 and statusValue 401).
func (c *Client) Reject(cause *AuthError) time.Time { return c.guard.reject(c.now(), cause) }

// Get fetches path and returns the body of a 2xx answer.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

// Post sends an XML body to path and returns the body of a 2xx answer.
func (c *Client) Post(ctx context.Context, path string, body []byte) ([]byte, error) {
	return c.do(ctx, http.MethodPost, path, body)
}

// GetXML fetches path and decodes the answer into v.
func (c *Client) GetXML(ctx context.Context, path string, v any) error {
	b, err := c.Get(ctx, path)
	if err != nil {
		return err
	}
	if err := Decode(b, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	release, err := c.guard.admit(c.now())
	if err != nil {
		return nil, err
	}
	defer release()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s %s: waiting for a free request slot: %w", method, path, context.Cause(ctx))
	}
	defer func() { <-c.sem }()

	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bodyReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Header.Set("Content-Type", "application/xml; charset=UTF-8")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, errBasicOnly) {
			return nil, &AuthError{Path: path, BasicOnly: true}
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, unwrapURLError(err))
	}
	defer res.Body.Close()
	if res.TLS != nil && len(res.TLS.PeerCertificates) > 0 {
		c.certExpiry.Store(res.TLS.PeerCertificates[0].NotAfter.Unix())
	}
	b, readErr := readLimited(res.Body, c.maxBody)
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		ae := parseAuthError(path, b)
		c.guard.reject(c.now(), ae)
		return nil, ae
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return nil, fmt.Errorf("%s %s: device answered HTTP %d redirecting to %s; redirects are never followed", method, path, res.StatusCode, redactLocation(res.Header.Get("Location")))
	case res.StatusCode < 200 || res.StatusCode >= 300:
		se := &StatusError{Method: method, Path: path, HTTPStatus: res.StatusCode}
		var rs ResponseStatus
		if readErr == nil && Decode(b, &rs) == nil {
			se.Status = &rs
		}
		c.guard.accept() // the credentials passed; the device refused the request itself
		return nil, se
	}
	c.guard.accept()
	if readErr != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, readErr)
	}
	if ct := res.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "text/html") {
		return nil, fmt.Errorf("%s %s: device answered an HTML page (Content-Type %s), not XML: %q", method, path, ct, snippet(b))
	}
	return b, nil
}

func bodyReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// unwrapURLError drops *url.Error's quoting of the full URL; the caller
// already names method and path.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactLocation keeps only scheme and host of a redirect target for messages.
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return "another path"
	}
	return u.Scheme + "://" + u.Host
}

// userCheckFailure is the lock information some firmware puts in a 401 body.
type userCheckFailure struct {
	StatusValue    Int    `xml:"statusValue"`
	LockStatus     string `xml:"lockStatus"`
	UnlockTime     Int    `xml:"unlockTime"`
	RetryLoginTime Int    `xml:"retryLoginTime"`
}

func parseAuthError(path string, body []byte) *AuthError {
	ae := &AuthError{Path: path}
	var f userCheckFailure
	if len(body) == 0 || Decode(body, &f) != nil {
		return ae
	}
	ae.Locked = LockStatus(f.LockStatus)
	ae.UnlockIn = f.UnlockTime
	ae.RetriesLeft = f.RetryLoginTime
	return ae
}

// LockStatus reads lockStatus: "lock"/"locked" (the web UI tests for "lock",
// the specification says "locked") or "unlock".
func LockStatus(s string) Bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lock", "locked":
		return Bool{V: true, Set: true}
	case "unlock", "unlocked":
		return Bool{V: false, Set: true}
	}
	return Bool{}
}
