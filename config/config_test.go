package config

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const validYAML = `
modules:
  default:
    username: exporter
    password: s3cret-inline
    scheme: http
    allowed_targets: [10.20.0.0/16, "*.cams.example.net", "192.0.2.7", "::ffff:198.51.100.0/120"]
  filed:
    username: exporter
    password_file: PASSFILE
    timeout: 3s
    collectors: [device, account]
    tls_config: {insecure_skip_verify: true, server_name: cam.example.net}
devices:
  - name: lobby-cam
    address: 10.20.1.15
  - name: yard
    address: "[2001:db8::5]:8443"
    module: filed
`

// knownCollectors stands for the collector registry, which config cannot
// import (collector imports config); main passes collector.Names().
var knownCollectors = WithCollectors([]string{"account", "device", "lockout", "services", "time", "two_factor", "users"})

func parseValid(t *testing.T) *Config {
	t.Helper()
	dir := t.TempDir()
	pf := filepath.Join(dir, "pw")
	if err := os.WriteFile(pf, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(strings.ReplaceAll(validYAML, "PASSFILE", pf)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseAppliesDefaults(t *testing.T) {
	c := parseValid(t)
	d := c.Modules["default"]
	if d.Timeout.String() != "10s" || d.MaxConcurrentRequests != 4 || d.CacheTTL.String() != "5m" || d.AuthBackoff.String() != "35m" {
		t.Errorf("defaults not applied: %+v", d)
	}
	if len(d.Collectors) != 0 || !d.Enabled("users") {
		t.Errorf("collectors = %v, want none listed: every collector runs", d.Collectors)
	}
	f := c.Modules["filed"]
	if f.Scheme != "https" || f.Timeout.String() != "3s" {
		t.Errorf("filed module: scheme %q timeout %s", f.Scheme, f.Timeout)
	}
	if c.Device("lobby-cam").Module != "default" || c.Device("lobby-cam").Address != "10.20.1.15:80" {
		t.Errorf("lobby-cam = %+v", c.Device("lobby-cam"))
	}
	if c.Device("yard").Address != "[2001:db8::5]:8443" {
		t.Errorf("yard address = %q", c.Device("yard").Address)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	base := "modules:\n  default:\n    username: u\n    password: p\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"empty", "", "config is empty"},
		{"unknown top key", base + "bogus: 1\n", "field bogus not found"},
		{"unknown module key", "modules:\n  default:\n    username: u\n    password: p\n    pasword: x\n", "field pasword not found"},
		{"no modules", "devices: []\n", "modules: at least one module is required"},
		{"no username", "modules:\n  m:\n    password: p\n", "modules.m.username: required"},
		{"both passwords", "modules:\n  m:\n    username: u\n    password: p\n    password_file: /x\n", "modules.m.password: set either password or password_file, not both"},
		{"no password", "modules:\n  m:\n    username: u\n", "modules.m.password: one of password or password_file is required"},
		{"bad scheme", base + "    scheme: ftp\n", `modules.default.scheme: "ftp" is not http or https`},
		{"bad timeout", base + "    timeout: soon\n", `line 5: "soon" is not a duration (such as 30s, 5m or 1h30m)`},
		{"negative backoff", base + "    auth_backoff: -1m\n", "line 5: modules.default.auth_backoff: must not be negative"},
		{"negative min_probe_interval", base + "    min_probe_interval: -50s\n", "line 5: modules.default.min_probe_interval: must not be negative"},
		{"backoff max below base", base + "    auth_backoff: 2h\n    auth_backoff_max: 1h\n", "modules.default.auth_backoff_max: must be at least auth_backoff"},
		{"unknown collector", base + "    collectors: [device, bogus]\n", `modules.default.collectors: unknown collector "bogus"`},
		{"duplicate collector", base + "    collectors: [device, device]\n", `modules.default.collectors: "device" listed twice`},
		{"basic over http", base + "    scheme: http\n    allow_basic_auth: true\n", "modules.default.allow_basic_auth: Basic auth sends the password in clear and needs scheme https"},
		{"bad allowed target", base + "    allowed_targets: [\"http://x\"]\n", `modules.default.allowed_targets: [0]: "http://x" is neither`},
		{"bad tls", base + "    tls_config: {ca: x, ca_file: y}\n", "at most one of ca, ca_file & ca_ref"},
		{"bad date", base + "    password_changed_at: yesterday\n", `line 5: "yesterday" is not a date`},
		{"future date", base + "    password_changed_at: 2999-01-01\n", "modules.default.password_changed_at: date is in the future"},
		{"device no name", base + "devices:\n  - address: 10.0.0.1\n", "devices[0] (): name: required"},
		{"device bad module", base + "devices:\n  - name: a\n    address: 10.0.0.1\n    module: nope\n", `devices[0] (a): module: unknown module "nope"`},
		{"device dup name", base + "devices:\n  - name: a\n    address: 10.0.0.1\n  - name: a\n    address: 10.0.0.2\n", `devices[1] (a): name: duplicate device name "a"`},
		{"device dup address", base + "devices:\n  - name: a\n    address: 10.0.0.1\n  - name: b\n    address: 10.0.0.1:443\n", `devices[1] (b): address: 10.0.0.1:443 is already device "a"`},
		{"device url address", base + "devices:\n  - name: a\n    address: https://10.0.0.1/\n", "devices[0] (a): address: must be host or host:port"},
		{"device userinfo", base + "devices:\n  - name: a\n    address: admin@10.0.0.1\n", "devices[0] (a): address: must be host or host:port"},
		{"device bad port", base + "devices:\n  - name: a\n    address: 10.0.0.1:99999\n", `devices[0] (a): address: bad port "99999"`},
		{"device name with space", base + "devices:\n  - name: a b\n    address: 10.0.0.1\n", "must not contain spaces"},
		{"device bad label", base + "devices:\n  - name: a\n    address: 10.0.0.1\n    labels: {\"bad-key\": x}\n", `devices[0] (a): labels: "bad-key" is not a valid label name`},
		{"advisory no id", base + "firmware_advisories:\n  - models: [X]\n    max_build: \"200101\"\n", "firmware_advisories[0]: id: required"},
		{"advisory bad build", base + "firmware_advisories:\n  - id: CVE-1\n    models: [X]\n    max_build: \"2001\"\n", `firmware_advisories[0]: CVE-1: max_build: "2001" is not a build date YYMMDD`},
		{"advisory no bound", base + "firmware_advisories:\n  - id: CVE-1\n    models: [X]\n", "firmware_advisories[0]: CVE-1: needs at least one version or build bound"},
		{"minimum bad version", base + "firmware_minimums:\n  - models: [X]\n    version: latest\n", `firmware_minimums[0]: version: "latest" is not a version`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), knownCollectors)
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// Values that do not decode (durations, dates, numbers) are all reported
// in one run, each with its line, as validation errors are.
func TestParseReportsEveryBadValue(t *testing.T) {
	yaml := "modules:\n  default:\n    username: u\n    password: p\n" +
		"    timeout: soon\n    cache_ttl: 5x\n    password_changed_at: yesterday\n    max_concurrent_requests: many\n"
	_, err := Parse([]byte(yaml), knownCollectors)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, want := range []string{`line 5: "soon" is not a duration`, `line 6: "5x" is not a duration`, `line 7: "yesterday" is not a date`, "line 8: cannot unmarshal !!str `many` into int"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// A duration written back reads the same, as the operator wrote it.
func TestDurationRoundTrips(t *testing.T) {
	for _, s := range []string{"0s", "30s", "5m", "1h30m", "1d", "-50s"} {
		var d Duration
		if err := yaml.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := d.String(); got != s {
			t.Errorf("%s decodes to %v and writes back as %s", s, time.Duration(d), got)
		}
	}
}

func TestStringRedactsEverySecret(t *testing.T) {
	yaml := `
modules:
  a: {username: u, password: first-secret-value}
  b: {username: u, password: second-secret-value}
  c: {username: u, password: third-secret-value, tls_config: {key: tls-key-secret-value, cert: CERTTEXT}}
`
	c, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	out := c.String()
	for _, s := range []string{"first-secret-value", "second-secret-value", "third-secret-value", "tls-key-secret-value"} {
		if strings.Contains(out, s) {
			t.Errorf("config output leaks %q:\n%s", s, out)
		}
	}
	if n := strings.Count(out, "<secret>"); n != 4 {
		t.Errorf("want 4 <secret> markers, got %d:\n%s", n, out)
	}
	// The redacted output is itself a valid config shape (secrets aside).
	if !strings.Contains(out, "username: u") {
		t.Errorf("output lost fields:\n%s", out)
	}
}

func TestReadPasswordReadsFileAtUse(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pw")
	write := func(s string) {
		if err := os.WriteFile(pf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("one\n")
	c, err := Parse([]byte("modules:\n  m: {username: u, password_file: " + pf + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Modules["m"]
	if p, err := m.ReadPassword(); err != nil || p != "one" {
		t.Fatalf("ReadPassword = %q, %v", p, err)
	}
	write("two\r\n")
	if p, err := m.ReadPassword(); err != nil || p != "two" {
		t.Fatalf("after rotation ReadPassword = %q, %v", p, err)
	}
	write("\n")
	if _, err := m.ReadPassword(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty file: err = %v", err)
	}
	os.Remove(pf)
	if _, err := m.ReadPassword(); err == nil || !strings.Contains(err.Error(), "reading password_file") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestDate(t *testing.T) {
	c, err := Parse([]byte("modules:\n  m: {username: u, password: p, password_changed_at: 2026-01-31}\n  n: {username: u, password: p, password_changed_at: \"2026-02-01T10:00:00+02:00\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Modules["m"].PasswordChangedAt.Time; !got.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date = %v", got)
	}
	if got := c.Modules["n"].PasswordChangedAt.Time; !got.Equal(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("timestamp = %v", got)
	}
	if out := c.String(); !strings.Contains(out, "password_changed_at: \"2026-01-31\"") && !strings.Contains(out, "password_changed_at: 2026-01-31") {
		t.Errorf("date not rendered back:\n%s", out)
	}
}

// fileStore writes yaml to h.yml in a fresh directory and returns a Store
// loaded from it, with the directory: writeFile(t, dir, "h.yml", ...)
// changes the file for the next Reload.
func fileStore(t *testing.T, yaml string) (s *Store, dir string) {
	t.Helper()
	dir = t.TempDir()
	path := writeFile(t, dir, "h.yml", yaml)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return NewStore(path, cfg, nil), dir
}

func TestStoreKeepsOldConfigOnBadReload(t *testing.T) {
	good := "modules:\n  m: {username: u, password: p}\ndevices:\n  - {name: a, address: 10.0.0.1, module: m}\n"
	s, dir := fileStore(t, good)
	cfg := s.Get()
	writeFile(t, dir, "h.yml", "modules: {m: {username: u}}\n")
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "modules.m.password") {
		t.Fatalf("bad reload err = %v", err)
	}
	if s.Get() != cfg || s.Get().Device("a") == nil {
		t.Fatal("old config not kept after a failed reload")
	}
	writeFile(t, dir, "h.yml", strings.Replace(good, "name: a", "name: b", 1))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.Get().Device("b") == nil {
		t.Fatal("good reload not applied")
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestResolve(t *testing.T) {
	c := parseValid(t)
	r := fakeResolver{
		"inside.lan":            {netip.MustParseAddr("10.20.3.4")},
		"outside.lan":           {netip.MustParseAddr("10.99.0.1")},
		"split.lan":             {netip.MustParseAddr("10.20.3.4"), netip.MustParseAddr("8.8.8.8")},
		"mapped.lan":            {netip.MustParseAddr("::ffff:10.20.9.9")},
		"cam1.cams.example.net": {netip.MustParseAddr("203.0.113.9")},
	}
	ok := []struct {
		target, module, name, addr, modName string
		pinned                              string
	}{
		{"lobby-cam", "", "lobby-cam", "10.20.1.15:80", "default", ""},
		{"lobby-cam", "filed", "lobby-cam", "10.20.1.15:80", "default", ""}, // configured devices keep their module
		{"10.20.1.15", "", "lobby-cam", "10.20.1.15:80", "default", ""},
		{"10.20.1.15:80", "", "lobby-cam", "10.20.1.15:80", "default", ""},
		{"[2001:db8::5]:8443", "", "yard", "[2001:db8::5]:8443", "filed", ""},
		{"10.20.7.7", "default", "10.20.7.7:80", "10.20.7.7:80", "default", "10.20.7.7"},
		{"10.20.7.7:8080", "", "10.20.7.7:8080", "10.20.7.7:8080", "default", "10.20.7.7"},
		{"::ffff:10.20.7.8", "default", "10.20.7.8:80", "10.20.7.8:80", "default", "10.20.7.8"},
		{"[::ffff:198.51.100.9]:80", "default", "198.51.100.9:80", "198.51.100.9:80", "default", "198.51.100.9"},
		{"192.0.2.7", "", "192.0.2.7:80", "192.0.2.7:80", "default", "192.0.2.7"},
		{"inside.lan", "default", "inside.lan:80", "inside.lan:80", "default", "10.20.3.4"},
		{"mapped.lan", "default", "mapped.lan:80", "mapped.lan:80", "default", "10.20.9.9"},
		{"CAM1.cams.example.net", "default", "cam1.cams.example.net:80", "cam1.cams.example.net:80", "default", ""},
	}
	for _, tc := range ok {
		got, err := c.Resolve(context.Background(), r, tc.target, tc.module)
		if err != nil {
			t.Errorf("Resolve(%q, %q): %v", tc.target, tc.module, err)
			continue
		}
		var pins []string
		for _, p := range got.Pinned {
			pins = append(pins, p.String())
		}
		if got.Name != tc.name || got.Address != tc.addr || got.ModuleName != tc.modName || strings.Join(pins, ",") != tc.pinned {
			t.Errorf("Resolve(%q, %q) = name %q addr %q module %q pinned %v; want %q %q %q %q",
				tc.target, tc.module, got.Name, got.Address, got.ModuleName, pins, tc.name, tc.addr, tc.modName, tc.pinned)
		}
	}
	refused := []struct{ target, module, want string }{
		{"10.21.0.1", "default", "not in the module's allowed_targets"},
		{"10.20.7.7", "filed", "module allows no other targets"},
		{"10.20.7.7", "nope", `unknown module "nope"`},
		// A configured device keeps its own module only for a known module=:
		// an unknown one is a mistake in the scrape configuration.
		{"lobby-cam", "nope", `unknown module "nope"`},
		{"10.20.1.15", "Default", `unknown module "Default"`},
		{"yard", "nope", `unknown module "nope"`},
		{"http://10.20.7.7", "default", "must be host or host:port"},
		{"https://lobby-cam/", "default", "must be host or host:port"},
		{"admin:pw@10.20.7.7", "default", "must be host or host:port"},
		{"10.20.7.7/ISAPI", "default", "must be host or host:port"},
		{"10.20.7.7?x=1", "default", "must be host or host:port"},
		{"fe80::1%eth0", "default", "must be host or host:port"},
		{"10.20.7.7:0", "default", "bad port"},
		{"10.20.7.7:http", "default", "bad port"},
		{"[::1]", "default", "not in the module's allowed_targets"},
		{"::ffff:127.0.0.1", "default", "not in the module's allowed_targets"},
		{"2130706433", "default", "looks like a numeric address"},
		{"0x7f.1", "default", "looks like a numeric address"},
		{"outside.lan", "default", "outside the module's allowed_targets"},
		{"split.lan", "default", "outside the module's allowed_targets"},
		{"unknown.lan", "default", "cannot resolve"},
		{"evil.cams.example.net.attacker.org", "default", "cannot resolve"},
		{"a b", "default", "must be host or host:port"},
		{"", "default", "empty address"},
	}
	for _, tc := range refused {
		_, err := c.Resolve(context.Background(), r, tc.target, tc.module)
		var te *TargetError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q, %q) err = %v, want TargetError containing %q", tc.target, tc.module, err, tc.want)
		}
	}
}

func TestSDJSON(t *testing.T) {
	c, err := Parse([]byte("modules:\n  m: {username: u, password: p}\ndevices:\n  - {name: a, address: 10.0.0.1, module: m, labels: {site: hq}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SDJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"targets": [`, `"a"`, `"__meta_hikvision_module": "m"`, `"__meta_hikvision_label_site": "hq"`, `"__meta_hikvision_device": "a"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("SD JSON lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "10.0.0.1") || strings.Contains(string(b), `"p"`) {
		t.Errorf("SD JSON should name devices, not addresses or secrets:\n%s", b)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add([]byte("modules:\n  m: {username: u, password: p}\ndevices:\n  - {name: a, address: \"[::1]:80\"}\n"))
	f.Add([]byte("modules: {m: {username: u, password: p, allowed_targets: [\"*.x\", 10.0.0.0/8]}}"))
	f.Add([]byte("modules:\n  m:\n    username: u\n    password: *Secr3t-pw # c\n  n: {token: !!int \"x\\x41\", password: 'a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if strings.Contains(err.Error(), placeholder) {
				t.Fatalf("redaction placeholder left in %q", err)
			}
			return
		}
		_ = c.String()
		for _, d := range c.Devices {
			if _, err := c.Resolve(context.Background(), nil, d.Name, ""); err != nil {
				t.Fatalf("configured device %q does not resolve: %v", d.Name, err)
			}
		}
	})
}
