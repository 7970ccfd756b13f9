package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

func TestFaultAnswers(t *testing.T) {
	info := Capture("deviceInfo__hikvision_next_DS-2CD2146G2-ISU.xml")
	for _, tc := range []struct {
		name  string
		fault Fault
		check func(t *testing.T, a answer)
	}{
		{"Malformed", Fault{Malformed: true}, func(t *testing.T, a answer) {
			var v struct {
				Model string `xml:"model"`
			}
			if a.status != 200 || isapi.Decode([]byte(a.body), &v) == nil || !strings.HasPrefix(string(info), a.body) {
				t.Fatalf("%d %q", a.status, a.body)
			}
		}},
		{"HTML", Fault{HTML: true}, func(t *testing.T, a answer) {
			if a.status != 200 || a.header.Get("Content-Type") != "text/html" || !strings.Contains(a.body, "<html>") {
				t.Fatalf("%d %v %q", a.status, a.header, a.body)
			}
		}},
		{"Oversize", Fault{Oversize: 1 << 20}, func(t *testing.T, a answer) {
			if a.status != 200 || len(a.body) != 1<<20 || !strings.HasPrefix(a.body, "<?xml") {
				t.Fatalf("%d len %d", a.status, len(a.body))
			}
			var v struct{ XMLName xml.Name }
			if err := xml.Unmarshal([]byte(a.body), &v); err != nil {
				t.Fatalf("oversize body is not well formed: %v", err)
			}
		}},
		{"OversizeTiny", Fault{Oversize: 10}, func(t *testing.T, a answer) {
			if len(a.body) != 10 {
				t.Fatalf("len %d", len(a.body))
			}
		}},
		{"Redirect", Fault{RedirectTo: "http://example.invalid/login"}, func(t *testing.T, a answer) {
			if a.status != 302 || a.header.Get("Location") != "http://example.invalid/login" {
				t.Fatalf("%d %v", a.status, a.header)
			}
		}},
		{"Status", Fault{Status: 503}, func(t *testing.T, a answer) {
			if a.status != 503 || !strings.Contains(a.body, "<ResponseStatus") {
				t.Fatalf("%d %q", a.status, a.body)
			}
		}},
		{"ContentType", Fault{ContentType: "text/plain"}, func(t *testing.T, a answer) {
			if a.status != 200 || a.header.Get("Content-Type") != "text/plain" || a.body != string(info) {
				t.Fatalf("%d %v", a.status, a.header)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Start(t, CaptureProfile("DS-2CD2146G2-ISU"))
			d.SetFault("GET "+infoPath, tc.fault)
			c := digestClient(t, "admin", "password", false)
			tc.check(t, get(t, c, d.URL()+infoPath))
			// Faults act after authentication.
			if s := d.Stats(); s.Unauthorized != 1 {
				t.Fatalf("stats %+v", s)
			}
			// Other paths are untouched; the zero Fault clears.
			if a := get(t, c, d.URL()+"/ISAPI/System/time"); a.status != 200 {
				t.Fatalf("other path: %d", a.status)
			}
			d.SetFault("GET "+infoPath, Fault{})
			if a := get(t, c, d.URL()+infoPath); a.status != 200 || a.body != string(info) {
				t.Fatalf("after clearing: %d", a.status)
			}
		})
	}
}

func TestFaultMalformedShortAnswer(t *testing.T) {
	d := Start(t, Profile{Endpoints: map[string]Endpoint{"GET /x": {Body: []byte("<a/>")}}})
	d.SetFault("", Fault{Malformed: true})
	a := get(t, digestClient(t, "admin", "password", false), d.URL()+"/x")
	var v struct{}
	if a.status != 200 || isapi.Decode([]byte(a.body), &v) == nil {
		t.Fatalf("%d %q", a.status, a.body)
	}
}

func TestFaultLatency(t *testing.T) {
	d := Start(t, Profile{})
	c := digestClient(t, "admin", "password", false)
	get(t, c, d.URL()+"/ISAPI/System/time")
	d.SetFault("", Fault{Latency: 30 * time.Millisecond})
	d.SetLatency(20 * time.Millisecond)
	t0 := time.Now()
	get(t, c, d.URL()+"/ISAPI/System/time")
	if el := time.Since(t0); el < 50*time.Millisecond {
		t.Fatalf("took %v, want >= 50ms", el)
	}
}

func TestFaultHang(t *testing.T) {
	d := Start(t, Profile{})
	d.SetFault("GET /hang", Fault{Hang: true})
	c := digestClient(t, "admin", "password", false)
	c.Timeout = 50 * time.Millisecond
	if res, err := c.Get(d.URL() + "/hang"); err == nil {
		res.Body.Close()
		t.Fatal("hanging request answered")
	}

	// Close releases a handler whose client waits forever.
	d2, err := New(Profile{})
	if err != nil {
		t.Fatal(err)
	}
	d2.SetFault("", Fault{Hang: true})
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get(d2.URL() + "/")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for d2.Stats().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { d2.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked on a hanging handler")
	}
	if err := <-errc; err == nil {
		t.Fatal("client got an answer from a hanging device")
	}
}

func TestFaultReset(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		var opts []Option
		if useTLS {
			opts = append(opts, WithTLS())
		}
		d := Start(t, Profile{}, opts...)
		d.SetFault("GET /reset", Fault{Reset: true})
		pool := x509.NewCertPool()
		if useTLS {
			pool.AddCert(d.Certificate())
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		res, err := c.Get(d.URL() + "/reset")
		if err == nil {
			res.Body.Close()
			t.Fatalf("tls=%v: reset answered", useTLS)
		}
		if !useTLS && !errors.Is(err, syscall.ECONNRESET) {
			t.Logf("error is not ECONNRESET (platform dependent): %v", err)
		}
		// The device still serves other requests.
		if resp, err := c.Get(d.URL() + "/other"); err != nil || resp.StatusCode != 401 {
			t.Fatalf("tls=%v: after reset: %v", useTLS, err)
		} else {
			resp.Body.Close()
		}
	}
}

func TestTLSAndListenAddr(t *testing.T) {
	d := Start(t, CaptureProfile("DS-7616NI-K2"), WithTLS(), WithListenAddr("127.0.0.7:0"))
	if !strings.HasPrefix(d.Addr(), "127.0.0.7:") || !strings.HasPrefix(d.URL(), "https://127.0.0.7:") {
		t.Fatalf("addr %s url %s", d.Addr(), d.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(d.Certificate())
	c := digestClientTr(t, "admin", "password", false, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	if a := get(t, c, d.URL()+infoPath); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	if plain := Start(t, Profile{}); plain.Certificate() != nil || !strings.HasPrefix(plain.URL(), "http://127.0.0.1:") {
		t.Fatal("plain device has a certificate")
	}
}

// TestTLSMaxVersion: a device offers TLS up to its maximum and never below
// 1.2, and every device's self-signed certificate has its own subject, so
// one pool can trust a whole fleet.
func TestTLSMaxVersion(t *testing.T) {
	d12 := Start(t, Profile{}, WithTLSMaxVersion(tls.VersionTLS12), WithListenAddr("127.0.0.7:0"))
	d13 := Start(t, Profile{}, WithTLSMaxVersion(tls.VersionTLS13), WithListenAddr("127.0.0.7:0"))
	dflt := Start(t, Profile{}, WithTLS(), WithListenAddr("127.0.0.7:0"))
	pool := x509.NewCertPool()
	subjects := map[string]bool{}
	for _, d := range []*Device{d12, d13, dflt} {
		pool.AddCert(d.Certificate())
		subjects[string(d.Certificate().RawSubject)] = true
		if !strings.Contains(d.Certificate().Subject.CommonName, d.Addr()) {
			t.Errorf("%s: subject %q does not name the listen address", d.Addr(), d.Certificate().Subject)
		}
	}
	if len(subjects) != 3 {
		t.Errorf("%d distinct subjects for 3 devices", len(subjects))
	}
	for _, tc := range []struct {
		d    *Device
		want uint16
	}{{d12, tls.VersionTLS12}, {d13, tls.VersionTLS13}, {dflt, tls.VersionTLS13}} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		res, err := c.Get(tc.d.URL() + infoPath)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.TLS == nil || res.TLS.Version != tc.want || res.StatusCode != 401 {
			t.Errorf("%s: status %d, TLS %v, want version %x", tc.d.URL(), res.StatusCode, res.TLS != nil, tc.want)
		}
		old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
		if res, err := old.Get(tc.d.URL() + infoPath); err == nil {
			res.Body.Close()
			t.Errorf("%s: answered a TLS 1.1 client", tc.d.URL())
		}
	}
}

func TestCloseIsIdempotentAndRefusesLateRequests(t *testing.T) {
	d, err := New(Profile{})
	if err != nil {
		t.Fatal(err)
	}
	url := d.URL()
	d.Close()
	d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("closed device answered")
	}
}
