package simulator

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// fakeClock is a settable simulator clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 3, 15, 40, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func start(t *testing.T, p Profile, opts ...Option) *Device {
	t.Helper()
	d, err := New(p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// digestClient is the real Digest client the exporter uses. noReuse makes
// every call exactly one challenge plus one credentialed request, so tests
// can count failed logins precisely.
func digestClient(t *testing.T, user, pass string, noReuse bool) *http.Client {
	return digestClientTr(t, user, pass, noReuse, &http.Transport{})
}

func digestClientTr(t *testing.T, user, pass string, noReuse bool, tr *http.Transport) *http.Client {
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: &digest.Transport{Username: user, Password: pass, NoReuse: noReuse, Transport: tr},
		Timeout:   5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, c *http.Client, url string) answer {
	t.Helper()
	return do(t, c, http.MethodGet, url, "")
}

// signed returns an Authorization header answering the challenge in
// wwwAuth, for hand-made requests (replays, foreign nonces).
func signed(t *testing.T, wwwAuth, method, uri, user, pass string, nc int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(wwwAuth)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Count: nc, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// rawGet sends one request with the given Authorization header (none if "").
func rawGet(t *testing.T, url, authz string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// userCheck is the userCheck document, success or rejection.
type userCheck struct {
	XMLName          xml.Name
	StatusValue      int     `xml:"statusValue"`
	StatusString     string  `xml:"statusString"`
	IsDefault        *bool   `xml:"isDefaultPassword"`
	IsRisk           *bool   `xml:"isRiskPassword"`
	IsActivated      *bool   `xml:"isActivated"`
	ResidualValidity *int    `xml:"residualValidity"`
	LockStatus       *string `xml:"lockStatus"`
	UnlockTime       *int    `xml:"unlockTime"`
	RetryLoginTime   *int    `xml:"retryLoginTime"`
}

func parseUserCheck(t *testing.T, body string) userCheck {
	t.Helper()
	var u userCheck
	if err := xml.Unmarshal([]byte(body), &u); err != nil {
		t.Fatalf("userCheck body %q: %v", body, err)
	}
	if u.XMLName.Local != "userCheck" {
		t.Fatalf("root %q, want userCheck", u.XMLName.Local)
	}
	return u
}

func wantStats(t *testing.T, d *Device, requests, unauthorized, failed int) {
	t.Helper()
	s := d.Stats()
	if s.Requests != requests || s.Unauthorized != unauthorized || s.FailedLogins != failed {
		t.Fatalf("stats requests/unauthorized/failed = %d/%d/%d, want %d/%d/%d",
			s.Requests, s.Unauthorized, s.FailedLogins, requests, unauthorized, failed)
	}
}
