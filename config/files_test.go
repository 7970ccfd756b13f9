package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to dir/name, creating directories, and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// certAndKeyPEM returns a self-signed certificate and its key in PEM.
func certAndKeyPEM(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// TestLoadChecksFiles: Load (so --config.check, start-up and reload)
// refuses a password_file or TLS file it cannot read, each error naming the
// module, the key and its line, all in one run; the password file's content
// is never in an error.
func TestLoadChecksFiles(t *testing.T) {
	dir := t.TempDir()
	const pwContent = "Secr3t-from-the-file"
	pw := writeFile(t, dir, "pw", pwContent+"\n")
	writeFile(t, dir, "empty-pw", "\n")
	writeFile(t, dir, "empty.pem", "")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `modules:
  missing:
    username: u
    password_file: nope
    tls_config:
      ca_file: no-ca.pem
      cert_file: no-cert.pem
      key_file: no-key.pem
  empty:
    username: u
    password_file: empty-pw
    tls_config: {ca_file: empty.pem}
  notpem:
    username: u
    password_file: pw
    tls_config:
      ca_file: pw
  directory:
    username: u
    password_file: adir
`
	path := writeFile(t, dir, "hikvision.yml", cfg)
	_, err := Load(path, knownCollectors)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	want := []string{
		"line 20: modules.directory.password_file: cannot read: read " + filepath.Join(dir, "adir") + ": is a directory",
		"line 11: modules.empty.password_file: " + filepath.Join(dir, "empty-pw") + " is empty",
		"line 12: modules.empty.tls_config.ca_file: " + filepath.Join(dir, "empty.pem") + " is empty",
		"line 4: modules.missing.password_file: cannot read: open " + filepath.Join(dir, "nope") + ": no such file or directory",
		"line 6: modules.missing.tls_config.ca_file: cannot read: open " + filepath.Join(dir, "no-ca.pem") + ": no such file or directory",
		"line 7: modules.missing.tls_config.cert_file: cannot read: open " + filepath.Join(dir, "no-cert.pem"),
		"line 8: modules.missing.tls_config.key_file: cannot read: open " + filepath.Join(dir, "no-key.pem"),
		"line 16: modules.notpem.tls_config: unable to use specified CA cert file " + pw,
	}
	got := strings.Split(strings.TrimPrefix(err.Error(), path+": "), "\n")
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], w) {
			t.Errorf("error %d: want prefix %q\nall errors:\n%s", i, w, err)
		}
	}
	assertNoSecret(t, err, pwContent)
}

// TestLoadChecksTLSKeyPair: a client certificate and key that do not match
// are refused at load, as a probe would refuse them.
func TestLoadChecksTLSKeyPair(t *testing.T) {
	dir := t.TempDir()
	cert, _ := certAndKeyPEM(t)
	_, otherKey := certAndKeyPEM(t)
	writeFile(t, dir, "cert.pem", cert)
	writeFile(t, dir, "key.pem", otherKey)
	path := writeFile(t, dir, "h.yml", "modules:\n  m:\n    username: u\n    password: p\n    tls_config: {cert_file: cert.pem, key_file: key.pem}\n")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "line 5: modules.m.tls_config: unable to use specified client cert") {
		t.Fatalf("err = %v, want the mismatched key pair refused", err)
	}
	assertNoSecret(t, err, otherKey)
}

// TestLoadResolvesRelativePaths: relative paths are taken from the config
// file's directory, not from the working directory.
func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	cert, key := certAndKeyPEM(t)
	writeFile(t, dir, "secrets/pw", "from-file\n")
	writeFile(t, dir, "secrets/ca.pem", cert)
	writeFile(t, dir, "secrets/client.pem", cert)
	writeFile(t, dir, "secrets/client.key", key)
	path := writeFile(t, dir, "conf/h.yml", `modules:
  m:
    username: u
    password_file: ../secrets/pw
    tls_config: {ca_file: ../secrets/ca.pem, cert_file: ../secrets/client.pem, key_file: ../secrets/client.key}
  abs:
    username: u
    password_file: `+filepath.Join(dir, "secrets/pw")+"\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Modules["m"]
	for got, want := range map[string]string{
		m.PasswordFile: "secrets/pw", m.TLSConfig.CAFile: "secrets/ca.pem",
		m.TLSConfig.CertFile: "secrets/client.pem", m.TLSConfig.KeyFile: "secrets/client.key",
		c.Modules["abs"].PasswordFile: "secrets/pw",
	} {
		if got != filepath.Join(dir, want) {
			t.Errorf("path %q, want %q", got, filepath.Join(dir, want))
		}
	}
	if p, err := m.ReadPassword(); err != nil || p != "from-file" {
		t.Errorf("ReadPassword = %q, %v", p, err)
	}
}

// TestParseReadsNoFiles: Parse checks the text alone, so that a
// configuration can be tested without the files it names; the files are
// Load's business.
func TestParseReadsNoFiles(t *testing.T) {
	yaml := "modules:\n  m: {username: u, password_file: /nonexistent/pw, tls_config: {ca_file: /nonexistent/ca.pem}}\n"
	c, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if c.Modules["m"].PasswordFile != "/nonexistent/pw" {
		t.Errorf("password_file = %q", c.Modules["m"].PasswordFile)
	}
}

// TestReloadRefusesUnreadableFiles: a reload whose password file went
// missing is refused and the old configuration keeps serving; once the file
// is back the reload works, and the new content is what a probe reads.
func TestReloadRefusesUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "one\n")
	path := writeFile(t, dir, "h.yml", "modules:\n  m: {username: u, password_file: pw}\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, nil)
	if err := os.Remove(pw); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "line 2: modules.m.password_file: cannot read") {
		t.Fatalf("reload without the password file: err = %v", err)
	}
	if s.Get() != cfg {
		t.Fatal("old config not kept")
	}
	writeFile(t, dir, "pw", "two\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Get().Modules["m"].ReadPassword(); err != nil || p != "two" {
		t.Errorf("ReadPassword = %q, %v", p, err)
	}
}
