package isapi

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// attempt follows one request through the transport: whether credentials
// went out, and whether a request carrying them was written completely. A
// credentialed request that was written but never answered may have cost a
// failed login; one that never left did not. It also keeps what a Trace
// reports of the request; send sets those fields in its own goroutine.
type attempt struct {
	credentials atomic.Bool
	wrote       atomic.Bool
	scheme      atomic.Uint32 // the credentials' scheme: schemeNone, schemeDigest, schemeBasic
	challenge   atomic.Uint32 // a 401 round trip came first: challengeNone, challengeNew, challengeStale

	started time.Time // for a Trace: when the request got its slot
	status  int
	bytes   int
	trial   bool
}

const (
	schemeNone uint32 = iota
	schemeDigest
	schemeBasic
)

const (
	challengeNone  uint32 = iota
	challengeNew          // the unauthenticated request's 401 brought a challenge
	challengeStale        // the cached nonce was stale; the device sent a new one
)

type attemptKey struct{}

// withAttempt attaches a to ctx, with a trace that notes when a request
// carrying credentials has been written.
func withAttempt(ctx context.Context, a *attempt) context.Context {
	ctx = context.WithValue(ctx, attemptKey{}, a)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil && a.credentials.Load() {
				a.wrote.Store(true)
			}
		},
	})
}

func attemptOf(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// markCredentials notes that the request of ctx carries credentials of
// the given scheme.
func markCredentials(ctx context.Context, scheme uint32) {
	if a := attemptOf(ctx); a != nil {
		a.credentials.Store(true)
		a.scheme.Store(scheme)
	}
}

// markChallenge notes that the request of ctx needed a 401 round trip
// before its credentials could go out.
func markChallenge(ctx context.Context, kind uint32) {
	if a := attemptOf(ctx); a != nil {
		a.challenge.Store(kind)
	}
}

// auth sums up how the request authenticated, for a Trace.
func (a *attempt) auth() Auth {
	switch a.scheme.Load() {
	case schemeBasic:
		if a.challenge.Load() != challengeNone {
			return AuthBasicChallenged
		}
		return AuthBasic
	case schemeDigest:
		switch a.challenge.Load() {
		case challengeNew:
			return AuthDigestChallenged
		case challengeStale:
			return AuthDigestStale
		}
		return AuthDigestReused
	}
	return AuthNone
}
