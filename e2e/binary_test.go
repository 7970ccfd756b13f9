package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestDemoFleetEndToEnd(t *testing.T) {
	e := startExporter(t, "http", "--demo")
	for _, name := range []string{"hardened-cam", "weak-cam", "nvr-isapiorg"} {
		code, body := e.get(t, "/probe?target="+name)
		if code != 200 {
			t.Fatalf("%s: HTTP %d", name, code)
		}
		for _, want := range []string{"hikvision_up ", "hikvision_device_info{", "hikvision_firmware_build_timestamp_seconds "} {
			if _, ok := promtest.LineValue(body, want); !ok {
				t.Errorf("%s: no %q in\n%s", name, want, body)
			}
		}
		if v, _ := promtest.LineValue(body, "hikvision_up "); v != "1" {
			t.Errorf("%s: hikvision_up %s", name, v)
		}
	}
	if _, body := e.get(t, "/probe?target=wrong-password"); !strings.Contains(body, "hikvision_up 0") || !strings.Contains(body, "hikvision_auth_rejected 1") {
		t.Errorf("wrong-password:\n%s", body)
	}
	if code, body := e.get(t, "/probe?target=192.0.2.1"); code != 400 || !strings.Contains(body, "not a configured device") {
		t.Errorf("unconfigured target: HTTP %d %q", code, body)
	}
	_, metrics := e.get(t, "/metrics")
	for _, want := range []string{"hikvision_exporter_build_info{", `hikvision_exporter_probes_total{outcome="success"}`, `hikvision_exporter_probes_total{outcome="bad_request"} 1`, "hikvision_exporter_config_last_reload_successful 1", "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, "hikvision_device_info") {
		t.Error("/metrics carries device metrics; they belong to /probe")
	}
	if code, body := e.get(t, "/-/healthy"); code != 200 || !strings.Contains(body, "Healthy") {
		t.Errorf("/-/healthy: %d %q", code, body)
	}
	if code, body := e.get(t, "/"); code != 200 || !strings.Contains(body, `name="target"`) {
		t.Errorf("landing page: %d, no target form", code)
	}
	if code, body := e.get(t, "/sd"); code != 200 || !strings.Contains(body, `"weak-cam"`) || !strings.Contains(body, "__meta_hikvision_module") {
		t.Errorf("/sd: %d\n%s", code, body)
	}
	if code, _ := e.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
	if code, body := httpDo(t, http.MethodPost, e.url("/-/reload")); code != 200 {
		t.Errorf("POST /-/reload: %d %q", code, body)
	}
}

func TestReloadRefusesBadConfig(t *testing.T) {
	e := startExporter(t, "http", "--demo")
	path := demoConfigPath(t, e)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("modules:\n  x: {username: u}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := httpDo(t, http.MethodPost, e.url("/-/reload"))
	if code != 500 || !strings.Contains(body, "modules.x.password") {
		t.Errorf("bad reload: %d %q", code, body)
	}
	if _, body := e.get(t, "/probe?target=hardened-cam"); !strings.Contains(body, "hikvision_up 1") {
		t.Errorf("old config not serving after a failed reload:\n%s", body)
	}
	if _, m := e.get(t, "/metrics"); !strings.Contains(m, "hikvision_exporter_config_last_reload_successful 0") {
		t.Error("reload failure not reported on /metrics")
	}
	// SIGHUP goes through the same path.
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, m := e.get(t, "/metrics"); strings.Contains(m, "hikvision_exporter_config_last_reload_successful 1") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("SIGHUP reload of a good config not reported")
}

func TestConfigCheck(t *testing.T) {
	bin := exporterBinary(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("modules:\n  default: {username: u, password: p, scheme: ftp}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config.check", "--config.file="+bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `modules.default.scheme: "ftp" is not http or https`) {
		t.Errorf("bad config: %v %q", err, out)
	}
}

// TestConfigExampleChecksAsShipped: config.example.yml passes
// --config.check on a fresh checkout, from the repository root and from
// anywhere else (its example secrets are relative to its own directory).
func TestConfigExampleChecksAsShipped(t *testing.T) {
	bin := exporterBinary(t)
	root := repoRoot(t)
	for _, run := range []struct{ dir, file string }{
		{root, "config.example.yml"},
		{t.TempDir(), filepath.Join(root, "config.example.yml")},
	} {
		cmd := exec.Command(bin, "--config.check", "--config.file="+run.file)
		cmd.Dir = run.dir
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || strings.TrimSpace(stdout.String()) != "OK" {
			t.Errorf("(in %s) --config.check --config.file=%s: %v\nstdout: %s\nstderr: %s", run.dir, run.file, err, stdout.String(), stderr.String())
		}
	}
}

// TestConfigCheckReadsFiles: --config.check refuses a password_file or a
// tls_config file it cannot read, naming module, key and line, and never
// prints the password file's content.
func TestConfigCheckReadsFiles(t *testing.T) {
	bin := exporterBinary(t)
	dir := t.TempDir()
	const secret = "Check-Canary-5d1e"
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "h.yml")
	yml := "modules:\n  a:\n    username: u\n    password_file: gone\n  b:\n    username: u\n    password_file: pw\n    tls_config: {ca_file: pw, cert_file: c.pem, key_file: k.pem}\n"
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config.check", "--config.file="+cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("--config.check passed:\n%s", out)
	}
	for _, want := range []string{
		"line 4: modules.a.password_file: cannot read: open " + filepath.Join(dir, "gone"),
		"line 8: modules.b.tls_config.cert_file: cannot read: open " + filepath.Join(dir, "c.pem"),
		"line 8: modules.b.tls_config.key_file: cannot read: open " + filepath.Join(dir, "k.pem"),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), secret) {
		t.Errorf("the password file's content is printed:\n%s", out)
	}
}

// TestNoCredentialLeaks runs the exporter with debug logging through every
// path, error paths included, and searches all it printed and served for
// the passwords it holds.
func TestNoCredentialLeaks(t *testing.T) {
	const (
		goodPW  = "Leak-Canary-Good-7f3a"
		wrongPW = "Leak-Canary-Wrong-91c2"
	)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(goodPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	devices := map[string]simulator.Fault{
		"ok": {}, "malformed": {Malformed: true}, "html": {HTML: true}, "oversize": {Oversize: 8 << 20},
		"status500": {Status: 500}, "reset": {Reset: true}, "redirect": {RedirectTo: "http://192.0.2.1/steal"},
		"hang": {Hang: true}, "ctype": {ContentType: "application/octet-stream"},
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "modules:\n  default:\n    username: exporter\n    password_file: %s\n    scheme: http\n    allowed_targets: [127.0.0.0/8]\n    timeout: 2s\n", pwFile)
	fmt.Fprintf(&cfg, "  wrong:\n    username: exporter\n    password: %q\n    scheme: http\n", wrongPW)
	cfg.WriteString("devices:\n")
	var sims []*simulator.Device
	for name, fault := range devices {
		p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
		p.Username, p.Password = "exporter", goodPW
		d := simulator.Start(t, p)
		d.SetFault("GET /ISAPI/System/deviceInfo", fault)
		sims = append(sims, d)
		fmt.Fprintf(&cfg, "  - {name: %s, address: %q}\n", name, d.Addr())
	}
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Username, p.Password, p.LockAfter = "exporter", goodPW, 3
	locked := simulator.Start(t, p)
	fmt.Fprintf(&cfg, "  - {name: rejected, address: %q, module: wrong}\n", locked.Addr())
	cfgPath := filepath.Join(dir, "h.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	e := startExporter(t, "http", "--config.file="+cfgPath, "--log.level=debug", "--log.format=json")
	var served strings.Builder
	paths := []string{"/", "/metrics", "/config", "/sd", "/-/healthy", "/probe", "/probe?target=nope",
		"/probe?target=rejected", "/probe?target=rejected", "/probe?target=exporter:" + goodPW + "@127.0.0.1",
		"/probe?target=" + sims[0].Addr() + "&module=wrong", "/probe?target=10.0.0.1&module=default"}
	for name := range devices {
		paths = append(paths, "/probe?target="+name)
	}
	for _, p := range paths {
		code, body := e.get(t, p)
		fmt.Fprintf(&served, "%d\n%s\n", code, body) // the body only: the request itself is ours
	}
	_, _ = httpDo(t, http.MethodPost, e.url("/-/reload"))
	// A reload whose file holds a syntax error next to the password.
	if err := os.WriteFile(cfgPath, []byte(cfg.String()+"\n  broken: ["+goodPW), 0o600); err != nil {
		t.Fatal(err)
	}
	_, body := httpDo(t, http.MethodPost, e.url("/-/reload"))
	served.WriteString(body)
	_, body = e.get(t, "/config")
	served.WriteString(body)

	all := served.String() + e.out.String()
	for _, secret := range []string{goodPW, wrongPW} {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("password %q leaked: ...%s...", secret, all[max(0, i-200):min(len(all), i+100)])
		}
	}
	// The test must have gone through the error paths it claims to.
	for _, want := range []string{"malformed XML", "HTML page", "redirects are never followed", "answer exceeds the size limit", "credentials rejected", "deadline exceeded", "<secret>", "HTTP 500"} {
		if !strings.Contains(all, want) {
			t.Errorf("path not exercised: no %q in the output", want)
		}
	}
	if !strings.Contains(all, `"level":"DEBUG"`) {
		t.Error("debug logging was not on")
	}
}

// TestNoSNMPCommunityLeaks: SNMP communities are passwords (docs/isapi.md
// §5.16). Devices whose SNMP answers hold distinctive communities, well
// formed and broken in the ways that tempt an error message to quote them,
// are probed every way (plain and debug=true, cold and warm, so cached
// answers are reported too) by exporters logging at debug level in JSON
// and logfmt; nothing they print or serve holds any part of a community.
func TestNoSNMPCommunityLeaks(t *testing.T) {
	const (
		readC  = "Snmp-Canary-Read-5c2e"
		writeC = "Snmp-Canary-Write-a817"
		trapC  = "Snmp-Canary-Trap-3f90"
		v1C    = "Snmp-Canary-V1-77d4"
	)
	ns := simulator.NamespaceISAPIOrg20
	good := simulator.SNMPXML(ns, simulator.SNMP{
		V1:  &simulator.SNMPCommunity{Enabled: true, Read: v1C, Write: v1C, Traps: []string{trapC}},
		V2c: &simulator.SNMPCommunity{Enabled: true, Read: readC, Write: writeC, Traps: []string{trapC, "public"}},
		V3: &simulator.SNMPv3{Enabled: true, Users: []simulator.SNMPUser{
			{Name: "ro", Auth: "none", Privacy: "none"}, {Name: "rw", Auth: "SHA", Privacy: "AES"}}},
		ListenPort: 161,
	})
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<SNMP version="2.0" xmlns="` + ns + `"><SNMPv2c><enabled>true</enabled><readCommunity>` + readC
	devices := map[string]struct {
		body  string
		fault simulator.Fault
	}{
		"snmp-ok":                  {body: string(good)},
		"snmp-octet-stream":        {body: string(good), fault: simulator.Fault{ContentType: "application/octet-stream"}},
		"snmp-truncated":           {body: string(good), fault: simulator.Fault{Malformed: true}},
		"snmp-cut-after-community": {body: head + "</readCommunity><writeCommunity>" + writeC + "</writeComm"},
		"snmp-community-first":     {body: "<SNMP><readCommunity>" + readC + "</readCommunity>"},
		"snmp-entity":              {body: head + "&" + writeC + ";</readCommunity></SNMPv2c></SNMP>"},
		"snmp-closing-tag":         {body: head + "</" + writeC + "></SNMPv2c></SNMP>"},
		"snmp-bad-character":       {body: head + "\x01" + writeC + "</readCommunity></SNMPv2c></SNMP>"},
		"snmp-not-snmp":            {body: "<" + readC + "><readCommunity>" + writeC + "</readCommunity></" + readC + ">"},
		"snmp-status500":           {body: string(good), fault: simulator.Fault{Status: 500}},
	}
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("modules:\n  default:\n    username: exporter\n    password: snmp-test-pw\n    scheme: http\n    timeout: 2s\ndevices:\n")
	for name, d := range devices {
		p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
		p.Username, p.Password = "exporter", "snmp-test-pw"
		p.Endpoints["GET "+isapi.PathSNMP] = simulator.Endpoint{Body: []byte(d.body)}
		dev := simulator.Start(t, p)
		dev.SetFault("GET "+isapi.PathSNMP, d.fault)
		fmt.Fprintf(&cfg, "  - {name: %s, address: %q}\n", name, dev.Addr())
	}
	cfgPath := filepath.Join(dir, "h.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	var all strings.Builder
	for _, format := range []string{"json", "logfmt"} {
		e := startExporter(t, "http", "--config.file="+cfgPath, "--log.level=debug", "--log.format="+format)
		for range 2 { // cold, then from the cache
			for name := range devices {
				for _, q := range []string{"", "&debug=true"} {
					code, body := e.get(t, "/probe?target="+name+q)
					fmt.Fprintf(&all, "%s%s: %d\n%s\n", name, q, code, body)
				}
			}
		}
		for _, p := range []string{"/", "/metrics", "/config", "/sd"} {
			_, body := e.get(t, p)
			all.WriteString(body)
		}
		all.WriteString(e.out.String())
	}

	out := all.String()
	for _, secret := range []string{readC, writeC, trapC, v1C, "Snmp-Canary"} {
		if i := strings.Index(out, secret); i >= 0 {
			t.Errorf("SNMP community %q leaked: ...%s...", secret, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	// The test must have gone through what it claims to: the communities
	// were read (and judged), and each broken answer failed the collector.
	for _, want := range []string{
		`hikvision_snmp_community_default{access="read",version="v2c"} 0`,
		`hikvision_snmp_community_default{access="trap",version="v2c"} 1`,
		`hikvision_snmp_community_default{access="write",version="v1"} 0`,
		`hikvision_snmp_v3_users_without_auth 1`,
		`hikvision_feature_supported{feature="snmp"} 1`,
		"malformed XML answer", "answer is not an SNMP document", "HTTP 500", isapi.PathSNMP,
		`"level":"DEBUG"`, "level=DEBUG", "Collector failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("path not exercised: no %q in the output", want)
		}
	}
}

func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := simulator.CertificateFiles(t, dir)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webPath := filepath.Join(dir, "web.yml")
	writeYAML(t, webPath, map[string]any{
		"tls_server_config": map[string]string{"cert_file": certFile, "key_file": keyFile},
		"basic_auth_users":  map[string]string{"prometheus": string(hash)},
	})
	e := startExporter(t, "https", "--demo", "--web.config.file="+webPath)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, "https://"+e.addr+"/probe?target=hardened-cam", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
	if code := get("prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code := get("prometheus", "scrape-pass"); code != 200 {
		t.Errorf("right password: %d, want 200", code)
	}
	if res, err := http.Get("http://" + e.addr + "/metrics"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP served with TLS configured")
		}
	}
}

// TestSIGTERMStopsGracefullyAndKeepsHoldOffs: SIGTERM logs, lets the
// server finish, saves the lockout hold-offs and exits 0; an exporter
// started again on the same --storage.path sends the device no password.
func TestSIGTERMStopsGracefullyAndKeepsHoldOffs(t *testing.T) {
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Password, p.LockAfter = "device-password", 5
	dev := simulator.Start(t, p)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hikvision.yml")
	yaml := fmt.Sprintf("modules:\n  default:\n    username: admin\n    password: wrong\n    scheme: http\ndevices:\n  - {name: cam, address: %q}\n", dev.Addr())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "data")
	args := []string{"--config.file=" + cfg, "--storage.path=" + storage}
	e := startExporter(t, "http", args...)
	if _, body := e.get(t, "/probe?target=cam"); !strings.Contains(body, "hikvision_auth_rejected 1") {
		t.Fatalf("wrong password not rejected:\n%s", body)
	}
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM:\n%s", e.out.String())
	}
	if e.waitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", e.waitErr)
	}
	for _, want := range []string{"Shutting down", "signal=terminated", "Stopped"} {
		if !strings.Contains(e.out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, e.out.String())
		}
	}
	state, err := os.ReadFile(filepath.Join(storage, "hikvision_exporter.state.json"))
	if err != nil || !strings.Contains(string(state), dev.Addr()) {
		t.Fatalf("state file after shutdown: %v\n%s", err, state)
	}

	again := startExporter(t, "http", args...)
	if _, body := again.get(t, "/probe?target=cam"); !strings.Contains(body, "hikvision_auth_rejected 1") {
		t.Fatalf("after a restart:\n%s", body)
	}
	if n := dev.Stats().FailedLogins; n != 1 {
		t.Errorf("%d failed logins across a restart; want 1", n)
	}
}
