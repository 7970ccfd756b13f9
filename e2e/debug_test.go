package e2e

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"html"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// TestDebugReportLeaksNoSecret runs /probe?debug=true against the demo
// fleet (the wrong-password device included) and a device that offers
// only Basic to a module that allows it, cold, warm and held off, and
// searches every report, the landing page and the debug log for the
// passwords and for any part of an Authorization header or Digest exchange.
func TestDebugReportLeaksNoSecret(t *testing.T) {
	const basicPW = "Debug-Canary-Basic-62e0"
	fleet, err := simulator.StartDemoFleet(simulator.WithTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Username, p.Password, p.BasicOnly = "exporter", basicPW, true
	basic := simulator.Start(t, p, simulator.WithTLS())
	cfgPath := debugFleetConfig(t, fleet, basic, basicPW)

	e := startExporter(t, "http", "--config.file="+cfgPath, "--log.level=debug")
	targets := []string{"basic-cam"}
	for _, d := range fleet.Devices {
		targets = append(targets, d.Name)
	}
	var served strings.Builder
	reports := map[string]string{}
	for round := range 3 { // cold, warm, and (wrong-password) held off
		for _, name := range targets {
			code, body := e.get(t, "/probe?target="+name+"&debug=true")
			if code != 200 || !strings.HasPrefix(body, "Probe of "+name) {
				t.Errorf("round %d, %s: HTTP %d\n%s", round, name, code, body)
			}
			served.WriteString(body)
			if round == 0 {
				reports[name] = body
			}
		}
	}
	_, landing := e.get(t, "/")
	served.WriteString(landing)

	// The reports must show what they claim to, or the search proves little.
	for name, want := range map[string][]string{
		"basic-cam":      {"basic, after a 401 round trip", "verified"},
		"weak-cam":       {"digest, new 401 round trip", "digest, challenge reused", "verified"},
		"wrong-password": {"401", "holding off until", "credentials rejected by device"},
	} {
		for _, w := range want {
			if !strings.Contains(reports[name], w) {
				t.Errorf("%s's report lacks %q:\n%s", name, w, reports[name])
			}
		}
	}
	all := served.String() + e.out.String()
	for _, secret := range debugSecrets(fleet, basic, basicPW) {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("%q appears: ...%s...", secret, all[max(0, i-200):min(len(all), i+100)])
		}
	}
}

// debugFleetConfig writes the demo fleet's configuration plus a module
// that allows Basic (over https) for the Basic-only device.
func debugFleetConfig(t *testing.T, fleet *simulator.Fleet, basic *simulator.Device, password string) string {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "basic-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: basic.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	module := fmt.Sprintf("  basic:\n    username: exporter\n    password: %q\n    scheme: https\n    allow_basic_auth: true\n    tls_config: {ca_file: %s}\n", password, ca)
	device := fmt.Sprintf("  - name: basic-cam\n    address: %s\n    module: basic\n", basic.Addr())
	yml := fleet.ConfigYAML()
	if !strings.Contains(yml, "\ndevices:\n") {
		t.Fatalf("the demo configuration has no devices list:\n%s", yml)
	}
	yml = strings.Replace(yml, "\ndevices:\n", "\n"+module+"devices:\n"+device, 1)
	path := filepath.Join(dir, "hikvision.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// debugSecrets is every password configured or set on a device, each as a
// Basic credential too, and the markers of a Digest exchange.
func debugSecrets(fleet *simulator.Fleet, basic *simulator.Device, basicPW string) []string {
	out := []string{"Authorization", "nonce=", "response=", "cnonce", basicPW, basic.Profile().Password}
	for _, d := range fleet.Devices {
		out = append(out, d.Password, d.Device.Profile().Password)
	}
	for _, pw := range out[4:] {
		out = append(out, base64.StdEncoding.EncodeToString([]byte("exporter:"+pw)))
	}
	return out
}

// TestLandingPageListsRecentProbes: a probed device appears on the landing
// page with its outcome, and its link is its debug report.
func TestLandingPageListsRecentProbes(t *testing.T) {
	e := startExporter(t, "http", "--demo")
	if _, body := e.get(t, "/"); !strings.Contains(body, "No probes yet.") {
		t.Errorf("landing page before any probe:\n%s", body)
	}
	e.get(t, "/probe?target=weak-cam")
	e.get(t, "/probe?target=wrong-password")
	code, body := e.get(t, "/")
	if code != 200 || !strings.Contains(body, `name="target"`) {
		t.Fatalf("landing page: HTTP %d\n%s", code, body)
	}
	for _, want := range []string{"<td>weak-cam</td><td>weak-cam</td>", "<td>success</td>", "<td>wrong-password</td>", "<td>rejected</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("landing page lacks %q:\n%s", want, body)
		}
	}
	link := regexp.MustCompile(`<a href="([^"]*target=weak-cam[^"]*)">debug report</a>`).FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no debug link for weak-cam:\n%s", body)
	}
	href := html.UnescapeString(link[1])
	code, report := e.get(t, href)
	if code != 200 || !strings.HasPrefix(report, "Probe of weak-cam (module weak-cam") || !strings.Contains(report, "\nhikvision_up 1\n") {
		t.Errorf("GET %s: HTTP %d\n%s", href, code, report)
	}
	if code, _ := e.get(t, "/no-such-page"); code != 404 {
		t.Errorf("/no-such-page: HTTP %d, want 404", code)
	}
}

// TestServerErrorsGoThroughTheLogger: the HTTP server's own errors are
// structured log records; a failed TLS handshake (scanners make them all
// day) is one at debug level.
func TestServerErrorsGoThroughTheLogger(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := simulator.CertificateFiles(t, dir)
	webPath := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webPath, fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "https", "--demo", "--web.config.file="+webPath, "--log.level=debug", "--log.format=json")
	conn, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte("GET / HTTP/1.0\r\n\r\n")) // plain HTTP to the TLS port
	_, _ = conn.Read(make([]byte, 512))
	conn.Close()
	if c, err := tls.Dial("tcp", e.addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS10}); err == nil { // a handshake meant to fail
		c.Close()
	}
	var found string
	deadline := time.Now().Add(10 * time.Second)
	for found == "" && time.Now().Before(deadline) {
		for _, line := range strings.Split(e.out.String(), "\n") {
			if strings.Contains(line, "TLS handshake error") {
				found = line
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(found, "{") || !strings.Contains(found, `"level":"DEBUG"`) || !strings.Contains(found, `"msg":"HTTP server error"`) {
		t.Errorf("TLS handshake error not logged as a structured debug record: %q\n%s", found, e.out.String())
	}
	for _, line := range strings.Split(e.out.String(), "\n") {
		if strings.HasPrefix(line, "http: ") || strings.HasPrefix(line, "20") && strings.Contains(line, " http: ") {
			t.Errorf("unstructured server log line: %q", line)
		}
	}
}
