package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRefusesSecondDocument(t *testing.T) {
	const doc = "modules:\n  m: {username: u, password: p}\n"
	refused := []struct{ yaml, line string }{
		{doc + "---\nmodules:\n  n: {username: u, password: p}\n", "line 3"},
		{"---\n" + doc + "\n# more\n---\ndevices: []\n", "line 6"},
		{doc + "--- scalar\n", "line 3"},
		{doc + "...\n---\n# c\n---\nx: 1\n", "line 6"},
	}
	for _, tc := range refused {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.line+": only one YAML document is allowed") {
			t.Errorf("%q: err = %v, want the second document refused at %s", tc.yaml, err, tc.line)
		}
	}
	for _, ok := range []string{doc + "---\n", doc + "---\n# trailing comment\n", "---\n" + doc, doc + "...\n", doc + "---\n---\n"} {
		if _, err := Parse([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestParseReportsEveryError(t *testing.T) {
	yaml := `modules:
  default:
    username: u
    password: p
    scheme: ftp
    collectors: [device, bogus]
  nvr:
    password: p
    max_concurrent_requests: 65
devices:
  - name: gate
    address: 10.0.0.1
  - name: yard
    address: 10.0.0.2
    module: nvr2
  - name: gate
    address: http://10.0.0.3/
    labels: {bad-key: x}
firmware_advisories:
  - id: CVE-1
    models: [X]
firmware_minimums:
  - models: [X]
    version: latest
`
	_, err := Parse([]byte(yaml), knownCollectors)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	want := []string{
		`line 5: modules.default.scheme: "ftp" is not http or https`,
		`line 6: modules.default.collectors: unknown collector "bogus"`,
		`line 7: modules.nvr.username: required`,
		`line 9: modules.nvr.max_concurrent_requests: 65 is above 64`,
		`line 15: devices[1] (yard): module: unknown module "nvr2"`,
		`line 16: devices[2] (gate): name: duplicate device name "gate"`,
		`line 17: devices[2] (gate): address: must be host or host:port`,
		`line 18: devices[2] (gate): labels: "bad-key" is not a valid label name`,
		`firmware_advisories[0]: CVE-1: needs at least one version or build bound`,
		`firmware_minimums[0]: version: "latest" is not a version`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], w) {
			t.Errorf("error %d: want prefix %q\nall errors:\n%s", i, w, err)
		}
	}
	if u, ok := err.(interface{ Unwrap() []error }); !ok || len(u.Unwrap()) != len(want) {
		t.Errorf("errors are not joined one by one: %T", err)
	}
}

func TestMaxConcurrentRequestsLimit(t *testing.T) {
	base := "modules:\n  default:\n    username: u\n    password: p\n    max_concurrent_requests: "
	if _, err := Parse([]byte(base + "64\n")); err != nil {
		t.Errorf("64: %v", err)
	}
	_, err := Parse([]byte(base + "65\n"))
	if err == nil || !strings.Contains(err.Error(), "modules.default.max_concurrent_requests: 65 is above 64") {
		t.Errorf("65: err = %v", err)
	}
}

// TestMinProbeInterval: min_probe_interval is off (0) unless set, kept as
// given, and never negative. YAML cannot spell a negative duration (the
// decoder refuses it, as for every duration); one set otherwise is a
// validation error, named with its line along with every other error.
func TestMinProbeInterval(t *testing.T) {
	const yaml = "modules:\n  default:\n    username: u\n    password: p\n"
	c, err := Parse([]byte(yaml))
	if err != nil || c.Modules["default"].MinProbeInterval != 0 {
		t.Fatalf("unset: err %v, min_probe_interval %v; want 0 (off)", err, c.Modules["default"].MinProbeInterval)
	}
	set := yaml + "    min_probe_interval: 50s\n"
	c, err = Parse([]byte(set))
	if err != nil || c.Modules["default"].MinProbeInterval.String() != "50s" {
		t.Fatalf("50s: err %v, min_probe_interval %v", err, c.Modules["default"].MinProbeInterval)
	}
	m := c.Modules["default"]
	m.MinProbeInterval, m.Scheme = Duration(-50*time.Second), "ftp"
	err = c.validate(&lineFinder{src: []byte(set)}, &loadOptions{})
	for _, want := range []string{
		`line 5: modules.default.min_probe_interval: must not be negative`,
		`modules.default.scheme: "ftp" is not http or https`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("negative: err = %v, want it to contain %q", err, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	const head = "modules:\n  default:\n    username: u\n    password: p\n"
	type warnCase struct {
		name, yaml string
		want       []string
	}
	cases := []warnCase{
		{"short auth_backoff", head + "    auth_backoff: 1s\n", []string{
			"modules.default.auth_backoff: 1s is shorter than 30m, the usual device lock time: failed logins may pile up into a lock"}},
		{"auth_backoff at the lock time", head + "    auth_backoff: 30m\n", nil},
		{"many requests in flight", head + "    max_concurrent_requests: 17\n", []string{
			"modules.default.max_concurrent_requests: 17 is above 16: camera CPUs are weak and may slow down or drop requests"}},
		{"16 requests in flight", head + "    max_concurrent_requests: 16\n", nil},
		{"basic auth", head + "    allow_basic_auth: true\n", []string{
			"modules.default.allow_basic_auth: Basic sends the password with every request; leave it off unless a device offers nothing else"}},
		{"wide allowed_targets", head + `    allowed_targets: [0.0.0.0/0, "::/0", 8.0.0.0/7, 10.0.0.0/8, "2000::/15", "2001:db8::/16", "*", "*.*", "*.cams.example.net", "::ffff:0.0.0.0/96", 192.0.2.1]` + "\n", []string{
			`modules.default.allowed_targets[0]: "0.0.0.0/0" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[1]: "::/0" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[2]: "8.0.0.0/7" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[4]: "2000::/15" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[6]: "*" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[7]: "*.*" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
			`modules.default.allowed_targets[9]: "::ffff:0.0.0.0/96" allows (nearly) every target: the module's credentials can be sent to any host that answers`,
		}},
		{"localhost and a loopback address", head + "devices:\n  - {name: a, address: 127.0.0.1:8080}\n  - {name: b, address: localhost:8080}\n  - {name: c, address: \"[::1]:8080\"}\n  - {name: d, address: localhost:8081}\n  - {name: e, address: 127.0.0.2:8081}\n", []string{
			"devices[1] (b): address: localhost:8080 is likely the same endpoint as devices[0] (a) at 127.0.0.1:8080",
			"devices[2] (c): address: [::1]:8080 is likely the same endpoint as devices[1] (b) at localhost:8080",
			"devices[4] (e): address: 127.0.0.2:8081 is likely the same endpoint as devices[3] (d) at localhost:8081",
		}},
		{"loopback addresses on other ports", head + "devices:\n  - {name: a, address: 127.0.0.1:8080}\n  - {name: b, address: localhost:8081}\n  - {name: c, address: \"[::1]:8080\"}\n", nil},
		{"modules in name order", "modules:\n  zz: {username: u, password: p, auth_backoff: 1m}\n  aa: {username: u, password: p, allow_basic_auth: true}\n", []string{
			"modules.aa.allow_basic_auth: Basic sends the password with every request; leave it off unless a device offers nothing else",
			"modules.zz.auth_backoff: 1m is shorter than 30m, the usual device lock time: failed logins may pile up into a lock",
		}},
	}
	example, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The shipped examples must pass --config.check with a bare "OK".
	cases = append(cases, warnCase{"config.example.yml", string(example), nil}, warnCase{"validYAML", validYAML, nil})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Warnings(); !slices.Equal(got, tc.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// The same endpoint written two ways stays an error, not a warning: the
// address is normalised (IPv4-mapped IPv6 unmapped) before the comparison.
func TestSameNormalisedAddressIsAnError(t *testing.T) {
	_, err := Parse([]byte("modules:\n  default: {username: u, password: p, scheme: http}\ndevices:\n  - {name: a, address: 127.0.0.1}\n  - {name: b, address: \"[::ffff:127.0.0.1]:80\"}\n  - {name: c, address: localhost}\n"))
	if err == nil || !strings.Contains(err.Error(), `line 5: devices[1] (b): address: 127.0.0.1:80 is already device "a"`) {
		t.Errorf("err = %v", err)
	}
}

func TestStoreReloadMakesWarningsAvailable(t *testing.T) {
	s, dir := fileStore(t, "modules:\n  m: {username: u, password: p}\n")
	writeFile(t, dir, "h.yml", "modules:\n  m: {username: u, password: p, auth_backoff: 5m}\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	w := s.Get().Warnings()
	if len(w) != 1 || !strings.HasPrefix(w[0], "modules.m.auth_backoff: 5m is shorter than 30m") {
		t.Errorf("warnings after reload: %q", w)
	}
	w[0] = "changed"
	if s.Get().Warnings()[0] == "changed" {
		t.Error("Warnings returns the config's own slice")
	}
}
