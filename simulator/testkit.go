package simulator

// The test kit: what the tests of every package need around a simulated
// device, so that none of them keeps its own copy. It imports "testing"
// the way net/http/httptest does.
//
// A client for a device is not here: it would have to import the isapi
// package, whose own tests import this one. A test package builds its
// client from Device.Addr, Device.Profile and Device.Certificate, once, in
// its helpers file.

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock, safe for concurrent use. Its Now method is
// what WithClock takes, and what the exporter's own options take as their
// clock, so a test can move the device and the exporter through time
// together.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (back, if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Start starts a device serving p, as New does, and closes it when the
// test ends (tb.Cleanup). It fails the test if the device cannot start.
func Start(tb testing.TB, p Profile, opts ...Option) *Device {
	tb.Helper()
	d, err := New(p, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d
}

// SyncBuffer is a bytes buffer safe for concurrent use: the log output of a
// handler under test, or the output of a process a test runs, written by
// one goroutine while the test reads it in another.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// CertificateFiles writes a fresh self-signed certificate for loopback
// (127.0.0.1, ::1, localhost), the same kind a device started WithTLS
// serves, and its private key as PEM files in dir. The certificate is its
// own CA: a client trusts it by adding it to a pool.
func CertificateFiles(tb testing.TB, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	tb.Helper()
	pair, cert, err := selfSignedCert(nil)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: cert.Raw},
		keyFile:  {Type: "PRIVATE KEY", Bytes: key},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return certFile, keyFile, cert
}
