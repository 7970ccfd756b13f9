package probe

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
	"golang.org/x/sync/singleflight"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// State is what the exporter remembers about one device and credential
// between probes: its client (connections, Digest challenge, cache) and
// what the collectors keep, such as a log cursor. The lockout hold-off is
// not here but in the ledger shared by every client of the device account,
// so that no other name, module or reload can reset it.
type State struct {
	client     *isapi.Client
	values     *collector.Values
	flight     singleflight.Group
	health     health
	id         string // the device account, for persisted values
	rotation   string // key of the password rotation it follows
	configured bool
	lastUsed   time.Time // guarded by the pool's mu

	last lastCollection // for min_probe_interval (reuse.go)
}

// pool keeps one State per device and credential. A config reload that
// leaves a device's client settings unchanged keeps its State; one that
// changes them gets a new client, but the hold-off stays in the ledger.
type pool struct {
	now      func() time.Time
	ledger   *isapi.Ledger
	resolver config.Resolver

	mu        sync.Mutex
	states    map[[32]byte]*State
	rotations map[string]rotation // address+user -> last accepted password
	names     map[string]resolved // host -> addresses, for ledger accounts
	restored  map[string]map[string]json.RawMessage
	values    map[string]*sharedValues // by device account
	lastSweep time.Time

	tls          tlsConfigs      // one parsed tls_config per module setting
	firstFetches isapi.FetchGate // paces every client's cold work
	requests     isapi.RequestCounts
}

// rotation follows the password configured for one device account.
type rotation struct {
	seen        bool
	configured  [32]byte // the password last configured
	changed     bool     // the configuration changed since the last acceptance
	hasAccepted bool
	accepted    [32]byte // the password the device last accepted
	changedAt   time.Time
}

type resolved struct {
	addrs   []netip.Addr
	expires time.Time
}

const (
	// idleLimit is how long an unused State is kept.
	idleLimit = time.Hour
	// maxAdhocStates bounds the States of targets that are not configured
	// devices: any /probe caller can name new ones inside allowed_targets.
	// The least recently used goes first; its hold-off stays in the ledger.
	maxAdhocStates = 1024
	// nameTTL is how long a host name's addresses key its ledger accounts.
	nameTTL  = 5 * time.Minute
	maxNames = 4096
	// maxFirstFetches is how many first fetches of cached answers (a
	// device's cold work) are in flight at once across the exporter (see
	// isapi.FetchGate): after a restart, a fleet's caches fill at this pace
	// while every probe's credential check and clock go first.
	maxFirstFetches = 64
)

func newPool(now func() time.Time, ledger *isapi.Ledger, r config.Resolver) *pool {
	return &pool{
		now: now, ledger: ledger, resolver: r,
		states: map[[32]byte]*State{}, rotations: map[string]rotation{}, names: map[string]resolved{},
		values: map[string]*sharedValues{}, firstFetches: isapi.NewFetchGate(maxFirstFetches),
	}
}

// clientSpec is everything that shapes a device client. The pool keys its
// States by it and builds the client from it, so the two cannot disagree.
type clientSpec struct {
	Source        string // the module
	Scheme        string
	Address, Host string
	Username      string
	Password      string
	TLS           promconfig.TLSConfig
	AllowBasic    bool
	MaxConcurrent int
	MaxBody       int64
	Backoff       time.Duration
	BackoffMax    time.Duration
	Timeout       time.Duration
	CacheTTL      time.Duration
	Pinned        []netip.Addr
	Accounts      []isapi.Account
	CloseIdle     bool
}

func (s *clientSpec) key() [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%#v", *s))
}

func (p *pool) spec(ctx context.Context, t *config.Target, password string) clientSpec {
	m := t.Module
	return clientSpec{
		Source: t.ModuleName, Scheme: m.Scheme, Address: t.Address, Host: t.Host,
		Username: m.Username, Password: password, TLS: m.TLSConfig, AllowBasic: m.AllowBasicAuth,
		MaxConcurrent: m.MaxConcurrentRequests, MaxBody: m.MaxResponseBytes,
		Backoff: time.Duration(m.AuthBackoff), BackoffMax: time.Duration(m.AuthBackoffMax),
		Timeout: time.Duration(m.Timeout), CacheTTL: time.Duration(m.CacheTTL), Pinned: t.Pinned,
		Accounts: p.accounts(ctx, t), CloseIdle: m.CloseIdleConnections,
	}
}

func (p *pool) build(s clientSpec) (*isapi.Client, error) {
	tlsConf, err := p.tls.get(s.Scheme, &s.TLS)
	if err != nil {
		return nil, err
	}
	return isapi.New(isapi.Options{
		Scheme: s.Scheme, Address: s.Address, Username: s.Username, Password: s.Password,
		TLSConfig: tlsConf, AllowBasic: s.AllowBasic,
		MaxConcurrent: s.MaxConcurrent, MaxBodyBytes: s.MaxBody,
		Backoff: s.Backoff, BackoffMax: s.BackoffMax,
		Pinned: s.Pinned, Timeout: s.Timeout, CacheTTL: s.CacheTTL, Now: p.now,
		Ledger: p.ledger, Accounts: s.Accounts, Source: s.Source, FirstFetches: p.firstFetches,
		CloseIdle: s.CloseIdle, Requests: &p.requests,
	}), nil
}

func (p *pool) get(ctx context.Context, t *config.Target, password string) (*State, error) {
	spec := p.spec(ctx, t, password)
	key := spec.key()
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if s, ok := p.states[key]; ok {
		s.lastUsed = now
		return s, nil
	}
	client, err := p.build(spec)
	if err != nil {
		return nil, err
	}
	id := accountID(spec.Accounts[0])
	s := &State{
		client: client, values: p.valuesOf(id),
		id: id, rotation: rotationKey(t), configured: t.Configured, lastUsed: now,
	}
	p.states[key] = s
	if !t.Configured {
		p.limitAdhoc()
	}
	return s, nil
}

func accountID(a isapi.Account) string { return a.User + "@" + a.Endpoint }

// accounts lists the device accounts a target's requests reach: one per
// address the target stands for, so that every name of a device (its
// configured name, an IP, "localhost", a DNS alias) shares one hold-off.
func (p *pool) accounts(ctx context.Context, t *config.Target) []isapi.Account {
	_, port, _ := net.SplitHostPort(t.Address)
	addrs := t.Pinned
	if len(addrs) == 0 {
		addrs = p.lookup(ctx, t.Host)
	}
	if len(addrs) == 0 {
		return []isapi.Account{{Endpoint: t.Address, User: t.Module.Username}}
	}
	out := make([]isapi.Account, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, isapi.Account{Endpoint: netip.AddrPortFrom(a.Unmap(), portNumber(port)).String(), User: t.Module.Username})
	}
	slices.SortFunc(out, func(a, b isapi.Account) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return slices.Compact(out)
}

func portNumber(s string) uint16 {
	var n uint16
	_, _ = fmt.Sscan(s, &n)
	return n
}

// lookup returns a host's addresses: an IP as itself, a name resolved (and
// kept for nameTTL); nil when it cannot be resolved.
func (p *pool) lookup(ctx context.Context, host string) []netip.Addr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}
	}
	now := p.now()
	p.mu.Lock()
	r, ok := p.names[host]
	p.mu.Unlock()
	if ok && now.Before(r.expires) {
		return r.addrs
	}
	if p.resolver == nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := p.resolver.LookupNetIP(lctx, "ip", host)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	if len(p.names) >= maxNames {
		clear(p.names)
	}
	p.names[host] = resolved{addrs: addrs, expires: now.Add(nameTTL)}
	p.mu.Unlock()
	return addrs
}

// limitAdhoc closes the least recently used ad-hoc States past the limit.
// The caller holds mu.
func (p *pool) limitAdhoc() {
	var adhoc []*State
	keys := map[*State][32]byte{}
	for k, s := range p.states {
		if !s.configured {
			adhoc = append(adhoc, s)
			keys[s] = k
		}
	}
	if len(adhoc) <= maxAdhocStates {
		return
	}
	slices.SortFunc(adhoc, func(a, b *State) int { return a.lastUsed.Compare(b.lastUsed) })
	for _, s := range adhoc[:len(adhoc)-maxAdhocStates] {
		p.drop(keys[s], s)
	}
}

func (p *pool) drop(key [32]byte, s *State) {
	s.client.Close()
	delete(p.states, key)
	if v := p.values[s.id]; v != nil {
		if v.refs--; v.refs <= 0 {
			delete(p.values, s.id)
		}
	}
}

// observe notes the password configured for a device account on every
// probe, so that a change of password_file can be told from a restart.
func (p *pool) observe(t *config.Target, password string) {
	id := rotationKey(t)
	h := sha256.Sum256([]byte(password))
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rotations[id]
	if r.seen && r.configured != h {
		r.changed = true
	}
	r.seen, r.configured = true, h
	p.rotations[id] = r
}

func rotationKey(t *config.Target) string { return t.Address + "\x00" + t.Module.Username }

// accepted records that the device took this password, and returns when
// the exporter saw the configured password change to one the device
// accepted (zero when it has not).
func (p *pool) accepted(t *config.Target, password string) time.Time {
	id := rotationKey(t)
	h := sha256.Sum256([]byte(password))
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rotations[id]
	if r.changed && (!r.hasAccepted || r.accepted != h) {
		r.changedAt = p.now()
	}
	r.changed, r.hasAccepted, r.accepted = false, true, h
	p.rotations[id] = r
	return r.changedAt
}

// sweep closes States unused for idleLimit and forgets the password
// rotations of targets that have no State left. The caller holds mu.
func (p *pool) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < time.Minute {
		return
	}
	p.lastSweep = now
	for k, s := range p.states {
		if now.Sub(s.lastUsed) >= idleLimit {
			p.drop(k, s)
		}
	}
	live := map[string]bool{}
	for _, s := range p.states {
		live[s.rotation] = true
	}
	for id := range p.rotations {
		if !live[id] {
			delete(p.rotations, id)
		}
	}
}

// valuesOf returns the collectors' values of a device account: those of a
// State it already has (a reload that changed a client setting builds a
// new State, but the log cursor goes on), else those restored from disk.
// The caller holds mu.
func (p *pool) valuesOf(id string) *collector.Values {
	v := p.values[id]
	if v == nil {
		v = &sharedValues{Values: collector.NewValues(p.restored[id])}
		p.values[id] = v
	}
	v.refs++
	return v.Values
}

// sharedValues counts the States that share a device account's values.
type sharedValues struct {
	*collector.Values
	refs int
}

// snapshot returns every State's persisted values by device account.
func (p *pool) snapshot() map[string]map[string]json.RawMessage {
	p.mu.Lock()
	states := make([]*State, 0, len(p.states))
	for _, s := range p.states {
		states = append(states, s)
	}
	out := map[string]map[string]json.RawMessage{}
	for id, v := range p.restored { // devices not probed since the restart
		out[id] = v
	}
	p.mu.Unlock()
	for _, s := range states {
		if v := s.values.Persisted(); len(v) > 0 {
			out[s.id] = v
		}
	}
	return out
}

// restore sets the values States start from, by device account.
func (p *pool) restore(v map[string]map[string]json.RawMessage) {
	p.mu.Lock()
	p.restored = v
	p.mu.Unlock()
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.states {
		p.drop(k, s)
	}
}
