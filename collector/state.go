package collector

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net/netip"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
	"golang.org/x/sync/singleflight"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// State is what the exporter remembers about one device and credential
// between probes: its client (connections, Digest challenge, hold-off,
// cache) and whatever a collector keeps, such as a log cursor.
type State struct {
	client   *isapi.Client
	flight   singleflight.Group
	mu       sync.Mutex
	values   map[string]any
	lastUsed time.Time
}

// Load returns the value a collector keeps under key, creating it with
// init on first use. Values must be safe for concurrent use themselves.
func (s *State) Load(key string, init func() any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]any{}
	}
	v, ok := s.values[key]
	if !ok {
		v = init()
		s.values[key] = v
	}
	return v
}

// pool keeps one State per device and credential. A config reload that
// leaves a device's address and credentials unchanged keeps its State, and
// with it any hold-off after rejected credentials.
type pool struct {
	now func() time.Time

	mu        sync.Mutex
	states    map[[32]byte]*State
	rotations map[string]rotation // address+user -> last accepted password
	lastSweep time.Time
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

// idleLimit is how long an unused State is kept; one that is holding off is
// kept at least until its hold-off ends, so forgetting cannot reset it.
const idleLimit = time.Hour

func newPool(now func() time.Time) *pool {
	return &pool{now: now, states: map[[32]byte]*State{}, rotations: map[string]rotation{}}
}

func (p *pool) get(t *config.Target, password string) (*State, error) {
	m := t.Module
	tlsConf, err := tlsConfig(m, t)
	if err != nil {
		return nil, err
	}
	key := stateKey(t, m, password)
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if s, ok := p.states[key]; ok {
		s.lastUsed = now
		return s, nil
	}
	s := &State{
		lastUsed: now,
		client: isapi.New(isapi.Options{
			Scheme: m.Scheme, Address: t.Address,
			Username: m.Username, Password: password,
			TLSConfig: tlsConf, AllowBasic: m.AllowBasicAuth,
			MaxConcurrent: m.MaxConcurrentRequests, MaxBodyBytes: m.MaxResponseBytes,
			Backoff: time.Duration(m.AuthBackoff), BackoffMax: time.Duration(m.AuthBackoffMax),
			Pinned: t.Pinned, Timeout: time.Duration(m.Timeout), Now: p.now,
		}),
	}
	p.states[key] = s
	return s, nil
}

// observe notes the password configured for a device account on every
// probe, so that a change of password_file can be told from a restart.
func (p *pool) observe(t *config.Target, password string) {
	id := t.Address + "\x00" + t.Module.Username
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

// accepted records that the device took this password, and returns when
// the exporter saw the configured password change to one the device
// accepted (zero when it has not).
func (p *pool) accepted(t *config.Target, password string) time.Time {
	id := t.Address + "\x00" + t.Module.Username
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

func (p *pool) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < time.Minute {
		return
	}
	p.lastSweep = now
	for k, s := range p.states {
		if now.Sub(s.lastUsed) < idleLimit {
			continue
		}
		if until, _, holding := s.client.HoldOff(); holding && now.Before(until) {
			continue
		}
		s.client.Close()
		delete(p.states, k)
	}
}

// stateKey identifies everything that makes a client different: where it
// connects, with which credentials (hashed, never stored in clear here) and
// how. Module settings that do not shape the client are left out so that
// changing, say, the collector list keeps the State.
func stateKey(t *config.Target, m *config.Module, password string) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", m.Scheme, t.Address, m.Username, password)
	fmt.Fprintf(h, "%+v\x00%v\x00%d\x00%d\x00%d\x00%d\x00", m.TLSConfig, m.AllowBasicAuth, m.MaxConcurrentRequests, m.MaxResponseBytes, m.AuthBackoff, m.AuthBackoffMax)
	for _, ip := range t.Pinned {
		fmt.Fprintf(h, "%s,", ip)
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func tlsConfig(m *config.Module, t *config.Target) (*tls.Config, error) {
	if m.Scheme != "https" {
		return nil, nil
	}
	c, err := promconfig.NewTLSConfig(&m.TLSConfig)
	if err != nil {
		return nil, fmt.Errorf("tls_config: %w", err)
	}
	if c.ServerName == "" {
		if _, err := netip.ParseAddr(t.Host); err != nil {
			c.ServerName = t.Host
		}
	}
	return c, nil
}
