// Package simulator is a simulated Hikvision device speaking ISAPI over real
// HTTP. Unit tests, benchmarks and the exporter's --demo mode run against it.
//
// What it copies from real firmware (see docs/isapi.md): Digest MD5 with
// qop=auth and "hex:ms" nonces, stale nonces, the illegal-login lock and
// its userCheck 401 bodies, 403 notSupport and plain 404 answers, the
// logSearch paging protocol with its per-search entry cap, and the real
// captures embedded under captures/. Faults (hangs, resets, broken XML,
// oversize bodies) let tests check the exporter's defences.
//
// It is also the tests' shared kit (testkit.go): Start runs a device for
// the length of a test, Clock moves the device and the exporter through
// time together, SyncBuffer keeps logs and process output, and
// CertificateFiles writes a loopback certificate; shapes.go has a builder
// for every document the simulator makes up, for tests that serve a
// variant of one (Device.SetEndpoint).
package simulator

import (
	"time"
)

// Namespaces seen on real firmware (docs/isapi.md §0).
const (
	NamespaceHikvision20 = "http://www.hikvision.com/ver20/XMLSchema"
	NamespaceISAPIOrg20  = "http://www.isapi.org/ver20/XMLSchema"
)

// Endpoint is a canned answer for one "METHOD /path".
type Endpoint struct {
	Status      int // 0 means 200
	Body        []byte
	ContentType string // "" means application/xml
}

// Account is what GET /ISAPI/Security/userCheck reports on success.
type Account struct {
	DefaultPassword, RiskPassword bool
	NotActivated                  bool
	ResidualValidity              *int // days left; nil = element absent
}

// LogEvent is one entry of the device log served by logSearch.
type LogEvent struct {
	Time  time.Time
	Major string // e.g. "Exception"
	Minor string // e.g. "illlegealAccess" (sic, the firmware's spelling)
	User  string
	IP    string
}

// Profile describes one simulated device. Zero fields take the defaults
// noted beside them.
type Profile struct {
	Name      string // free text, used in logs
	Username  string // default "admin"
	Password  string // default "password"
	Realm     string // default "DS-sim"
	Namespace string // xmlns for synthesized documents; default NamespaceHikvision20

	// Nesting serves every 2xx XML answer (canned, built in, captured)
	// one level deeper, as some firmware does (see Nesting). Zero: as
	// the captures have them.
	Nesting Nesting

	// Endpoints maps "METHOD /path" (no query string) to a canned answer.
	// Unknown keys answer a plain 404, like real firmware.
	Endpoints map[string]Endpoint
	// NotSupported keys answer 403 with a ResponseStatus notSupport body.
	// They win over Endpoints and the built-in answers.
	NotSupported []string

	Account Account

	LockAfter    int           // wrong logins before the account locks; 0 = never locks
	LockDuration time.Duration // default 30m
	ExtendLock   bool          // a wrong login while locked restarts the lock (docs/isapi.md §3)
	NonceTTL     time.Duration // nonce lifetime; default 5m

	// Digest is the set of Digest challenges offered: one MD5 challenge
	// (default), or SHA-256 and MD5 together in either header form of
	// newer firmware (see DigestOffer).
	Digest DigestOffer

	BasicOnly bool // challenge with Basic only, and accept Basic
	// AcceptBasic offers a second "WWW-Authenticate: Basic" challenge after
	// the Digest one and accepts Basic credentials, as firmware does when
	// webCertificate is digest/basic (docs/isapi.md §3). Ignored with BasicOnly.
	AcceptBasic bool

	ClockSkew time.Duration // device clock = simulator clock + skew (GET /ISAPI/System/time)
	TimeMode  string        // "NTP" (default) or "manual"

	Log    []LogEvent // served by POST /ISAPI/ContentMgmt/logSearch
	LogCap int        // max entries one search returns across all its pages; default 2000

	// CertificateValidity serves HTTPS, as WithTLS does, with a self-signed
	// certificate that expires this long after New (real time, as TLS
	// clients check it). Zero: HTTPS only with WithTLS, whose certificates
	// are valid for a year.
	CertificateValidity time.Duration
}

// withDefaults returns p with zero fields defaulted and the maps and slices
// copied, so the caller may keep editing its Profile after New.
func (p Profile) withDefaults() Profile {
	if p.Username == "" {
		p.Username = "admin"
	}
	if p.Password == "" {
		p.Password = "password"
	}
	if p.Realm == "" {
		p.Realm = "DS-sim"
	}
	if p.Namespace == "" {
		p.Namespace = NamespaceHikvision20
	}
	if p.LockDuration <= 0 {
		p.LockDuration = 30 * time.Minute
	}
	if p.NonceTTL <= 0 {
		p.NonceTTL = 5 * time.Minute
	}
	if p.TimeMode == "" {
		p.TimeMode = "NTP"
	}
	if p.LogCap <= 0 {
		p.LogCap = 2000
	}
	eps := make(map[string]Endpoint, len(p.Endpoints))
	for k, e := range p.Endpoints {
		eps[k] = e
	}
	p.Endpoints = eps
	p.NotSupported = append([]string(nil), p.NotSupported...)
	p.Log = append([]LogEvent(nil), p.Log...)
	if v := p.Account.ResidualValidity; v != nil {
		n := *v
		p.Account.ResidualValidity = &n
	}
	return p
}

// Days returns a pointer to n, for Account.ResidualValidity literals.
func Days(n int) *int { return &n }
