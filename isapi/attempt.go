package isapi

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
)

// attempt follows one request through the transport: whether credentials
// went out, and whether a request carrying them was written completely. A
// credentialed request that was written but never answered may have cost a
// failed login; one that never left did not.
type attempt struct {
	credentials atomic.Bool
	wrote       atomic.Bool
}

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

// markCredentials notes that the request of ctx carries credentials.
func markCredentials(ctx context.Context) {
	if a, ok := ctx.Value(attemptKey{}).(*attempt); ok {
		a.credentials.Store(true)
	}
}
