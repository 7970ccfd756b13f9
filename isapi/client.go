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
	TLSConfig     *tls.Config // shared by many clients (see DeviceTLS); never modified
	AllowBasic    bool
	MaxConcurrent int   // requests in flight to the device
	MaxBodyBytes  int64 // larger answers fail with ErrBodyTooLarge
	Backoff       time.Duration
	BackoffMax    time.Duration
	Pinned        []netip.Addr  // when set, connect only to these addresses
	Timeout       time.Duration // bounds a background cache refresh; default 10s
	CacheTTL      time.Duration // reuse of a cached Endpoint's answer (cache_ttl); zero: every read fetches
	Now           func() time.Time

	// Ledger holds the lockout state shared by every client of the same
	// device account; a client without one gets a ledger of its own.
	Ledger *Ledger
	// Accounts are the device accounts this client's requests reach (one
	// per resolved address); default: Address and Username as given.
	Accounts []Account
	// Source names where the password comes from (a module), so that a
	// password the operator changed there is tried at once (see Ledger).
	Source string
	// FirstFetches paces the first fetches of cached answers across the
	// clients that share it; nil: no limit.
	FirstFetches FetchGate
	// CloseIdle closes the connection whenever the client falls idle (no
	// probe, no background refresh) instead of keeping it for the next
	// probe (close_idle_connections).
	CloseIdle bool
	// Requests counts this client's requests, in totals that many clients
	// may share; default: counts of its own.
	Requests *RequestCounts
}

// RequestCounts counts the HTTP requests that the clients sharing it put
// on the wire, 401 round trips included: Probe those a probe sends (the
// ones it waits for, and first fetches that outlive it), Refresh the
// background cache refreshes that run between probes.
type RequestCounts struct {
	Probe, Refresh atomic.Int64
}

// Client talks to one device.
type Client struct {
	base     string
	maxBody  int64
	now      func() time.Time
	http     *http.Client
	auth     *authTransport
	conns    *connections
	guard    *guard
	denied   deniedPaths
	sem      chan struct{}
	cache    cache
	cacheTTL time.Duration
	fetches  singleflight.Group
	refresh  refresher

	firstFetches FetchGate
	closeIdle    bool

	life           context.Context // ends with Close; bounds background work
	stop           context.CancelFunc
	refreshTimeout time.Duration
	trialTimeout   time.Duration // how long a credential test may go on past its caller

	certExpiry atomic.Int64 // unix seconds of the device's TLS certificate NotAfter
}

// Defaults of a client, and so of a module (config uses these): chosen for
// weak camera CPUs.
const (
	DefaultMaxConcurrent = 4                // requests in flight to one device
	DefaultMaxBodyBytes  = 4 << 20          // bytes of one answer
	DefaultTimeout       = 10 * time.Second // a request, a refresh, a probe without a scrape timeout
)

// New builds a Client. It does not contact the device.
func New(o Options) *Client {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Ledger == nil {
		o.Ledger = NewLedger(o.Now)
	}
	if o.Requests == nil {
		o.Requests = &RequestCounts{}
	}
	if len(o.Accounts) == 0 {
		o.Accounts = []Account{{Endpoint: o.Address, User: o.Username}}
	}
	c := &Client{
		base:     (&url.URL{Scheme: o.Scheme, Host: o.Address}).String(),
		maxBody:  o.MaxBodyBytes,
		now:      o.Now,
		guard:    o.Ledger.guard(o.Accounts, o.Source, o.Password, o.Backoff, o.BackoffMax),
		sem:      make(chan struct{}, o.MaxConcurrent),
		cacheTTL: o.CacheTTL,

		firstFetches:   o.FirstFetches,
		closeIdle:      o.CloseIdle,
		refreshTimeout: o.Timeout,
		trialTimeout:   2 * o.Timeout,
	}
	c.refresh.busy = make(chan struct{}, 1)
	c.cache.device = c.base
	c.life, c.stop = context.WithCancel(context.Background())
	c.conns = newConnections(o)
	c.auth = &authTransport{next: countingTransport{next: c.conns, counts: o.Requests}, username: o.Username, password: o.Password, allowBasic: o.AllowBasic}
	c.http = &http.Client{
		Transport: c.auth,
		// Never follow a redirect: it could carry the Digest answer, or a
		// Basic password, to a host the operator did not configure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

type countingTransport struct {
	next   http.RoundTripper
	counts *RequestCounts
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if isRefresh(r.Context()) {
		t.counts.Refresh.Add(1)
	} else {
		t.counts.Probe.Add(1)
	}
	return t.next.RoundTrip(r)
}

// Close stops background refreshes and releases idle connections.
func (c *Client) Close() {
	c.refresh.mu.Lock()
	c.refresh.closed = true
	c.refresh.mu.Unlock()
	c.stop()
	c.conns.CloseIdleConnections()
}

// CertificateExpiry returns the NotAfter of the device's TLS certificate as
// last seen on a connection, if the client has connected over TLS.
func (c *Client) CertificateExpiry() (time.Time, bool) {
	s := c.certExpiry.Load()
	return time.Unix(s, 0), s != 0
}

// HoldOff reports whether the client is holding off after rejected
// credentials or a device lock.
func (c *Client) HoldOff() (until time.Time, cause *AuthError, holding bool) {
	return c.guard.state()
}

// WaitTrial waits until no request is testing this client's credentials:
// a credential check that outlived its probe goes on in the background
// (see trial), and tests wait for its outcome before counting logins.
func (c *Client) WaitTrial(ctx context.Context) error { return c.guard.waitTrial(ctx) }

// Reject records a rejection the caller found in an answer body (some
// firmware answers userCheck with HTTP 200 and statusValue 401).
func (c *Client) Reject(cause *AuthError) time.Time { return c.guard.reject(cause) }

// Get fetches path and returns the body of a 2xx answer.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, path, nil, false)
}

// CheckCredentials is a GET whose 401 always means the credentials were
// rejected: the probe's credential check. A 401 on any other request,
// shortly after the device accepted the same credentials, may instead mean
// the account lacks permission for that endpoint (see do).
func (c *Client) CheckCredentials(ctx context.Context, path string) ([]byte, error) {
	return c.do(ctx, http.MethodGet, path, nil, true)
}

// Post sends an XML body to path and returns the body of a 2xx answer.
func (c *Client) Post(ctx context.Context, path string, body []byte) ([]byte, error) {
	return c.do(ctx, http.MethodPost, path, body, false)
}

// errAmbiguous401 is a 401 on an ordinary request while the credentials
// were verified: either they stopped working or the account may not read
// this endpoint. do tells the two apart.
var errAmbiguous401 = errors.New("401 on a request whose credentials were verified")

func (c *Client) do(ctx context.Context, method, path string, body []byte, check bool) ([]byte, error) {
	if err := c.denied.check(method, path, c.now()); err != nil {
		traceNotSent(ctx, method, path, err)
		return nil, err
	}
	release, trial, err := c.guard.admit(ctx)
	if err != nil {
		traceNotSent(ctx, method, path, err)
		return nil, err
	}
	var b []byte
	if trial {
		b, err = c.trial(ctx, method, path, body, release)
	} else {
		b, err = c.send(ctx, method, path, body, check, false)
		release()
	}
	if errors.Is(err, errAmbiguous401) {
		return nil, c.classify401(ctx, method, path)
	}
	return b, err
}

// trial sends a request that tests credentials the device has not accepted
// yet. It goes on after the caller's deadline, for up to trialTimeout, so
// that a slow device's answer (accepted, rejected, locked) is still known
// before the credentials are sent again; the caller gets a *PendingError.
func (c *Client) trial(ctx context.Context, method, path string, body []byte, release func()) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	tctx, cancel := context.WithTimeout(c.life, c.trialTimeout)
	tr := traceFrom(ctx)
	var start time.Time
	if tr != nil {
		// Recorded while the probe waits for it; dropped once its report is
		// written (Trace.Close), when it has become background work.
		tctx, start = WithTrace(tctx, tr), time.Now()
	}
	go func() {
		defer cancel()
		defer release()
		b, err := c.send(tctx, method, path, body, true, true)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		err := &PendingError{Path: path, Err: context.Cause(ctx)}
		if tr != nil {
			tr.add(TraceEvent{Kind: EventPending, Start: tr.since(start), Duration: time.Since(start), Method: method, Path: path, Err: err.Error()})
		}
		return nil, err
	}
}

// classify401 handles a 401 on an ordinary request. The credentials are
// checked again, once, while every other request of the device account
// waits: if the device takes them, the account lacks permission for path,
// which is then not asked for again with credentials for one backoff; if
// not, the check's rejection stands (one more failed login at most).
func (c *Client) classify401(ctx context.Context, method, path string) error {
	c.guard.unverify()
	_, err := c.CheckCredentials(ctx, PathUserCheck)
	var se *StatusError
	if err != nil && !errors.As(err, &se) {
		return err
	}
	c.denied.add(path, c.now().Add(c.guard.base))
	return &StatusError{Method: method, Path: path, HTTPStatus: http.StatusUnauthorized, Permission: true}
}

// send makes one request. check marks a request whose 401 is a rejection;
// trial, one that tests credentials the device has not accepted yet, whose
// lack of an answer may hide a failed login. A Trace in ctx records it;
// without one, send reads no clock for it.
func (c *Client) send(ctx context.Context, method, path string, body []byte, check, trial bool) ([]byte, error) {
	tr := traceFrom(ctx)
	var queued time.Time
	if tr != nil {
		queued = time.Now()
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		err := fmt.Errorf("%s %s: waiting for a free request slot: %w", method, path, context.Cause(ctx))
		if tr != nil {
			tr.notSent(method, path, err)
		}
		return nil, err
	}
	defer func() { <-c.sem }()
	att := &attempt{trial: trial}
	if tr != nil {
		att.started = time.Now()
	}
	b, err := c.exchange(ctx, att, method, path, body, check)
	if tr != nil {
		tr.request(method, path, att, queued, err)
	}
	return b, err
}

// exchange sends the request of send and reads its answer, noting status
// and size in att.
func (c *Client) exchange(ctx context.Context, att *attempt, method, path string, body []byte, check bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(withAttempt(ctx, att), method, c.base+path, bodyReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Header.Set("Content-Type", "application/xml; charset=UTF-8")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, c.failed(method, path, unwrapURLError(err), att)
	}
	defer res.Body.Close()
	if res.TLS != nil && len(res.TLS.PeerCertificates) > 0 {
		c.certExpiry.Store(res.TLS.PeerCertificates[0].NotAfter.Unix())
	}
	b, readErr := readLimited(res.Body, c.maxBody)
	att.status, att.bytes = res.StatusCode, len(b)
	return c.answer(method, path, res, b, readErr, check)
}

// answer turns a device's answer into the body of a 2xx or an error, and
// tells the guard whether the credentials passed.
func (c *Client) answer(method, path string, res *http.Response, b []byte, readErr error, check bool) ([]byte, error) {
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, c.unauthorized(path, b, check)
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
		// No snippet of the page: an answer can hold secrets (an SNMP
		// community) whatever content type the device gave it.
		return nil, fmt.Errorf("%s %s: device answered an HTML page (Content-Type %s, %d bytes), not XML", method, path, ct, len(b))
	}
	return b, nil
}

// failed turns a request that got no HTTP answer into an error, recording
// a device-reported lock, or a credential test that went unanswered.
func (c *Client) failed(method, path string, err error, att *attempt) error {
	var ae *AuthError
	switch {
	case errors.As(err, &ae) && ae.Unauthenticated:
		c.guard.locked(ae)
		return ae
	case errors.Is(err, ErrBasicOnly), errors.Is(err, ErrNoChallenge):
		return fmt.Errorf("%s %s: %w", method, path, err)
	case att.trial && att.wrote.Load():
		c.guard.reject(&AuthError{Path: path, NoAnswer: true})
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// unauthorized handles a 401 to a request that carried credentials.
func (c *Client) unauthorized(path string, body []byte, check bool) error {
	ae := parseAuthError(path, body)
	if !check && !(ae.Locked.Set && ae.Locked.V) {
		return errAmbiguous401
	}
	c.guard.reject(ae)
	return ae
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
	StatusValue    OptionalInt `xml:"statusValue"`
	LockStatus     string      `xml:"lockStatus"`
	UnlockTime     OptionalInt `xml:"unlockTime"`
	RetryLoginTime OptionalInt `xml:"retryLoginTime"`
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
func LockStatus(s string) OptionalBool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lock", "locked":
		return OptionalBool{V: true, Set: true}
	case "unlock", "unlocked":
		return OptionalBool{V: false, Set: true}
	}
	return OptionalBool{}
}
