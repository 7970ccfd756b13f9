package isapi

import "context"

// An Endpoint is one ISAPI GET as the exporter reads it: its path, the
// value its answer decodes to, and whether that value is kept between
// probes. Each endpoint is declared once, as a package variable next to
// its response type, and read with Fetch; the declaration's pointer is
// the cache's key for its value, so two declarations of one path (two
// readings of the same answer) share the fetch but not the value.
type Endpoint[T any] struct {
	Path string
	// Cached values are reused for the client's CacheTTL and refreshed
	// between probes (see cache.go); others are fetched on every call.
	Cached bool
	// LargeAnswer marks an answer that can run to tens of kilobytes: it
	// is fetched over a connection closed after it (see connections).
	LargeAnswer bool
	decode      func([]byte) (T, error)
}

// XML declares an endpoint whose answer decodes into a T with Decode.
func XML[T any](path string, cached bool) *Endpoint[T] {
	return Derived(path, cached, func(b []byte) (T, error) {
		var v T
		err := Decode(b, &v)
		return v, err
	})
}

// Derived declares an endpoint whose answer decode turns into a T. It
// keeps only what collectors read of a large answer (one trigger of a
// recorder's hundreds, the SecurityCap of System/capabilities), or refuses
// a well-formed answer that is not the document asked for.
func Derived[T any](path string, cached bool, decode func([]byte) (T, error)) *Endpoint[T] {
	return &Endpoint[T]{Path: path, Cached: cached, decode: decode}
}

// Large marks e's answer as one that can be large; it returns e, for use
// in e's declaration.
func (e *Endpoint[T]) Large() *Endpoint[T] {
	e.LargeAnswer = true
	return e
}

// Fetch returns e's value for the device c talks to. A cached endpoint's
// value comes from c's cache when it has one (see Client.cached); an
// uncached one is fetched now. A 2xx answer that e cannot decode is an
// *AnswerError; a cached value is shared, so callers must not modify
// slices or maps in it.
func Fetch[T any](ctx context.Context, c *Client, e *Endpoint[T]) (T, error) {
	if !e.Cached {
		return e.get(ctx, c)
	}
	v, err := c.cached(ctx, e)
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil // the cache files e's values under e alone
}

// get fetches and decodes e now, bypassing the cache.
func (e *Endpoint[T]) get(ctx context.Context, c *Client) (T, error) {
	var zero T
	b, err := c.getAnswer(ctx, e.Path, e.LargeAnswer)
	if err != nil {
		return zero, err
	}
	v, err := e.decode(b)
	if err != nil {
		return zero, &AnswerError{Path: e.Path, Err: err}
	}
	return v, nil
}

// source is what the cache needs of an endpoint, whatever its type.
type source interface {
	path() string
	large() bool
	decodeValue([]byte) (any, error)
}

func (e *Endpoint[T]) path() string                      { return e.Path }
func (e *Endpoint[T]) large() bool                       { return e.LargeAnswer }
func (e *Endpoint[T]) decodeValue(b []byte) (any, error) { return e.decode(b) }
