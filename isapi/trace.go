package isapi

import (
	"context"
	"slices"
	"sync"
	"time"
)

// A Trace records what one probe asked of its device, for
// /probe?debug=true: each request with its answer and how it
// authenticated, each answer served from the cache, each request refused
// before it left. The client records where these things happen (the
// transport knows whether credentials went out, Fetch knows cached from
// fresh), so the probe code stays as it is. Without a Trace in the context
// nothing is recorded and nothing is allocated for it.
//
// It holds no secret: no header, no challenge, no credential; only paths,
// statuses, sizes, timings and the client's error messages, which are
// written to be logged.
type Trace struct {
	start time.Time

	mu     sync.Mutex
	events []TraceEvent
	closed bool // the report was written; later events are background work
}

// NewTrace starts a trace whose event times count from start.
func NewTrace(start time.Time) *Trace { return &Trace{start: start} }

type traceKey struct{}

// WithTrace returns ctx carrying t: requests made with it are recorded in t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// traceFrom returns the Trace of ctx, or nil.
func traceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// EventKind says what a TraceEvent was.
type EventKind uint8

const (
	// EventRequest is a request that went to the device (fresh).
	EventRequest EventKind = iota
	// EventCached is an answer that came from the cache, without a request.
	EventCached
	// EventNotSent is a request the client refused before it left (a
	// hold-off, a path denied to the account, waiting for a credential
	// check).
	EventNotSent
	// EventPending is a credential check still out at the caller's
	// deadline; it goes on in the background and its outcome is not in
	// this trace.
	EventPending
	// EventWait is the probe waiting, before its first request, for a
	// background cache refresh to finish.
	EventWait
	// EventShared is an answer shared with a concurrent read of the same
	// path, which made the request (listed on its own).
	EventShared
)

// Auth is how a request authenticated.
type Auth uint8

const (
	// AuthNone means no credentials went out.
	AuthNone Auth = iota
	// AuthDigestReused is a Digest answer to the cached challenge: one round trip.
	AuthDigestReused
	// AuthDigestChallenged means an unauthenticated request's 401 brought
	// the challenge first: two round trips.
	AuthDigestChallenged
	// AuthDigestStale means the cached nonce had expired (stale=true) and
	// the device's new challenge was answered: two round trips.
	AuthDigestStale
	// AuthBasic means Basic credentials (allow_basic_auth, over https).
	AuthBasic
	// AuthBasicChallenged means Basic after the device's 401 offered only Basic.
	AuthBasicChallenged
)

func (a Auth) String() string {
	switch a {
	case AuthDigestReused:
		return "digest, challenge reused"
	case AuthDigestChallenged:
		return "digest, new 401 round trip"
	case AuthDigestStale:
		return "digest, stale nonce: new 401 round trip"
	case AuthBasic:
		return "basic"
	case AuthBasicChallenged:
		return "basic, after a 401 round trip"
	}
	return "no credentials sent"
}

// TraceEvent is one thing a Trace recorded.
type TraceEvent struct {
	Kind         EventKind
	Start        time.Duration // since the trace began
	Method, Path string
	Status       int           // HTTP status of the answer; 0 without one
	Bytes        int           // size of the answer's body as read
	Duration     time.Duration // the exchange, or the wait (EventWait)
	Queued       time.Duration // waiting for a free request slot
	Auth         Auth
	// CredentialTest marks the request that tested credentials the device
	// had not accepted yet: other requests of the account waited for it.
	CredentialTest bool
	Age            time.Duration // EventCached: how old the answer is
	Stale          bool          // EventCached: past its ttl, refreshed after the probe
	Err            string        // what went wrong; empty on success
}

// Events returns what was recorded, in the order the events started.
func (t *Trace) Events() []TraceEvent {
	t.mu.Lock()
	out := slices.Clone(t.events)
	t.mu.Unlock()
	slices.SortStableFunc(out, func(a, b TraceEvent) int { return int(a.Start - b.Start) })
	return out
}

// Close ends the trace: what is recorded afterwards is background work
// that outlived the probe, and is dropped.
func (t *Trace) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

func (t *Trace) add(e TraceEvent) {
	t.mu.Lock()
	if !t.closed {
		t.events = append(t.events, e)
	}
	t.mu.Unlock()
}

// since is the offset of at from the trace's start.
func (t *Trace) since(at time.Time) time.Duration { return at.Sub(t.start) }

// request records one exchange with the device.
func (t *Trace) request(method, path string, att *attempt, queued time.Time, err error) {
	t.add(TraceEvent{
		Kind: EventRequest, Start: t.since(att.started), Method: method, Path: path,
		Status: att.status, Bytes: att.bytes, Duration: time.Since(att.started),
		Queued: att.started.Sub(queued), Auth: att.auth(), CredentialTest: att.trial,
		Err: errText(err),
	})
}

// notSent records a request the client refused before it left.
func (t *Trace) notSent(method, path string, err error) {
	t.add(TraceEvent{Kind: EventNotSent, Start: t.since(time.Now()), Method: method, Path: path, Err: errText(err)})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// traceNotSent records, when ctx carries a trace, a request refused
// before it left.
func traceNotSent(ctx context.Context, method, path string, err error) {
	if t := traceFrom(ctx); t != nil {
		t.notSent(method, path, err)
	}
}

// traceCached records, when ctx carries a trace, an answer served from the
// cache.
func traceCached(ctx context.Context, path string, h hit, now time.Time) {
	if t := traceFrom(ctx); t != nil {
		t.add(TraceEvent{Kind: EventCached, Start: t.since(time.Now()), Method: "GET", Path: path,
			Age: now.Sub(h.fetched), Stale: h.stale, Err: errText(h.err)})
	}
}

// traceShared records, when ctx carries a trace, an answer shared with a
// concurrent read of the same path.
func traceShared(ctx context.Context, path string, err error) {
	if t := traceFrom(ctx); t != nil {
		t.add(TraceEvent{Kind: EventShared, Start: t.since(time.Now()), Method: "GET", Path: path, Err: errText(err)})
	}
}

// AccountLockout is the lockout state of one device account, as the
// ledger holds it (for /probe?debug=true).
type AccountLockout struct {
	Account Account
	// Verified: the device accepted this client's password, at VerifiedAt,
	// with no rejection since.
	Verified    bool
	VerifiedAt  time.Time
	Failures    int        // rejections since the last acceptance
	HoldUntil   time.Time  // after a rejection: no credentials before (unless the password rotated)
	LockedUntil time.Time  // the device reported a lock: no credentials at all before
	Cause       *AuthError // what the device last said (nil when nothing)
	Restored    bool       // the hold-off was loaded from --storage.path
	Trial       bool       // a request is testing credentials right now
}

// Lockout reports the lockout state of every device account the client's
// requests reach, at now on the ledger's clock.
func (c *Client) Lockout() (accounts []AccountLockout, now time.Time) {
	g := c.guard
	l := g.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range g.accounts {
		al := AccountLockout{Account: a}
		if s := l.accounts[a]; s != nil {
			al.Verified = s.failures == 0 && s.verified == g.password && !s.verifiedAt.IsZero()
			al.VerifiedAt, al.Failures, al.HoldUntil, al.LockedUntil = s.verifiedAt, s.failures, s.until, s.lockedUntil
			al.Cause, al.Restored, al.Trial = s.cause, s.restored, s.trial != nil
		}
		accounts = append(accounts, al)
	}
	return accounts, l.now()
}
