package isapi

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// The answers of cached endpoints (device info, capabilities, users,
// service settings: slow-changing ones) are kept per device as decoded
// values, not as bytes, each under the *Endpoint that decoded it: a warm
// probe neither asks the device nor decodes XML again, and the tens of
// kilobytes of a capabilities or triggers answer are let go once decoded.
//
// An answer older than its ttl is still served, for at most one more ttl,
// while a background refresh fetches it again. Refreshes run one request at
// a time and only between probes (see Begin), so a probe never waits for
// them, they reuse the connection the probe left idle, and a device sees
// them as a short trickle instead of a burst.

// AnswerError is a 2xx answer that could not be decoded: the device has the
// endpoint but sent something unreadable.
type AnswerError struct {
	Path string
	Err  error
}

func (e *AnswerError) Error() string { return fmt.Sprintf("GET %s: %v", e.Path, e.Err) }
func (e *AnswerError) Unwrap() error { return e.Err }

type cache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
	device  string // scheme://host:port, for each path's refresh phase
	// failed holds the paths whose last first fetch failed: a caller that
	// gives up on such a path's next fetch is told of a failure, not of
	// a cache still filling (an endpoint that always hangs must show as
	// failing from its second probe on).
	failed map[string]bool
}

// A cacheEntry is one path's answer. Its readers slice is never changed
// in place once stored (a new answer gets a new slice), so a refresh can
// work from a copy of the header without holding the lock. Thousands of
// devices times a dozen paths: one small slice per entry, no maps.
type cacheEntry struct {
	body    []byte // an answer stored by Remember, until first decoded
	err     error  // a cached "not supported"
	readers []reader
	fetched time.Time
	expires time.Time // fresh until; at most ttl after fetched
	ttl     time.Duration
}

// reader is one endpoint declared on a path, and what it made of the answer.
type reader struct {
	endpoint source // the key: each declaration is one pointer
	value    any
	decoded  bool // value holds the endpoint's reading of the answer
}

// fresh and usable report an entry's age against its ttl: fresh answers are
// served as they are, usable ones are served while a refresh is queued.
func (e *cacheEntry) fresh(now time.Time) bool  { return now.Before(e.expires) }
func (e *cacheEntry) usable(now time.Time) bool { return now.Before(e.fetched.Add(2 * e.ttl)) }

func (e *cacheEntry) value(ep source) (any, bool) {
	for _, r := range e.readers {
		if r.endpoint == ep && r.decoded {
			return r.value, true
		}
	}
	return nil, false
}

// cached returns ep's value, reusing it while the answer is younger than
// the client's CacheTTL (and serving it while a refresh is queued for
// another ttl). A "not supported" answer is cached the same way; other
// failures are not cached. A 2xx answer ep refuses is an *AnswerError.
//
// A value not cached yet is fetched by a flight that outlives the caller:
// when the caller's deadline passes first, it gets a *FetchingError and
// the flight goes on (up to the client's Timeout) and stores the answer
// for the next call. A cold start of thousands of devices therefore fills
// each device's cache over a few probes instead of failing every probe
// that the machine could not finish in its scrape timeout.
func (c *Client) cached(ctx context.Context, ep source) (any, error) {
	now := c.now()
	if h, found := c.cache.lookup(ep, now); found {
		if h.stale {
			c.refreshLater(ep.path())
		}
		traceCached(ctx, ep.path(), h, now)
		return h.value, h.err
	}
	ran := false
	flight := c.fetches.DoChan(ep.path(), func() (any, error) {
		ran = true
		return c.fill(ctx, ep)
	})
	var res singleflight.Result
	select {
	case res = <-flight:
	case <-ctx.Done():
		if c.cache.failedBefore(ep.path()) {
			return nil, fmt.Errorf("GET %s: %w", ep.path(), context.Cause(ctx))
		}
		return nil, &FetchingError{Path: ep.path(), Err: context.Cause(ctx)}
	}
	if res.Shared && !ran {
		traceShared(ctx, ep.path(), res.Err)
	}
	body, _ := res.Val.([]byte)
	switch {
	case errors.Is(res.Err, errFirstFetchesBusy):
		return nil, &FetchingError{Path: ep.path(), Err: res.Err}
	case res.Err != nil:
		return nil, res.Err
	case body == nil:
		return c.storedMeanwhile(ctx, ep)
	}
	if h, found := c.cache.lookup(ep, c.now()); found {
		return h.value, h.err // the flight decoded it for ep
	}
	return c.decodeAll(ep, c.cache.readers(ep), body)
}

// fill is the flight of cached: it fetches ep's path, detached from the
// caller's cancellation, and stores what it got. It counts as a probe
// session while it runs, so no background refresh overlaps it. Without a
// free slot of the exporter-wide FetchGate it sends nothing and fails
// with errFirstFetchesBusy at once. It returns no body when a flight that
// just ended stored a fresh answer.
func (c *Client) fill(ctx context.Context, ep source) ([]byte, error) {
	if h, found := c.cache.lookup(ep, c.now()); found && !h.stale {
		return nil, nil
	}
	release, ok := c.firstFetches.tryEnter()
	if !ok {
		return nil, errFirstFetchesBusy
	}
	defer release()
	c.beginSession()
	defer c.endSession()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.refreshTimeout)
	defer cancel()
	body, err := c.getAnswer(fctx, ep.path(), ep.large())
	c.cache.noteFirstFetch(ep.path(), err)
	switch {
	case IsNotSupported(err):
		c.cache.store(ep.path(), c.cache.readers(ep), err, c.cacheTTL, c.now())
		return nil, err
	case err != nil:
		return nil, err
	}
	_, _ = c.decodeAll(ep, c.cache.readers(ep), body) // a refused answer is not stored; its caller decodes again and reports it
	return body, nil
}

// FetchingError is returned when the caller's deadline passed while the
// first fetch of a cached answer was still under way. The fetch goes on
// in the background and the next call finds its answer.
type FetchingError struct {
	Path string
	Err  error
}

func (e *FetchingError) Error() string {
	return fmt.Sprintf("GET %s: first fetch still under way at the deadline, kept for the next probe: %v", e.Path, e.Err)
}

func (e *FetchingError) Unwrap() error { return e.Err }

// A FetchGate caps the first fetches of cached answers in flight at once
// across every client that shares it: the cold work of a fleet (every
// device's capabilities, users, services…) after a restart. A first fetch
// that finds it full is put off to a later probe, whose caller is told the
// area is warming. Credential checks and uncached requests never wait for
// it, so a probe still answers up or down on time while the fleet's caches
// fill, at the pace the gate allows.
type FetchGate chan struct{}

// NewFetchGate returns a gate of n slots; n <= 0 means no limit (nil).
func NewFetchGate(n int) FetchGate {
	if n <= 0 {
		return nil
	}
	return make(FetchGate, n)
}

// tryEnter takes a slot if one is free; a nil gate has slots for all.
// Nothing waits for a slot: a goroutine per waiting fetch, ten thousand
// devices times a dozen answers, would cost more memory than the devices.
func (g FetchGate) tryEnter() (release func(), ok bool) {
	if g == nil {
		return func() {}, true
	}
	select {
	case g <- struct{}{}:
		return func() { <-g }, true
	default:
		return nil, false
	}
}

// errFirstFetchesBusy is a first fetch put off because the exporter's
// FetchGate was full; the caller gets a *FetchingError.
var errFirstFetchesBusy = errors.New("the exporter's first fetches are at their limit; fetched at a later probe")

// storedMeanwhile returns what another flight stored for ep.
func (c *Client) storedMeanwhile(ctx context.Context, ep source) (any, error) {
	now := c.now()
	if h, found := c.cache.lookup(ep, now); found {
		traceCached(ctx, ep.path(), h, now)
		return h.value, h.err
	}
	return nil, fmt.Errorf("GET %s: cached answer vanished", ep.path())
}

// decodeAll decodes one fetched answer for every reader of its path, so
// that one fetch serves them all, and stores it. A reader whose decoder
// fails keeps no value and fetches again when next asked.
func (c *Client) decodeAll(ep source, readers []reader, body []byte) (any, error) {
	var answerErr error
	for i := range readers {
		r := &readers[i]
		v, err := r.endpoint.decodeValue(body)
		r.value, r.decoded = v, err == nil
		if err != nil && r.endpoint == ep {
			answerErr = &AnswerError{Path: ep.path(), Err: err}
		}
	}
	if answerErr != nil {
		return nil, answerErr
	}
	c.cache.store(ep.path(), readers, nil, c.cacheTTL, c.now())
	v, _ := (&cacheEntry{readers: readers}).value(ep)
	return v, nil
}

// Remember stores an answer fetched some other way (for example by the
// credential check) as if the cache had fetched it.
func (c *Client) Remember(path string, body []byte, ttl time.Duration) {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.init()
	now := c.now()
	c.cache.entries[path] = &cacheEntry{body: body, fetched: now, expires: c.cache.expiry(path, now, ttl), ttl: ttl}
}

func (c *cache) init() {
	if c.entries == nil {
		c.entries = map[string]*cacheEntry{}
	}
}

// hit is what the cache holds for an endpoint: its value or a cached "not
// supported", and whether the answer is past its ttl but still usable.
type hit struct {
	value   any
	err     error
	stale   bool
	fetched time.Time // when the device sent the answer, for a Trace
}

// lookup finds ep's value. A body left by Remember is decoded here, once.
func (c *cache) lookup(ep source, now time.Time) (h hit, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	path := ep.path()
	e, ok := c.entries[path]
	if !ok || !e.usable(now) {
		return hit{}, false
	}
	stale := !e.fresh(now)
	if e.err != nil {
		return hit{err: e.err, stale: stale, fetched: e.fetched}, true
	}
	if v, ok := e.value(ep); ok {
		return hit{value: v, stale: stale, fetched: e.fetched}, true
	}
	if e.body == nil || stale {
		return hit{}, false
	}
	v, err := ep.decodeValue(e.body)
	if err != nil {
		delete(c.entries, path)
		return hit{}, false // fetch again; the answer decides
	}
	c.entries[path] = &cacheEntry{readers: []reader{{endpoint: ep, value: v, decoded: true}}, fetched: e.fetched, expires: e.expires, ttl: e.ttl}
	return hit{value: v, fetched: e.fetched}, true
}

// noteFirstFetch records whether a first fetch of path failed.
func (c *cache) noteFirstFetch(path string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil && !IsNotSupported(err):
		if c.failed == nil {
			c.failed = map[string]bool{}
		}
		c.failed[path] = true
	case c.failed != nil:
		delete(c.failed, path)
	}
}

func (c *cache) failedBefore(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed[path]
}

// store records a fetched answer's readers (or its "not supported").
func (c *cache) store(path string, readers []reader, err error, ttl time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.entries[path] = &cacheEntry{err: err, readers: readers, fetched: now, expires: c.expiry(path, now, ttl), ttl: ttl}
}

// expiry spreads refreshes over time. Each path of each device has its own
// phase within the ttl period (from a hash of both), and an answer stays
// fresh until the next time the clock passes that phase: at most ttl, and
// exactly ttl from one refresh to the next. Without it every device
// probed in the same minute after a restart would refresh all its answers
// in the same minute, every ttl, and the whole fleet's refresh load would
// come in waves; with it each probe refreshes a few answers.
func (c *cache) expiry(path string, now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return now
	}
	h := fnv.New64a()
	h.Write([]byte(c.device))
	h.Write([]byte{0})
	h.Write([]byte(path))
	phase := time.Duration(h.Sum64() % uint64(ttl))
	next := now.Truncate(ttl).Add(phase) // Truncate works on absolute time
	for !next.After(now) {
		next = next.Add(ttl)
	}
	return next
}

// readers returns a new slice of the readers of ep's path, values
// cleared, with ep added.
func (c *cache) readers(ep source) []reader {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []reader
	if e, ok := c.entries[ep.path()]; ok {
		for _, r := range e.readers {
			if r.endpoint != ep {
				out = append(out, reader{endpoint: r.endpoint})
			}
		}
	}
	return append(out, reader{endpoint: ep})
}

// refreshTarget returns path's readers (values cleared) and ttl for a
// background refresh, or false when the entry is gone or was refreshed
// meanwhile.
func (c *cache) refreshTarget(path string, now time.Time) ([]reader, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.fresh(now) || (len(e.readers) == 0 && e.err == nil) {
		return nil, 0, false
	}
	out := make([]reader, len(e.readers))
	for i, r := range e.readers {
		out[i] = reader{endpoint: r.endpoint}
	}
	return out, e.ttl, true
}

func (c *cache) drop(path string) {
	c.mu.Lock()
	delete(c.entries, path)
	c.mu.Unlock()
}

// refresher works the queue of stale paths between probes.
type refresher struct {
	mu       sync.Mutex
	queue    []string // a dozen paths at most: a slice, scanned
	sessions int      // probes in progress
	running  bool     // a refresh goroutine is working the queue
	closed   bool
	busy     chan struct{} // held while a refresh request is in flight
}

// Begin marks the start of a probe. It waits for a refresh request in
// flight (at most one) to finish, so that no background request overlaps a
// probe's: if the credentials stopped working, the probe's credential check
// is the only request that can find out. The returned func ends the probe
// and lets queued refreshes run.
func (c *Client) Begin(ctx context.Context) (end func(), err error) {
	c.beginSession()
	r := &c.refresh
	select {
	case r.busy <- struct{}{}:
		<-r.busy
		return c.endSession, nil
	default:
	}
	return c.waitRefresh(ctx)
}

// waitRefresh waits for the refresh request in flight when a probe begins.
func (c *Client) waitRefresh(ctx context.Context) (end func(), err error) {
	r := &c.refresh
	start := time.Now()
	select {
	case r.busy <- struct{}{}:
		<-r.busy
	case <-ctx.Done():
		c.endSession()
		err = fmt.Errorf("waiting for a background cache refresh: %w", context.Cause(ctx))
	}
	if t := traceFrom(ctx); t != nil {
		t.add(TraceEvent{Kind: EventWait, Start: t.since(start), Duration: time.Since(start), Err: errText(err)})
	}
	if err != nil {
		return nil, err
	}
	return c.endSession, nil
}

func (c *Client) beginSession() {
	r := &c.refresh
	r.mu.Lock()
	r.sessions++
	r.mu.Unlock()
}

func (c *Client) endSession() {
	r := &c.refresh
	r.mu.Lock()
	r.sessions--
	c.startRefresher()
	idle := r.sessions == 0 && !r.running
	r.mu.Unlock()
	if idle {
		c.fellIdle()
	}
}

// fellIdle is called when no probe and no refresh is using the client.
func (c *Client) fellIdle() {
	if c.closeIdle {
		c.conns.CloseIdleConnections()
	}
}

// refreshLater queues path for a background refresh.
func (c *Client) refreshLater(path string) {
	r := &c.refresh
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.queue, path) {
		return
	}
	r.queue = append(r.queue, path)
	c.startRefresher()
}

// startRefresher starts the refresh goroutine when there is work, no probe
// runs and none is working already. The caller holds refresh.mu.
func (c *Client) startRefresher() {
	r := &c.refresh
	if r.running || r.closed || r.sessions > 0 || len(r.queue) == 0 {
		return
	}
	r.running = true
	go c.refreshQueued()
}

func (c *Client) refreshQueued() {
	r := &c.refresh
	for {
		r.mu.Lock()
		if r.closed || r.sessions > 0 || len(r.queue) == 0 {
			r.running = false
			idle := r.sessions == 0
			r.mu.Unlock()
			if idle {
				c.fellIdle()
			}
			return
		}
		path := r.queue[0]
		r.queue = r.queue[1:]
		if len(r.queue) == 0 {
			r.queue = nil // let the backing array go between refreshes
		}
		r.busy <- struct{}{} // never blocks: only this goroutine fills it
		r.mu.Unlock()
		c.refreshOne(path)
		<-r.busy
	}
}

// refreshOne fetches path again and decodes it with every reader of it.
// Any failure drops the entry, so that the next probe asks the device
// itself and reports what went wrong.
func (c *Client) refreshOne(path string) {
	readers, ttl, ok := c.cache.refreshTarget(path, c.now())
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(withRefresh(c.life), c.refreshTimeout)
	defer cancel()
	b, err := c.getAnswer(ctx, path, slices.ContainsFunc(readers, func(r reader) bool { return r.endpoint.large() }))
	switch {
	case IsNotSupported(err):
		c.cache.store(path, readers, err, ttl, c.now())
		return
	case err != nil:
		c.cache.drop(path)
		return
	}
	for i := range readers {
		if readers[i].value, err = readers[i].endpoint.decodeValue(b); err != nil {
			c.cache.drop(path)
			return
		}
		readers[i].decoded = true
	}
	c.cache.store(path, readers, nil, ttl, c.now())
}

type refreshKey struct{}

// withRefresh marks a background refresh's requests, for RequestCounts.
func withRefresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, refreshKey{}, true)
}

func isRefresh(ctx context.Context) bool { return ctx.Value(refreshKey{}) != nil }

// WaitRefreshed waits until no background refresh is queued or running
// (queued work waits for probes in progress to end). Tests and benchmarks
// use it to count a probe's requests, refreshes included, before the next.
func (c *Client) WaitRefreshed(ctx context.Context) error {
	r := &c.refresh
	for {
		r.mu.Lock()
		idle := !r.running && (len(r.queue) == 0 || r.sessions > 0 || r.closed)
		r.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for background refreshes: %w", context.Cause(ctx))
		case <-time.After(time.Millisecond):
		}
	}
}
