package simulator

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authResult is what the credentials on a request amount to, before the
// lock is consulted.
type authResult int

const (
	authNone    authResult = iota // no usable credentials: challenge, not a failed login
	authUnknown                   // nonce this device never issued: challenge, not a failed login
	authStale                     // right hash, expired or replayed nonce: stale=TRUE
	authBad                       // digest uri does not match the request: 400
	authRefused                   // right Basic password, but Basic is not accepted
	authWrong                     // wrong password or unknown user: a failed login
	authOK
)

// nonce is 16 random bytes and an 8-byte MAC over them and the issue time,
// hex encoded, then ":" and the issue time in ms, like firmware's
// "<hex>:<ms>". The MAC lets the device tell its own expired nonces (stale)
// from ones another device or an earlier run issued, without storing them.
func (d *Device) newNonce(now time.Time) string {
	r := make([]byte, 16)
	rand.Read(r)
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	return hex.EncodeToString(r) + hex.EncodeToString(d.nonceMAC(r, ms)) + ":" + ms
}

func (d *Device) nonceMAC(r []byte, ms string) []byte {
	m := hmac.New(sha256.New, d.secret)
	m.Write(r)
	m.Write([]byte(ms))
	return m.Sum(nil)[:8]
}

// nonceIssued reports whether this device issued nonce, and when.
func (d *Device) nonceIssued(nonce string) (time.Time, bool) {
	h, ms, ok := strings.Cut(nonce, ":")
	if !ok || len(h) != 48 {
		return time.Time{}, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return time.Time{}, false
	}
	if !hmac.Equal(raw[16:], d.nonceMAC(raw[:16], ms)) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

// DigestOffer is the set of Digest challenges a device sends with a 401.
type DigestOffer int

const (
	// DigestMD5 is one MD5 challenge, as the firmware quoted in docs/isapi.md §3.
	DigestMD5 DigestOffer = iota
	// DigestBothHeaders offers a SHA-256 and an MD5 challenge, each in a
	// WWW-Authenticate header of its own, SHA-256 first, as newer
	// firmware does (docs/isapi.md §3). Either is accepted.
	DigestBothHeaders
	// DigestBothInOne offers the same two challenges as one
	// comma-separated WWW-Authenticate value, MD5 first, so that a client
	// must split the header, and choose, by itself.
	DigestBothInOne
)

// challengeHeaders sets the WWW-Authenticate headers of a 401. The Digest
// form follows the NVR one quoted in docs/isapi.md §3. Each challenge has a
// nonce of its own.
func (d *Device) challengeHeaders(h http.Header, p *Profile, now time.Time, stale bool) {
	basic := fmt.Sprintf("Basic realm=%q", p.Realm)
	if p.BasicOnly {
		h.Set("WWW-Authenticate", basic)
		return
	}
	st := "FALSE"
	if stale {
		st = "TRUE"
	}
	challenge := func(algorithm string) string {
		return fmt.Sprintf(`Digest realm=%q, domain="::", qop="auth", nonce=%q, opaque=%q, algorithm=%q, stale="%s"`,
			p.Realm, d.newNonce(now), d.opaque, algorithm, st)
	}
	h.Del("WWW-Authenticate")
	switch p.Digest {
	case DigestBothHeaders:
		h.Add("WWW-Authenticate", challenge("SHA-256"))
		h.Add("WWW-Authenticate", challenge("MD5"))
	case DigestBothInOne:
		h.Add("WWW-Authenticate", challenge("MD5")+", "+challenge("SHA-256"))
	default:
		h.Add("WWW-Authenticate", challenge("MD5"))
	}
	if p.AcceptBasic {
		h.Add("WWW-Authenticate", basic)
	}
}

// digestHash returns the hash of a Digest algorithm the device accepts:
// MD5 (also when the answer names none), and SHA-256 when it offers that.
func digestHash(p *Profile, algorithm string) (func(string) string, bool) {
	switch {
	case algorithm == "" || strings.EqualFold(algorithm, "MD5"):
		return md5hex, true
	case strings.EqualFold(algorithm, "SHA-256") && p.Digest != DigestMD5:
		return sha256hex, true
	}
	return nil, false
}

// checkCredentialsLocked classifies the Authorization header. It returns the
// user name the client tried, for the log. d.mu must be held (it reads the
// password and records used nonce counts).
func (d *Device) checkCredentialsLocked(r *http.Request, now time.Time) (authResult, string) {
	p := &d.prof
	authz := r.Header.Get("Authorization")
	if user, pass, ok := r.BasicAuth(); ok {
		right := user == p.Username && pass == p.Password
		switch {
		case !right:
			return authWrong, user
		case p.BasicOnly || p.AcceptBasic:
			return authOK, user
		default:
			return authRefused, user
		}
	}
	scheme, rest, _ := strings.Cut(authz, " ")
	if p.BasicOnly || !strings.EqualFold(scheme, "Digest") {
		return authNone, ""
	}
	c := parseAuthParams(rest)
	user := c["username"]
	if user == "" || c["nonce"] == "" || c["response"] == "" || c["uri"] == "" {
		return authNone, user
	}
	hash, ok := digestHash(p, c["algorithm"])
	if !ok {
		return authNone, user
	}
	// We only offer qop=auth, so a client must answer with it, a cnonce and
	// an 8-hex-digit nonce count (RFC 7616 §3.4).
	nc, err := strconv.ParseUint(c["nc"], 16, 32)
	if c["qop"] != "auth" || c["cnonce"] == "" || len(c["nc"]) != 8 || err != nil {
		return authNone, user
	}
	if o, ok := c["opaque"]; ok && o != d.opaque {
		return authNone, user
	}
	if c["uri"] != r.RequestURI {
		return authBad, user
	}
	issued, ours := d.nonceIssued(c["nonce"])
	if !ours {
		// After a restart the device cannot check the hash: it just asks again.
		return authUnknown, user
	}
	if user != p.Username {
		return authWrong, user
	}
	ha1 := hash(p.Username + ":" + p.Realm + ":" + p.Password)
	ha2 := hash(r.Method + ":" + c["uri"])
	want := hash(ha1 + ":" + c["nonce"] + ":" + c["nc"] + ":" + c["cnonce"] + ":auth:" + ha2)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(c["response"]))) {
		return authWrong, user
	}
	if now.Sub(issued) > p.NonceTTL || issued.Sub(now) > p.NonceTTL {
		return authStale, user
	}
	// A repeated nonce count is a replay; answering stale makes an honest
	// client fetch a fresh nonce. Counts may arrive out of order when a
	// client shares one cached challenge across parallel requests, so we
	// remember the ones used rather than requiring each to exceed the last.
	seen := d.ncSeen[c["nonce"]]
	if seen == nil {
		d.pruneNoncesLocked(now)
		seen = map[uint32]bool{}
		d.ncSeen[c["nonce"]] = seen
	}
	if seen[uint32(nc)] || len(seen) >= 1<<16 {
		return authStale, user
	}
	seen[uint32(nc)] = true
	return authOK, user
}

// pruneNoncesLocked forgets the counts of expired nonces; they are
// rejected as stale by their timestamp anyway. It runs when the table has
// doubled since the last pass, so its cost stays constant per nonce.
func (d *Device) pruneNoncesLocked(now time.Time) {
	if len(d.ncSeen) < max(d.pruneAt, 256) {
		return
	}
	for n := range d.ncSeen {
		if t, _ := d.nonceIssued(n); now.Sub(t) > d.prof.NonceTTL {
			delete(d.ncSeen, n)
		}
	}
	d.pruneAt = 2 * len(d.ncSeen)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseAuthParams parses the comma-separated key=value list of a Digest
// header; values may be quoted with backslash escapes.
func parseAuthParams(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, `"`) {
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val.WriteString(strings.TrimSpace(s[:end]))
			s = s[end:]
		}
		out[key] = val.String()
	}
}
