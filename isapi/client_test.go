package isapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestDigestChallengeIsReused(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	var counts RequestCounts
	c := clientFor(t, dev, "right-password", func(o *Options) { o.Requests = &counts })
	ctx := context.Background()
	if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
		t.Fatal(err)
	}
	first := dev.Stats()
	if first.Unauthorized != 1 || first.Requests != 2 {
		t.Fatalf("cold request: %d requests, %d 401s; want 2 and 1", first.Requests, first.Unauthorized)
	}
	for range 5 {
		if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
			t.Fatal(err)
		}
	}
	s := dev.Stats()
	if s.Unauthorized != 1 || s.Requests != 7 || s.Connections != 1 || s.FailedLogins != 0 {
		t.Errorf("warm requests: %+v; want no new 401, 7 requests, 1 connection", s)
	}
	if n := counts.Probe.Load(); n != 7 {
		t.Errorf("counted %d requests sent, want 7", n)
	}
}

func TestWrongPasswordCostsOneLoginThenHoldsOff(t *testing.T) {
	clock := newClock()
	p := camProfile()
	p.LockAfter = 3
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	c := clientFor(t, dev, "wrong", func(o *Options) { o.Now = clock.Now })
	ctx := context.Background()

	_, err := c.Get(ctx, PathUserCheck)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want AuthError", err)
	}
	if !ae.RetriesLeft.Set || ae.RetriesLeft.V != 2 {
		t.Errorf("RetriesLeft = %+v, want 2 from the 401 body", ae.RetriesLeft)
	}
	if s := dev.Stats(); s.FailedLogins != 1 {
		t.Fatalf("failed logins after one request = %d, want 1", s.FailedLogins)
	}
	before := dev.Stats().Requests
	for range 10 {
		_, err := c.Get(ctx, PathDeviceInfo)
		var he *HoldOffError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v, want HoldOffError", err)
		}
		if !he.Until.Equal(clock.Now().Add(30 * time.Minute)) {
			t.Fatalf("hold-off until %v, want 30m from now", he.Until)
		}
	}
	if got := dev.Stats().Requests; got != before {
		t.Fatalf("device saw %d requests while holding off", got-before)
	}

	// After the backoff one more try is allowed; it fails and the wait doubles.
	clock.Advance(30*time.Minute + time.Second)
	if _, err := c.Get(ctx, PathUserCheck); !errors.As(err, &ae) {
		t.Fatalf("err = %v, want AuthError", err)
	}
	until, _, holding := c.HoldOff()
	if !holding || !until.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("second hold-off until %v (holding %v), want 1h from now", until, holding)
	}
	if s := dev.Stats(); s.FailedLogins != 2 || dev.Locked() {
		t.Errorf("failed logins = %d, locked = %v; want 2, unlocked", s.FailedLogins, dev.Locked())
	}

	// The password is fixed on the device side: the next try succeeds and clears the hold-off.
	dev.SetPassword("wrong")
	clock.Advance(time.Hour + time.Second)
	if _, err := c.Get(ctx, PathUserCheck); err != nil {
		t.Fatalf("after fix: %v", err)
	}
	if _, _, holding := c.HoldOff(); holding {
		t.Error("still holding off after success")
	}
}

func TestBackoffIsCapped(t *testing.T) {
	now := time.Unix(0, 0)
	g := NewLedger(func() time.Time { return now }).guard([]Account{{Endpoint: "127.0.0.1:80", User: "u"}}, "m", "pw", 30*time.Minute, 2*time.Hour)
	var got []time.Duration
	for range 5 {
		got = append(got, g.reject(nil).Sub(now))
	}
	want := []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 2 * time.Hour, 2 * time.Hour}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits = %v, want %v", got, want)
		}
	}
}

func TestLockedDeviceIsNotContactedBeforeUnlock(t *testing.T) {
	clock := newClock()
	p := camProfile()
	p.LockAfter, p.LockDuration = 2, 3*time.Hour
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	// Someone else locks the account.
	other := clientFor(t, dev, "bad", nil)
	for range 2 {
		other.guard.accept()
		_, _ = other.Get(context.Background(), PathUserCheck)
	}
	if !dev.Locked() {
		t.Fatal("device did not lock")
	}
	c := clientFor(t, dev, "right-password", func(o *Options) { o.Now = clock.Now; o.Backoff = time.Minute })
	_, err := c.Get(context.Background(), PathUserCheck)
	var ae *AuthError
	if !errors.As(err, &ae) || !ae.Locked.V || !ae.UnlockIn.Set {
		t.Fatalf("err = %#v, want a locked AuthError with unlockTime", err)
	}
	until, _, _ := c.HoldOff()
	if want := clock.Now().Add(time.Duration(ae.UnlockIn.V) * time.Second); !until.Equal(want) || until.Sub(clock.Now()) < 2*time.Hour {
		t.Errorf("hold-off until %v, want the unlock time %v (longer than the 1m backoff)", until, want)
	}
}

func TestStaleNonceIsNotAFailedLogin(t *testing.T) {
	clock := newClock()
	p := camProfile()
	p.NonceTTL = time.Minute
	dev := simulator.Start(t, p, simulator.WithClock(clock.Now))
	c := clientFor(t, dev, "right-password", nil)
	ctx := context.Background()
	if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
		t.Fatalf("after nonce expiry: %v", err)
	}
	if s := dev.Stats(); s.FailedLogins != 0 || s.Unauthorized != 2 {
		t.Errorf("stats %+v; want 0 failed logins and 2 challenges", s)
	}
}

func TestConnectionErrorDropsTheChallenge(t *testing.T) {
	dev, c := acceptedClient(t)
	ctx := context.Background()
	dev.SetFault("", simulator.Fault{Reset: true})
	if _, err := c.Get(ctx, PathDeviceInfo); err == nil {
		t.Fatal("want an error from a reset connection")
	}
	dev.SetFault("", simulator.Fault{})
	dev.ResetStats()
	if _, err := c.Get(ctx, PathDeviceInfo); err != nil {
		t.Fatal(err)
	}
	// A rebooted device would not know the old nonce; starting over costs a
	// challenge round trip, never a failed login.
	if s := dev.Stats(); s.Unauthorized != 1 || s.FailedLogins != 0 {
		t.Errorf("after reset: %+v; want one fresh challenge, no failed login", s)
	}
}

func TestAfterHoldOffOnlyOneRequestTests(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, camProfile(), simulator.WithClock(clock.Now))
	dev.SetLatency(50 * time.Millisecond)
	c := clientFor(t, dev, "wrong", func(o *Options) { o.Now = clock.Now })
	_, _ = c.Get(context.Background(), PathUserCheck)
	clock.Advance(31 * time.Minute)
	var wg sync.WaitGroup
	var holdOffs atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var he *HoldOffError
			if _, err := c.Get(context.Background(), PathDeviceInfo); errors.As(err, &he) {
				holdOffs.Add(1)
			}
		}()
	}
	wg.Wait()
	if s := dev.Stats(); s.FailedLogins != 2 || holdOffs.Load() != 7 {
		t.Errorf("failed logins %d (want 2: one before, one trial), hold-offs %d (want 7)", s.FailedLogins, holdOffs.Load())
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hits.Add(1)
	}))
	defer evil.Close()
	dev := simulator.Start(t, camProfile())
	dev.SetFault("GET "+PathDeviceInfo, simulator.Fault{RedirectTo: evil.URL + "/steal"})
	c := clientFor(t, dev, "right-password", nil)
	_, err := c.Get(context.Background(), PathDeviceInfo)
	if err == nil || !strings.Contains(err.Error(), "redirects are never followed") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "/steal") {
		t.Errorf("error repeats the redirect path: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect target was contacted %d times", hits.Load())
	}
}

func TestAnswersTheDeviceGetsWrong(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	c := clientFor(t, dev, "right-password", func(o *Options) { o.MaxBodyBytes = 64 << 10 })
	ctx := context.Background()
	cases := []struct {
		fault simulator.Fault
		check func(error) bool
		what  string
	}{
		{simulator.Fault{Oversize: 1 << 20}, func(e error) bool { return errors.Is(e, ErrBodyTooLarge) }, "too large"},
		{simulator.Fault{HTML: true}, func(e error) bool { return e != nil && strings.Contains(e.Error(), "HTML page") }, "HTML"},
		{simulator.Fault{Status: 500}, func(e error) bool {
			var se *StatusError
			return errors.As(e, &se) && se.HTTPStatus == 500 && !IsNotSupported(e)
		}, "500"},
		{simulator.Fault{Malformed: true}, func(e error) bool { var de *DecodeError; return errors.As(e, &de) }, "malformed"},
	}
	uncached := XML[DeviceInfo](PathDeviceInfo, false)
	for _, tc := range cases {
		dev.SetFault("GET "+PathDeviceInfo, tc.fault)
		_, err := Fetch(ctx, c, uncached)
		if !tc.check(err) {
			t.Errorf("%s: err = %v", tc.what, err)
		}
	}
	dev.SetFault("GET "+PathDeviceInfo, simulator.Fault{})
	if _, err := c.Get(ctx, "/ISAPI/Nope"); !IsNotSupported(err) {
		t.Errorf("404: err = %v, want not supported", err)
	}
	dev.SetEndpoint("GET /ISAPI/Security/email/parameter", simulator.Endpoint{Status: 403, Body: simulator.Capture("responseStatus-notSupport-email__go-test-reconstructed.xml")})
	_, err := c.Get(ctx, "/ISAPI/Security/email/parameter")
	var se *StatusError
	if !IsNotSupported(err) || !errors.As(err, &se) || se.Status == nil || se.Status.SubStatusCode != "notSupport" || se.Status.StatusCode.V != 4 {
		t.Errorf("403 notSupport: err = %v (%+v)", err, se)
	}
}

func TestHangingDeviceRespectsDeadline(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	dev.SetFault("", simulator.Fault{Hang: true})
	c := clientFor(t, dev, "right-password", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, PathDeviceInfo)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestBasicOnlyDevice(t *testing.T) {
	p := camProfile()
	p.BasicOnly = true
	dev := simulator.Start(t, p, simulator.WithTLS())
	pool := x509.NewCertPool()
	pool.AddCert(dev.Certificate())
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}

	refuse := clientFor(t, dev, "right-password", func(o *Options) { o.Scheme = "https"; o.TLSConfig = tlsConf })
	_, err := refuse.Get(context.Background(), PathDeviceInfo)
	var ae *AuthError
	if !errors.Is(err, ErrBasicOnly) || errors.As(err, &ae) || !strings.Contains(err.Error(), "Basic") {
		t.Fatalf("err = %v, want ErrBasicOnly and no AuthError (no credentials were sent)", err)
	}
	if _, _, holding := refuse.HoldOff(); holding {
		t.Error("holding off although no credentials were sent")
	}
	if s := dev.Stats(); s.FailedLogins != 0 || s.Requests != 1 {
		t.Errorf("without allow_basic_auth the password must not be sent: %+v", s)
	}
	allow := clientFor(t, dev, "right-password", func(o *Options) { o.Scheme = "https"; o.TLSConfig = tlsConf; o.AllowBasic = true })
	if _, err := allow.Get(context.Background(), PathDeviceInfo); err != nil {
		t.Fatalf("with allow_basic_auth: %v", err)
	}
	if exp, ok := allow.CertificateExpiry(); !ok || !exp.Equal(dev.Certificate().NotAfter.Truncate(time.Second)) {
		t.Errorf("certificate expiry %v %v, want %v", exp, ok, dev.Certificate().NotAfter)
	}
}

func TestDigestPreferredWhenBasicAlsoOffered(t *testing.T) {
	p := camProfile()
	p.AcceptBasic = true
	dev := simulator.Start(t, p)
	c := clientFor(t, dev, "right-password", nil)
	if _, err := c.Get(context.Background(), PathDeviceInfo); err != nil {
		t.Fatal(err)
	}
}

func TestPinnedAddressesAreTheOnlyOnesDialled(t *testing.T) {
	dev := simulator.Start(t, camProfile())
	_, port, _ := net.SplitHostPort(dev.Addr())
	c := clientFor(t, dev, "right-password", func(o *Options) {
		o.Address = net.JoinHostPort("cam.invalid", port) // would not resolve
		o.Pinned = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	})
	if _, err := c.Get(context.Background(), PathDeviceInfo); err != nil {
		t.Fatalf("pinned dial: %v", err)
	}
}

func TestAuthErrorFromUserCheckBody(t *testing.T) {
	body := []byte(`<userCheck xmlns="urn:psialliance-org"><statusValue>401</statusValue><statusString>Unauthorized</statusString><lockStatus>locked</lockStatus><unlockTime>1500</unlockTime><retryLoginTime>0</retryLoginTime></userCheck>`)
	var uc UserCheck
	if err := Decode(body, &uc); err != nil {
		t.Fatal(err)
	}
	if !uc.Rejected() {
		t.Fatal("statusValue 401 not seen as a rejection")
	}
	ae := uc.AuthError()
	if !ae.Locked.V || ae.UnlockIn.V != 1500 || !ae.RetriesLeft.Set || ae.RetriesLeft.V != 0 {
		t.Errorf("AuthError = %+v", ae)
	}
	if got := parseAuthError("/x", []byte("<html>nope</html>")); got.Locked.Set || got.UnlockIn.Set {
		t.Errorf("HTML 401 body gave lock details: %+v", got)
	}
}

// TestRejectedAfterAcceptance: the password is changed on the device
// while the client holds a challenge it accepted. A rejected credential
// check is not retried with a fresh challenge: that would be a second
// failed login. A 401 on an ordinary request is ambiguous (changed
// password, or no permission for that endpoint): one credential check
// tells, here that the password changed, and every request waits for that
// check instead of adding its own. Either way the client then holds off.
func TestRejectedAfterAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name         string
		request      func(context.Context, *Client) ([]byte, error)
		failedLogins int
	}{
		{"credential check is not retried", func(ctx context.Context, c *Client) ([]byte, error) {
			return c.CheckCredentials(ctx, PathUserCheck)
		}, 1},
		{"ordinary request is checked once", func(ctx context.Context, c *Client) ([]byte, error) {
			return c.Get(ctx, PathDeviceInfo)
		}, 2}, // the request, then one check
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, c := acceptedClient(t)
			ctx := context.Background()
			dev.SetPassword("rotated")
			var ae *AuthError
			if _, err := tc.request(ctx, c); !errors.As(err, &ae) {
				t.Fatalf("err = %v, want AuthError", err)
			}
			for range 5 {
				var he *HoldOffError
				if _, err := c.Get(ctx, PathTime); !errors.As(err, &he) {
					t.Fatalf("err = %v, want HoldOffError", err)
				}
			}
			if s := dev.Stats(); s.FailedLogins != tc.failedLogins {
				t.Errorf("failed logins = %d, want %d", s.FailedLogins, tc.failedLogins)
			}
			if _, _, holding := c.HoldOff(); !holding {
				t.Error("not holding off after the rejection")
			}
		})
	}
}

// TestProxyEnvironmentIsIgnored: credentials go to the device and nowhere
// else, whatever proxy the environment names. http.ProxyFromEnvironment
// never proxies localhost or a loopback address, so the device is reached
// by a name pinned to 127.0.0.1, and NO_PROXY is cleared: were the
// environment used, both schemes would go to the proxy.
func TestProxyEnvironmentIsIgnored(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		proxied.Add(1)
		http.Error(w, "proxied", http.StatusBadGateway)
	}))
	defer proxy.Close()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	for _, k := range []string{"NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	plain := simulator.Start(t, camProfile())
	secure := simulator.Start(t, camProfile(), simulator.WithTLS())
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	for scheme, dev := range map[string]*simulator.Device{"http": plain, "https": secure} {
		_, port, _ := net.SplitHostPort(dev.Addr())
		c := clientFor(t, dev, "right-password", func(o *Options) {
			o.Scheme, o.TLSConfig = scheme, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			o.Address = net.JoinHostPort("cam.invalid", port) // not loopback to the proxy rules
			o.Pinned = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		})
		if _, err := c.Get(context.Background(), PathDeviceInfo); err != nil {
			t.Errorf("%s: %v", scheme, err)
		}
		if n := dev.Stats().Requests; n != 2 {
			t.Errorf("%s: the device saw %d requests, want the challenge and the answer", scheme, n)
		}
		// ProxyFromEnvironment reads the environment once per process,
		// maybe before this test set it, so the transport is checked too.
		for _, tr := range []*http.Transport{c.conns.kept, c.conns.bulk} {
			if tr.Proxy != nil {
				t.Errorf("%s: a transport has a Proxy", scheme)
			}
		}
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("the proxy saw %d requests", n)
	}
}
