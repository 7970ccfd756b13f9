package isapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// A device counts every rejected credentialed request toward a lock of the
// account or of the exporter's address, whatever URL or host name carried it.
// So the hold-off after a rejection belongs to the device account, not to a
// client: every client whose requests reach the same address, port and user
// shares one entry in a Ledger, whatever target name, module or reload
// created it.

// Account is one login on one device: where requests go (a resolved
// "ip:port", or "host:port" when the name could not be resolved) and as whom.
type Account struct {
	Endpoint string `json:"endpoint"`
	User     string `json:"user"`
}

// Ledger keeps the lockout state of every device account the exporter logs
// in to. It is safe for concurrent use. Password-derived data (which
// password was rejected or accepted) is kept in memory only, as keyed
// hashes, and never leaves the process.
type Ledger struct {
	now func() time.Time
	key []byte // keys password hashes, so none is comparable across processes

	mu        sync.Mutex
	accounts  map[Account]*accountState
	lastSweep time.Time
	changed   func() // called after a change worth persisting, without mu held
}

// accountState is one account's entry.
type accountState struct {
	failures    int       // rejections since the last acceptance
	until       time.Time // no credentials before this, unless the password rotated
	lockedUntil time.Time // the device said it is locked: no credentials at all
	cause       *AuthError
	// rejected maps a source (a module) to the password hash it last had
	// rejected; a source whose password changed since may try once.
	rejected map[string][32]byte
	restored bool // loaded from disk: holds for every password

	verified   [32]byte // the password the device last accepted
	verifiedAt time.Time
	trial      chan struct{} // non-nil while a request tests unverified credentials
}

// NewLedger returns an empty ledger on the given clock (time.Now if nil).
func NewLedger(now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Ledger{now: now, key: key, accounts: map[Account]*accountState{}}
}

// OnChange sets f to be called after each change worth persisting.
func (l *Ledger) OnChange(f func()) {
	l.mu.Lock()
	l.changed = f
	l.mu.Unlock()
}

func (l *Ledger) notify() {
	l.mu.Lock()
	f := l.changed
	l.mu.Unlock()
	if f != nil {
		f()
	}
}

// guard is one client's view of the ledger: its accounts, the password it
// sends and the backoff its module configured.
type guard struct {
	ledger    *Ledger
	accounts  []Account
	source    string
	password  [32]byte
	base, max time.Duration
}

func (l *Ledger) guard(accounts []Account, source, password string, base, maxWait time.Duration) *guard {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(password))
	g := &guard{ledger: l, accounts: accounts, source: source, base: base, max: max(base, maxWait)}
	copy(g.password[:], m.Sum(nil))
	return g
}

// entry returns a's state, creating it. The caller holds mu.
func (l *Ledger) entry(a Account) *accountState {
	s := l.accounts[a]
	if s == nil {
		s = &accountState{}
		l.accounts[a] = s
	}
	return s
}

// holds reports whether s forbids sending password now.
func (s *accountState) holds(g *guard, now time.Time) bool {
	if now.Before(s.lockedUntil) {
		return true
	}
	if !now.Before(s.until) {
		return false
	}
	return s.restored || !s.rotated(g)
}

// rotated reports whether g's source had another password rejected than the
// one it sends now, which no source had rejected: the operator changed it,
// so it may be tried once at once.
func (s *accountState) rotated(g *guard) bool {
	old, ok := s.rejected[g.source]
	if !ok || old == g.password {
		return false
	}
	for _, p := range s.rejected {
		if p == g.password {
			return false
		}
	}
	return true
}

// admit decides whether a request with credentials may go now. While the
// password is unverified on any of the guard's accounts, one request at a
// time tests it (trial is true) and others wait for its outcome, so that
// neither parallel requests nor other names of the device can each spend a
// login attempt. While holding off it returns a *HoldOffError.
func (g *guard) admit(ctx context.Context) (release func(), trial bool, err error) {
	l := g.ledger
	for {
		now := l.now()
		l.mu.Lock()
		l.sweep(now)
		if until, cause, held := g.heldLocked(now); held {
			l.mu.Unlock()
			return nil, false, &HoldOffError{Until: until, Cause: cause}
		}
		wait, verified := g.pendingLocked()
		if wait == nil && verified {
			l.mu.Unlock()
			return func() {}, false, nil
		}
		if wait == nil {
			done := make(chan struct{})
			for _, a := range g.accounts {
				l.entry(a).trial = done
			}
			l.mu.Unlock()
			return g.endTrial(done), true, nil
		}
		l.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, &PendingError{Err: context.Cause(ctx)}
		}
	}
}

// heldLocked returns the latest hold-off among the guard's accounts.
func (g *guard) heldLocked(now time.Time) (until time.Time, cause *AuthError, held bool) {
	for _, a := range g.accounts {
		s := g.ledger.accounts[a]
		if s == nil || !s.holds(g, now) {
			continue
		}
		u := later(s.until, s.lockedUntil)
		if !held || u.After(until) {
			until, cause = u, s.cause
		}
		held = true
	}
	return until, cause, held
}

// pendingLocked returns a trial in flight to wait for, if any, and whether
// every account has verified the guard's password with no failure since.
func (g *guard) pendingLocked() (wait chan struct{}, verified bool) {
	verified = true
	for _, a := range g.accounts {
		s := g.ledger.accounts[a]
		if s == nil {
			verified = false
			continue
		}
		if s.trial != nil {
			wait = s.trial
		}
		if s.failures > 0 || s.verified != g.password || s.verifiedAt.IsZero() {
			verified = false
		}
	}
	return wait, verified
}

func (g *guard) endTrial(done chan struct{}) func() {
	return func() {
		g.ledger.mu.Lock()
		for _, a := range g.accounts {
			if s := g.ledger.accounts[a]; s != nil && s.trial == done {
				s.trial = nil
			}
		}
		g.ledger.mu.Unlock()
		close(done)
	}
}

// reject records that the device refused the credentials (or may have: see
// unanswered) and returns when they may next be sent.
func (g *guard) reject(cause *AuthError) time.Time {
	l := g.ledger
	now := l.now()
	l.mu.Lock()
	var until time.Time
	for _, a := range g.accounts {
		s := l.entry(a)
		s.failures++
		s.until = now.Add(backoff(g.base, g.max, s.failures))
		if cause != nil && cause.UnlockIn.Set {
			// Nothing before the device's own unlock time, even if later.
			cause.UnlockAt = now.Add(time.Duration(cause.UnlockIn.V) * time.Second)
			s.until = later(s.until, cause.UnlockAt)
		}
		s.cause = cause
		if s.rejected == nil {
			s.rejected = map[string][32]byte{}
		}
		s.rejected[g.source] = g.password
		if s.verified == g.password {
			s.verifiedAt = time.Time{}
		}
		until = later(until, s.until)
	}
	l.mu.Unlock()
	l.notify()
	return until
}

// locked records a lock the device reported without credentials having
// been sent (in the answer to an unauthenticated request): no password is
// sent before the unlock time, which is not a failure of ours.
func (g *guard) locked(cause *AuthError) time.Time {
	l := g.ledger
	now := l.now()
	until := now.Add(g.base)
	if cause.UnlockIn.Set {
		cause.UnlockAt = now.Add(time.Duration(cause.UnlockIn.V) * time.Second)
		until = cause.UnlockAt
	}
	l.mu.Lock()
	for _, a := range g.accounts {
		s := l.entry(a)
		s.lockedUntil, s.cause = later(s.lockedUntil, until), cause
	}
	l.mu.Unlock()
	l.notify()
	return until
}

// accept records that the device took the credentials.
func (g *guard) accept() {
	l := g.ledger
	now := l.now()
	l.mu.Lock()
	changed := false
	for _, a := range g.accounts {
		s := l.entry(a)
		changed = changed || s.failures > 0 || !s.lockedUntil.IsZero() || s.restored
		s.failures, s.until, s.lockedUntil, s.cause, s.rejected, s.restored = 0, time.Time{}, time.Time{}, nil, nil, false
		s.verified, s.verifiedAt = g.password, now
	}
	l.mu.Unlock()
	if changed {
		l.notify()
	}
}

// state reports the current hold-off for this guard's password.
func (g *guard) state() (until time.Time, cause *AuthError, holding bool) {
	g.ledger.mu.Lock()
	defer g.ledger.mu.Unlock()
	return g.heldLocked(g.ledger.now())
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func backoff(base, maxWait time.Duration, failures int) time.Duration {
	wait := base
	for i := 1; i < failures && wait < maxWait; i++ {
		wait *= 2
	}
	return min(wait, maxWait)
}

// ledgerIdle is how long an entry that holds nothing is kept: long enough
// that a device probed every few minutes keeps its verified password (and
// so skips the one-at-a-time trial), short enough that ad-hoc targets
// cannot grow the ledger without bound.
const ledgerIdle = time.Hour

// sweep drops entries that have held nothing, and verified nothing, for
// ledgerIdle; a rejection is remembered that long past its hold-off, so
// that the next one doubles the wait.
// The caller holds mu.
func (l *Ledger) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for a, s := range l.accounts {
		last := later(later(s.until, s.lockedUntil), s.verifiedAt)
		if s.trial == nil && now.Sub(last) > ledgerIdle {
			delete(l.accounts, a)
		}
	}
}

// Len reports how many accounts the ledger holds (for tests and limits).
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accounts)
}

// HoldOff is one account's hold-off as persisted across restarts. It holds
// no password-derived data: a restored hold-off applies to every password.
type HoldOff struct {
	Account     Account   `json:"account"`
	Failures    int       `json:"failures"`
	Until       time.Time `json:"until"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Locked      bool      `json:"locked,omitempty"`
	RetriesLeft *int64    `json:"retries_left,omitempty"`
	UnlockAt    time.Time `json:"unlock_at,omitzero"`
}

// Snapshot returns the accounts with rejections not yet cleared by an
// acceptance (so that the wait still doubles after a restart) and device
// locks in force, for persisting.
func (l *Ledger) Snapshot() []HoldOff {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []HoldOff
	for a, s := range l.accounts {
		if s.failures == 0 && !now.Before(s.lockedUntil) {
			continue
		}
		h := HoldOff{Account: a, Failures: s.failures, Until: s.until, LockedUntil: s.lockedUntil}
		if c := s.cause; c != nil {
			h.Locked, h.UnlockAt = c.Locked.Set && c.Locked.V, c.UnlockAt
			if c.RetriesLeft.Set {
				h.RetriesLeft = &c.RetriesLeft.V
			}
		}
		out = append(out, h)
	}
	return out
}

// Restore loads persisted hold-offs, except those sweep would have dropped.
func (l *Ledger) Restore(hs []HoldOff) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range hs {
		if now.Sub(later(h.Until, h.LockedUntil)) > ledgerIdle {
			continue // as sweep would have forgotten it
		}
		s := l.entry(h.Account)
		s.failures, s.until, s.lockedUntil, s.restored = max(h.Failures, 1), h.Until, h.LockedUntil, true
		c := &AuthError{Path: "(restored)", UnlockAt: h.UnlockAt}
		if h.Locked {
			c.Locked = OptionalBool{V: true, Set: true}
		}
		if h.RetriesLeft != nil {
			c.RetriesLeft = OptionalInt{V: *h.RetriesLeft, Set: true}
		}
		s.cause = c
	}
}

// unverify marks the password as needing a new check: until one succeeds,
// requests of these accounts wait for it instead of going out.
func (g *guard) unverify() {
	g.ledger.mu.Lock()
	for _, a := range g.accounts {
		if s := g.ledger.accounts[a]; s != nil {
			s.verifiedAt = time.Time{}
		}
	}
	g.ledger.mu.Unlock()
}

// waitTrial waits until no request is testing the credentials of the
// guard's accounts.
func (g *guard) waitTrial(ctx context.Context) error {
	for {
		g.ledger.mu.Lock()
		wait, _ := g.pendingLocked()
		g.ledger.mu.Unlock()
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
