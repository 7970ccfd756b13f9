package simulator

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

type options struct {
	tls    bool
	tlsMax uint16 // 0: the crypto/tls default (TLS 1.3)
	addr   string
	now    func() time.Time
}

// Option configures New.
type Option func(*options)

// WithTLS serves HTTPS with a fresh self-signed certificate (see Certificate).
func WithTLS() Option { return func(o *options) { o.tls = true } }

// WithTLSMaxVersion serves HTTPS, as WithTLS does, offering TLS versions up
// to v (tls.VersionTLS12 or tls.VersionTLS13), as older and newer firmware
// do. Every device accepts TLS 1.2 at least.
func WithTLSMaxVersion(v uint16) Option {
	return func(o *options) { o.tls, o.tlsMax = true, v }
}

// WithListenAddr sets the listen address, e.g. "127.0.0.7:0" so a fleet
// benchmark can spread devices over loopback addresses. Default "127.0.0.1:0".
func WithListenAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithClock replaces the simulator clock, which drives nonce expiry, the
// lock timer, the device time and failed-login log entries. Latency and
// hangs always use real time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(opts []Option) options {
	o := options{addr: "127.0.0.1:0", now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Device is a running simulated device. All methods are safe for
// concurrent use.
type Device struct {
	now    func() time.Time
	srv    *http.Server
	ln     net.Listener
	url    string
	cert   *x509.Certificate
	secret []byte // keys the nonce MAC, so nonces from another device fail
	opaque string

	closed    chan struct{} // closed by Close; unblocks hanging handlers
	serveDone chan struct{}
	handlers  sync.WaitGroup

	mu           sync.Mutex
	isClosed     bool
	prof         Profile
	notSupported map[string]bool
	latency      time.Duration
	faults       map[string]Fault
	ncSeen       map[string]map[uint32]bool // nonce -> nc values already used
	pruneAt      int                        // ncSeen size that triggers the next prune
	failures     int                        // consecutive failed logins
	lockedUntil  time.Time
	searches     map[string]*searchResult
	stats        Stats
	inFlight     int
}

// New starts a device serving p. It listens before returning, so Addr and
// URL are usable at once.
func New(p Profile, opts ...Option) (*Device, error) {
	o := buildOptions(opts)
	d := &Device{
		now:          o.now,
		prof:         p.withDefaults(),
		closed:       make(chan struct{}),
		serveDone:    make(chan struct{}),
		faults:       map[string]Fault{},
		ncSeen:       map[string]map[uint32]bool{},
		searches:     map[string]*searchResult{},
		notSupported: map[string]bool{},
		stats:        Stats{ByPath: map[string]int{}, Authenticated: map[string]int{}},
	}
	for _, k := range d.prof.NotSupported {
		d.notSupported[k] = true
	}
	d.secret = make([]byte, 32)
	rand.Read(d.secret)
	op := make([]byte, 16)
	rand.Read(op)
	d.opaque = hex.EncodeToString(op)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: listen %s: %w", o.addr, err)
	}
	scheme := "http"
	if o.tls || d.prof.CertificateValidity > 0 {
		validity := d.prof.CertificateValidity
		if validity <= 0 {
			validity = 365 * 24 * time.Hour
		}
		cert, parsed, err := selfSignedCertValidFor(ln.Addr().(*net.TCPAddr), validity)
		if err != nil {
			ln.Close()
			return nil, err
		}
		d.cert = parsed
		// HTTP/1.1 only: the Reset fault needs to hijack the connection.
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"},
			MinVersion: tls.VersionTLS12, MaxVersion: o.tlsMax,
		})
		scheme = "https"
	}
	d.ln = ln
	d.url = scheme + "://" + ln.Addr().String()
	d.srv = &http.Server{
		Handler:           d,
		ConnState:         d.connState,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          discardLogger,
	}
	go func() {
		defer close(d.serveDone)
		_ = d.srv.Serve(ln) // ends with ErrServerClosed at Close
	}()
	return d, nil
}

// Addr returns "host:port".
func (d *Device) Addr() string { return d.ln.Addr().String() }

// URL returns "http://host:port" or "https://host:port".
func (d *Device) URL() string { return d.url }

// Certificate returns the self-signed server certificate, or nil without WithTLS.
func (d *Device) Certificate() *x509.Certificate { return d.cert }

// Close stops the device: it drops every connection, releases hanging
// handlers and waits for all handlers to return. It is safe to call twice.
func (d *Device) Close() {
	d.mu.Lock()
	if d.isClosed {
		d.mu.Unlock()
		return
	}
	d.isClosed = true
	d.mu.Unlock()
	close(d.closed)
	d.srv.Close()
	<-d.serveDone
	d.handlers.Wait()
}

// SetPassword changes the account password; nonces already issued stay valid.
func (d *Device) SetPassword(p string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prof.Password = p
}

// SetAccount changes what userCheck reports.
func (d *Device) SetAccount(a Account) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prof.Account = Profile{Account: a}.withDefaults().Account
}

// SetEndpoint installs or replaces the answer for key ("GET /path"). It also
// takes key off the NotSupported list, since the caller wants it served.
func (d *Device) SetEndpoint(key string, e Endpoint) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prof.Endpoints[key] = e
	delete(d.notSupported, key)
}

// AddLog appends events to the device log.
func (d *Device) AddLog(ev ...LogEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prof.Log = append(d.prof.Log, ev...)
}

// SetLatency adds l of real time to every request before it is answered.
func (d *Device) SetLatency(l time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.latency = l
}

// SetFault installs f for key ("GET /path"), or for every request when key
// is "". The zero Fault clears it.
func (d *Device) SetFault(key string, f Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f == (Fault{}) {
		delete(d.faults, key)
		return
	}
	d.faults[key] = f
}

// Locked reports whether the account is locked now.
func (d *Device) Locked() bool {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLockLocked(now)
	return now.Before(d.lockedUntil)
}

// Log returns a copy of the device log, including failed-login entries.
func (d *Device) Log() []LogEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.prof.Log)
}

// Profile returns the profile the device runs with (defaults applied).
func (d *Device) Profile() Profile {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.prof.withDefaults()
	p.NotSupported = p.NotSupported[:0]
	for k := range d.notSupported {
		p.NotSupported = append(p.NotSupported, k)
	}
	slices.Sort(p.NotSupported)
	return p
}
