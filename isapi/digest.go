package isapi

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/icholy/digest"
)

// authTransport answers HTTP Digest challenges while spending as few wrong
// logins as possible: a device counts every credentialed request that fails
// toward its lock (docs/isapi.md §3).
//
// Unlike digest.Transport it never retries a rejected credentialed request
// with a fresh challenge, which would cost a second failed login; it retries
// only on stale="TRUE" (an expired nonce is not a failed login) and after an
// unauthenticated request, whose 401 is just the challenge.
//
// Newer firmware offers a SHA-256 and an MD5 challenge together (docs/isapi.md
// §3). The transport picks one before any credentials go out (see
// findChallenge) and answers only that one: a rejected answer is never
// followed by an answer to the other challenge.
type authTransport struct {
	next       http.RoundTripper
	username   string
	password   string
	allowBasic bool

	mu    sync.Mutex
	chal  *digest.Challenge // cached challenge, nil until the device sent one
	nc    int               // nonce count for chal
	basic bool              // the device offered only Basic and the module allows it
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	authorized, err := t.authorize(req)
	if err != nil {
		return nil, err
	}
	res, err := t.send(req)
	if err != nil {
		t.forget() // the device may have rebooted; do not replay an old nonce
		return nil, err
	}
	if res.StatusCode != http.StatusUnauthorized {
		return res, nil
	}
	chal, cerr := findChallenge(res.Header)
	switch {
	case cerr != nil && offersBasic(res.Header) && !authorized:
		if !t.allowBasic {
			drain(res)
			return nil, ErrBasicOnly
		}
		t.mu.Lock()
		t.basic = true
		t.mu.Unlock()
	case cerr != nil && !authorized:
		drain(res)
		return nil, ErrNoChallenge
	case cerr != nil:
		// Credentials went out and the device refused them without a new
		// challenge: hand it to the caller as a rejection.
		return res, nil //nolint:nilerr // the 401 itself is the answer

	case authorized && !chal.Stale:
		// The device saw our credentials and refused them. No second try.
		t.forget()
		return res, nil
	default:
		if ae := lockedChallenge(req.URL.Path, res); ae != nil {
			// Locked already (by anyone): a password sent now would be one
			// more failed login and, on some firmware, restart the lock.
			return nil, ae
		}
		t.remember(chal)
	}
	drain(res)
	kind := challengeNew
	if authorized {
		kind = challengeStale // only a stale nonce gets here with credentials out
	}
	markChallenge(req.Context(), kind)
	req2 := req.Clone(req.Context())
	if req.GetBody != nil {
		if req2.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if _, err := t.authorize(req2); err != nil {
		return nil, err
	}
	res, err = t.send(req2)
	if err != nil {
		t.forget()
		return nil, err
	}
	if res.StatusCode == http.StatusUnauthorized {
		t.forget()
	}
	return res, nil
}

func (t *authTransport) send(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req)
}

// lockedChallenge reads the body of a plain challenge (a 401 to a request
// without credentials) and returns the lock it reports, if any. It drains
// and closes the body when it returns an error.
func lockedChallenge(path string, res *http.Response) *AuthError {
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil || !bytes.Contains(b, []byte("lockStatus")) {
		return nil //nolint:nilerr // an unreadable challenge body reports no lock
	}
	ae := parseAuthError(path, b)
	if !ae.Locked.V {
		return nil
	}
	drain(res)
	ae.Unauthenticated = true
	return ae
}

// authorize sets the Authorization header from the cached challenge, and
// reports whether credentials went out.
func (t *authTransport) authorize(req *http.Request) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.basic {
		cred := base64.StdEncoding.EncodeToString([]byte(t.username + ":" + t.password))
		req.Header.Set("Authorization", "Basic "+cred)
		markCredentials(req.Context(), schemeBasic)
		return true, nil
	}
	if t.chal == nil {
		return false, nil
	}
	t.nc++
	cred, err := digest.Digest(t.chal, digest.Options{
		Method:   req.Method,
		URI:      req.URL.RequestURI(),
		GetBody:  req.GetBody,
		Count:    t.nc,
		Username: t.username,
		Password: t.password,
	})
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", cred.String())
	markCredentials(req.Context(), schemeDigest)
	return true, nil
}

func (t *authTransport) remember(c *digest.Challenge) {
	t.mu.Lock()
	t.chal, t.nc = c, 0
	t.mu.Unlock()
}

// forget drops the cached challenge, so the next request starts with an
// unauthenticated one whose 401 costs no login attempt.
func (t *authTransport) forget() {
	t.mu.Lock()
	t.chal, t.nc, t.basic = nil, 0, false
	t.mu.Unlock()
}

// offersBasic reports whether a 401 offers Basic, in a header of its own
// or among other challenges.
func offersBasic(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range splitChallenges(v) {
			if scheme, _, _ := strings.Cut(c, " "); strings.EqualFold(scheme, "Basic") {
				return true
			}
		}
	}
	return false
}

// findChallenge returns the Digest challenge of a 401 to answer. A device
// may offer several, in WWW-Authenticate headers of their own or as a
// comma-separated list in one header (RFC 7235 §4.1); digest.FindChallenge
// takes one challenge per header, and fails on a header holding two. Of
// the challenges digest can answer (those with a nonce), SHA-256 is
// preferred, then MD5 (also when no algorithm is named), then any other,
// each in the order sent. The choice is made before any credentials go
// out, from the challenges alone, so it costs no login attempt. A Digest
// challenge that does not parse is skipped; the error is that of the last
// one when none is usable.
func findChallenge(h http.Header) (*digest.Challenge, error) {
	var (
		best     *digest.Challenge
		bestRank int
		last     error
	)
	for _, v := range h.Values("WWW-Authenticate") {
		for _, c := range splitChallenges(v) {
			if !digest.IsDigest(c) {
				continue
			}
			chal, err := digest.ParseChallenge(c)
			if err != nil {
				last = err
				continue
			}
			if chal.Nonce == "" || !digest.CanDigest(chal) {
				continue // a challenge without a nonce cannot be answered
			}
			if r := algorithmRank(chal.Algorithm); best == nil || r < bestRank {
				best, bestRank = chal, r
			}
		}
	}
	switch {
	case best != nil:
		return best, nil
	case last != nil:
		return nil, last
	}
	return nil, digest.ErrNoChallenge
}

// algorithmRank orders the Digest algorithms a device may offer: lower
// is preferred.
func algorithmRank(algorithm string) int {
	switch strings.ToUpper(strings.TrimSpace(algorithm)) {
	case "SHA-256":
		return 0
	case "MD5", "":
		return 1
	}
	return 2
}

// splitChallenges splits one WWW-Authenticate value into its challenges,
// each returned as "<scheme> <parameters>" with the parameters as sent.
// A comma outside a quoted string ends a list element; an element that
// starts with a token followed by something other than '=' starts a new
// challenge (its scheme, then its first parameter or token68), any other
// is a parameter of the challenge before it. Quoted strings may hold
// commas, '=' and escaped quotes. Empty elements are skipped, and so are
// parameters before any scheme.
func splitChallenges(v string) []string {
	var (
		out []string
		cur strings.Builder
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, e := range splitList(v) {
		scheme, rest, ok := challengeStart(e)
		switch {
		case ok:
			flush()
			cur.WriteString(scheme)
			if rest != "" {
				cur.WriteString(" " + rest)
			}
		case cur.Len() > 0:
			cur.WriteString(", " + e)
		}
	}
	flush()
	return out
}

// splitList splits a header value at the commas outside quoted strings,
// trimming spaces and tabs and dropping empty elements.
func splitList(v string) []string {
	var out []string
	add := func(e string) {
		if e = strings.Trim(e, " \t"); e != "" {
			out = append(out, e)
		}
	}
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++ // the escaped character cannot end the string
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			add(v[start:i])
			start = i + 1
		}
	}
	add(v[start:])
	return out
}

// challengeStart reports whether a list element starts a challenge: a
// token, then whitespace and something that is not '=' (the first
// parameter, or a token68), or nothing at all. It returns the scheme and
// the rest.
func challengeStart(e string) (scheme, rest string, ok bool) {
	n := 0
	for n < len(e) && isTokenChar(e[n]) {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	rest = strings.TrimLeft(e[n:], " \t")
	switch {
	case n == len(e):
		return e, "", true
	case len(rest) == len(e[n:]) || strings.HasPrefix(rest, "="):
		// "realm=..." or "realm =...": a parameter. (No whitespace after
		// the token and no '=': not a well-formed element at all.)
		return "", "", false
	}
	return e[:n], rest, true
}

// isTokenChar reports a tchar of RFC 9110 §5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
}
