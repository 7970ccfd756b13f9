package isapi

import (
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Slow-changing answers (device info, capabilities, users, service
// settings) are cached per device as decoded values, not as bytes: a warm
// probe neither asks the device nor decodes XML again, and the tens of
// kilobytes of a capabilities or triggers answer are let go once decoded.
//
// An answer older than its ttl is still served, for at most one more ttl,
// while a background refresh fetches it again. Refreshes run one request at
// a time and only between probes (see Begin), so a probe never waits for
// them, they reuse the connection the probe left idle, and a device sees
// them as a short trickle instead of a burst.

// Decoder turns an answer into the value a collector keeps. Several
// decoders (told apart by key) may read the same path.
type Decoder func([]byte) (any, error)

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

// reader is one decoder of a path, and what it made of the answer.
type reader struct {
	key    string
	decode Decoder
	value  any // nil until decoded
}

// fresh and usable report an entry's age against its ttl: fresh answers are
// served as they are, usable ones are served while a refresh is queued.
func (e *cacheEntry) fresh(now time.Time) bool  { return now.Before(e.expires) }
func (e *cacheEntry) usable(now time.Time) bool { return now.Before(e.fetched.Add(2 * e.ttl)) }

func (e *cacheEntry) value(key string) (any, bool) {
	for _, r := range e.readers {
		if r.key == key && r.value != nil {
			return r.value, true
		}
	}
	return nil, false
}

// GetCachedValue returns decode's value for path's answer, reusing it while
// the answer is younger than ttl (and serving it while a refresh is queued
// for another ttl). A "not supported" answer is cached the same way; other
// failures are not cached. A 2xx answer decode refuses is an *AnswerError.
func (c *Client) GetCachedValue(ctx context.Context, path string, ttl time.Duration, key string, decode Decoder) (any, error) {
	now := c.now()
	v, err, found, stale := c.cache.lookup(path, key, decode, now)
	if found {
		if stale {
			c.refreshLater(path)
		}
		return v, err
	}
	// Collectors that share an endpoint (capabilities) fetch it once.
	res, err, _ := c.fetches.Do(path, func() (any, error) {
		if _, _, found, stale := c.cache.lookup(path, key, decode, c.now()); found && !stale {
			return nil, nil // a flight that just ended stored it
		}
		return c.Get(ctx, path)
	})
	readers := c.cache.readers(path, key, decode)
	if err != nil {
		if IsNotSupported(err) {
			c.cache.store(path, readers, err, ttl, c.now())
		}
		return nil, err
	}
	body, _ := res.([]byte)
	if body == nil {
		if v, err, found, _ := c.cache.lookup(path, key, decode, c.now()); found {
			return v, err
		}
		return nil, fmt.Errorf("GET %s: cached answer vanished", path)
	}
	// One fetch serves every reader of the path; a reader whose decoder
	// fails keeps no value and fetches again when next asked.
	for i := range readers {
		readers[i].value, err = readers[i].decode(body)
		if err != nil {
			readers[i].value = nil
			if readers[i].key == key {
				return nil, &AnswerError{Path: path, Err: err}
			}
		}
	}
	c.cache.store(path, readers, nil, ttl, c.now())
	v, _ = (&cacheEntry{readers: readers}).value(key)
	return v, nil
}

// GetCachedXML decodes path's answer into v (a pointer to a struct) through
// the value cache. v receives a shallow copy of the cached value: callers
// must not modify slices or maps in it.
func (c *Client) GetCachedXML(ctx context.Context, path string, ttl time.Duration, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("GetCachedXML: need a non-nil pointer, got %T", v)
	}
	t := rv.Type().Elem()
	val, err := c.GetCachedValue(ctx, path, ttl, "xml:"+t.String(), func(b []byte) (any, error) {
		p := reflect.New(t)
		if err := Decode(b, p.Interface()); err != nil {
			return nil, err
		}
		return p.Interface(), nil
	})
	if err != nil {
		return err
	}
	rv.Elem().Set(reflect.ValueOf(val).Elem())
	return nil
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

// lookup finds key's value for path. A body left by Remember is decoded
// here, once. stale is set when the value is past its ttl but still usable.
func (c *cache) lookup(path, key string, decode Decoder, now time.Time) (v any, err error, found, stale bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || !e.usable(now) {
		return nil, nil, false, false
	}
	stale = !e.fresh(now)
	if e.err != nil {
		return nil, e.err, true, stale
	}
	if v, ok := e.value(key); ok {
		return v, nil, true, stale
	}
	if e.body == nil || stale {
		return nil, nil, false, false
	}
	if v, err = decode(e.body); err != nil || v == nil {
		delete(c.entries, path)
		return nil, nil, false, false // fetch again; the answer decides
	}
	c.entries[path] = &cacheEntry{readers: []reader{{key: key, decode: decode, value: v}}, fetched: e.fetched, expires: e.expires, ttl: e.ttl}
	return v, nil, true, false
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

// readers returns a new slice of path's readers, with key's added.
func (c *cache) readers(path, key string, decode Decoder) []reader {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []reader
	if e, ok := c.entries[path]; ok {
		for _, r := range e.readers {
			if r.key != key {
				out = append(out, reader{key: r.key, decode: r.decode})
			}
		}
	}
	return append(out, reader{key: key, decode: decode})
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
		out[i] = reader{key: r.key, decode: r.decode}
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
	r := &c.refresh
	r.mu.Lock()
	r.sessions++
	r.mu.Unlock()
	select {
	case r.busy <- struct{}{}:
		<-r.busy
	case <-ctx.Done():
		c.endSession()
		return nil, fmt.Errorf("waiting for a background cache refresh: %w", context.Cause(ctx))
	}
	return c.endSession, nil
}

func (c *Client) endSession() {
	r := &c.refresh
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions--
	c.startRefresher()
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
			r.mu.Unlock()
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
	ctx, cancel := context.WithTimeout(c.life, c.refreshTimeout)
	defer cancel()
	b, err := c.Get(ctx, path)
	switch {
	case IsNotSupported(err):
		c.cache.store(path, readers, err, ttl, c.now())
		return
	case err != nil:
		c.cache.drop(path)
		return
	}
	for i := range readers {
		if readers[i].value, err = readers[i].decode(b); err != nil {
			c.cache.drop(path)
			return
		}
	}
	c.cache.store(path, readers, nil, ttl, c.now())
}

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
