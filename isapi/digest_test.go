package isapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestSplitChallenges(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{`Digest realm="r", qop="auth", nonce="n1"`, `Digest realm="r", qop="auth", nonce="n1"`},
		{`Digest realm="r", nonce="n1", algorithm=MD5, Digest realm="r", nonce="n2", algorithm=SHA-256`,
			`Digest realm="r", nonce="n1", algorithm=MD5 | Digest realm="r", nonce="n2", algorithm=SHA-256`},
		// Commas, '=', escaped quotes and a scheme name inside quoted strings are text.
		{`Digest realm="a, Digest b=\"c, d\"", nonce="x,y", Basic realm="e, f"`,
			`Digest realm="a, Digest b=\"c, d\"", nonce="x,y" | Basic realm="e, f"`},
		// Empty elements, whitespace around '=' and tabs; a token68.
		{" , Negotiate abc==,\tDigest  realm = \"r\" ,, nonce=\"n\", ", `Negotiate abc== | Digest realm = "r", nonce="n"`},
		// A scheme without parameters; parameters before any scheme are dropped.
		{`realm="orphan", Basic, Digest nonce="n"`, `Basic | Digest nonce="n"`},
		{`Digest realm="unterminated, nonce="n"`, `Digest realm="unterminated, nonce="n"`},
		{"", ""},
	} {
		if got := strings.Join(splitChallenges(tc.header), " | "); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.header, got, tc.want)
		}
	}
}

// findChallenge prefers SHA-256, then MD5, whatever the order and the
// header form, and only picks what the library can answer.
func TestFindChallenge(t *testing.T) {
	const (
		md5    = `Digest realm="r", qop="auth", nonce="md5", algorithm="MD5", stale="FALSE"`
		sha256 = `Digest realm="r", qop="auth", nonce="sha256", algorithm="SHA-256", stale="FALSE"`
		plain  = `Digest qop="auth", realm="I21AE", nonce="plain", stale="FALSE"` // cameras name no algorithm
		sess   = `Digest realm="r", qop="auth", nonce="sess", algorithm=MD5-sess`
		sha512 = `Digest realm="r", qop="auth", nonce="sha512", algorithm=SHA-512-256`
		basic  = `Basic realm="r"`
		broken = `Digest realm="r", nonce="n`          // unterminated
		nonce  = `Digest realm="r", qop="auth", nonce` // nonce without a value, read as a scheme of its own
	)
	for _, tc := range []struct {
		name    string
		headers []string
		nonce   string // of the chosen challenge; "" = an error
		basic   bool   // offersBasic
	}{
		{"MD5 alone", []string{md5}, "md5", false},
		{"no algorithm named", []string{plain, basic}, "plain", true},
		{"two headers, SHA-256 first", []string{sha256, md5}, "sha256", false},
		{"two headers, MD5 first", []string{md5, sha256}, "sha256", false},
		{"one header, MD5 first", []string{md5 + ", " + sha256}, "sha256", false},
		{"one header, SHA-256 first, Basic too", []string{sha256 + ", " + md5 + ", " + basic}, "sha256", true},
		{"unanswerable session variant skipped", []string{sess + ", " + md5}, "md5", false},
		{"MD5 before other algorithms", []string{sha512, md5}, "md5", false},
		{"another algorithm when nothing else", []string{sha512}, "sha512", false},
		{"a broken challenge beside a good one", []string{broken, md5}, "md5", false},
		{"Basic only, in a list", []string{`Bearer realm="x", ` + basic}, "", true},
		{"a challenge without a nonce beside a good one", []string{nonce, md5}, "md5", false},
		{"broken only", []string{broken}, "", false},
		{"no nonce only", []string{nonce}, "", false},
		{"nothing", nil, "", false},
	} {
		h := http.Header{}
		for _, v := range tc.headers {
			h.Add("WWW-Authenticate", v)
		}
		chal, err := findChallenge(h)
		got := ""
		if err == nil {
			got = chal.Nonce
		}
		if got != tc.nonce || (err == nil) != (tc.nonce != "") {
			t.Errorf("%s: chose %q (err %v), want %q", tc.name, got, err, tc.nonce)
		}
		if len(tc.headers) == 0 && !errors.Is(err, digest.ErrNoChallenge) {
			t.Errorf("%s: err %v, want digest.ErrNoChallenge", tc.name, err)
		}
		if offersBasic(h) != tc.basic {
			t.Errorf("%s: offersBasic %v", tc.name, !tc.basic)
		}
	}
}

// authLog sits in front of a simulated device and keeps the algorithm
// of every Digest answer it passes on.
type authLog struct {
	mu         sync.Mutex
	algorithms []string
}

func (l *authLog) wrap(d *simulator.Device) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cred, err := digest.ParseCredentials(r.Header.Get("Authorization")); err == nil {
			l.mu.Lock()
			l.algorithms = append(l.algorithms, cred.Algorithm)
			l.mu.Unlock()
		}
		d.ServeHTTP(w, r)
	})
}

func (l *authLog) sent() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.algorithms, " ")
}

// twoChallengeClient is a client of a camera offering SHA-256 and MD5
// together in the given header form, seen through an authLog.
func twoChallengeClient(t *testing.T, offer simulator.DigestOffer, password string, clock *simulator.Clock) (*Client, *simulator.Device, *authLog) {
	t.Helper()
	p := camProfile()
	p.Digest, p.LockAfter = offer, 5
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	log := &authLog{}
	srv := httptest.NewServer(log.wrap(dev))
	t.Cleanup(srv.Close)
	c := New(Options{
		Scheme: "http", Address: srv.Listener.Addr().String(), Username: "admin", Password: password,
		MaxConcurrent: 2, Backoff: 30 * time.Minute, BackoffMax: 4 * time.Hour, Now: clock.Now,
	})
	t.Cleanup(c.Close)
	return c, dev, log
}

var twoChallengeForms = map[string]simulator.DigestOffer{
	"two headers": simulator.DigestBothHeaders,
	"one header":  simulator.DigestBothInOne,
}

// With the right password the client answers the SHA-256 challenge once
// and reuses it: one 401 (the challenge), no failed login.
func TestTwoChallengesRightPassword(t *testing.T) {
	for name, offer := range twoChallengeForms {
		t.Run(name, func(t *testing.T) {
			c, dev, log := twoChallengeClient(t, offer, "right-password", newClock())
			ctx := context.Background()
			if _, err := c.CheckCredentials(ctx, PathUserCheck); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
					t.Fatal(err)
				}
			}
			if s := dev.Stats(); s.Requests != 7 || s.Unauthorized != 1 || s.FailedLogins != 0 {
				t.Errorf("%+v; want 7 requests, one 401, no failed login", s)
			}
			if got := log.sent(); got != strings.TrimSpace(strings.Repeat("SHA-256 ", 6)) {
				t.Errorf("answers sent with %q, want SHA-256 six times", got)
			}
		})
	}
}

// With a wrong password the client answers one challenge, once: one
// failed login, then the hold-off; after it, one more.
func TestTwoChallengesWrongPassword(t *testing.T) {
	for name, offer := range twoChallengeForms {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			c, dev, log := twoChallengeClient(t, offer, "wrong", clock)
			ctx := context.Background()
			var ae *AuthError
			if _, err := c.CheckCredentials(ctx, PathUserCheck); !errors.As(err, &ae) || !ae.RetriesLeft.Set || ae.RetriesLeft.V != 4 {
				t.Fatalf("err = %v, want an AuthError with 4 attempts left", err)
			}
			if s := dev.Stats(); s.FailedLogins != 1 || s.Requests != 2 || log.sent() != "SHA-256" {
				t.Fatalf("%+v, answers %q; want one challenge, one SHA-256 answer, one failed login", s, log.sent())
			}
			for range 10 {
				var he *HoldOffError
				if _, err := c.CheckCredentials(ctx, PathUserCheck); !errors.As(err, &he) {
					t.Fatalf("err = %v, want HoldOffError", err)
				}
				clock.Advance(time.Minute)
			}
			if s := dev.Stats(); s.FailedLogins != 1 || s.Requests != 2 {
				t.Fatalf("while holding off: %+v", s)
			}
			clock.Advance(25 * time.Minute)
			if _, err := c.CheckCredentials(ctx, PathUserCheck); !errors.As(err, &ae) {
				t.Fatalf("after the hold-off: %v", err)
			}
			if s := dev.Stats(); s.FailedLogins != 2 || dev.Locked() || log.sent() != "SHA-256 SHA-256" {
				t.Fatalf("after the hold-off: %+v, answers %q, locked %v; want 2 failed logins", s, log.sent(), dev.Locked())
			}
		})
	}
}
