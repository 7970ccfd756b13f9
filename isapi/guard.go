package isapi

import (
	"sync"
	"time"
)

// guard keeps the exporter from turning a wrong password into a device
// lockout: after a rejection it refuses to send credentials until a backoff
// (doubling on repeated rejection) and any device-reported lock have passed.
type guard struct {
	base, max time.Duration

	mu       sync.Mutex
	failures int
	until    time.Time
	cause    *AuthError
	trial    bool // a request is out testing the credentials after a hold-off
}

// admit returns a HoldOffError while holding off. After a hold-off only one
// request at a time may test the credentials, so parallel requests cannot
// each spend a login attempt.
func (g *guard) admit(now time.Time) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures == 0 {
		return func() {}, nil
	}
	if now.Before(g.until) || g.trial {
		return nil, &HoldOffError{Until: g.until, Cause: g.cause}
	}
	g.trial = true
	return func() {
		g.mu.Lock()
		g.trial = false
		g.mu.Unlock()
	}, nil
}

// reject records a rejection and returns when the next try may happen.
func (g *guard) reject(now time.Time, cause *AuthError) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures++
	wait := g.base
	for i := 1; i < g.failures && wait < g.max; i++ {
		wait *= 2
	}
	wait = min(wait, g.max)
	until := now.Add(wait)
	if cause != nil && cause.UnlockIn.Set {
		// Nothing before the device's own unlock time, even if that is later.
		cause.UnlockAt = now.Add(time.Duration(cause.UnlockIn.V) * time.Second)
		if unlock := cause.UnlockAt; unlock.After(until) {
			until = unlock
		}
	}
	g.until, g.cause = until, cause
	return until
}

// accept clears the hold-off after the device took the credentials.
func (g *guard) accept() {
	g.mu.Lock()
	g.failures, g.until, g.cause = 0, time.Time{}, nil
	g.mu.Unlock()
}

// state reports the current hold-off, if any.
func (g *guard) state() (until time.Time, cause *AuthError, holding bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until, g.cause, g.failures > 0
}
