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
// toward its lock (isapi.md §3).
//
// Unlike digest.Transport it never retries a rejected credentialed request
// with a fresh challenge, which would cost a second failed login; it retries
// only on stale="TRUE" (an expired nonce is not a failed login) and after an
// unauthenticated request, whose 401 is just the challenge.
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
	chal, cerr := digest.FindChallenge(res.Header)
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

func offersBasic(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if len(v) >= 5 && strings.EqualFold(v[:5], "basic") {
			return true
		}
	}
	return false
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
}
