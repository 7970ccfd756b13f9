package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
)

const (
	unitFile = "systemd/hikvision_exporter.service"
	// installedBinary is where README ("Deploying") copies the exporter.
	installedBinary = "/usr/local/bin/hikvision_exporter"
)

// unitOptions parses the unit with go-systemd's parser (the one behind
// fleet and the go-systemd D-Bus API) into "Section.Name" -> values, in the
// order they appear.
func unitOptions(t *testing.T) (map[string][]string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", unitFile, err)
	}
	m := map[string][]string{}
	for _, o := range opts {
		k := o.Section + "." + o.Name
		m[k] = append(m[k], o.Value)
	}
	return m, raw
}

// TestSystemdUnitDirectives checks the hardening and the wiring the README
// promises, on the unit as go-systemd parses it.
func TestSystemdUnitDirectives(t *testing.T) {
	opts, raw := unitOptions(t)

	// Directives set once, to exactly this.
	exact := map[string]string{
		"Service.Type":                    "simple",
		"Service.DynamicUser":             "yes",
		"Service.NoNewPrivileges":         "yes",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.PrivateDevices":          "yes",
		"Service.ProtectKernelTunables":   "yes",
		"Service.ProtectKernelModules":    "yes",
		"Service.ProtectControlGroups":    "yes",
		"Service.ProtectKernelLogs":       "yes",
		"Service.ProtectClock":            "yes",
		"Service.ProtectHostname":         "yes",
		"Service.ProtectProc":             "invisible",
		"Service.PrivateMounts":           "yes",
		"Service.DevicePolicy":            "closed",
		"Service.RestrictRealtime":        "yes",
		"Service.RemoveIPC":               "yes",
		"Service.KeyringMode":             "private",
		"Service.RestrictNamespaces":      "yes",
		"Service.RestrictSUIDSGID":        "yes",
		"Service.LockPersonality":         "yes",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.SystemCallArchitectures": "native",
		"Service.CapabilityBoundingSet":   "",
		"Service.AmbientCapabilities":     "",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Service.StateDirectory":          "hikvision_exporter",
		"Service.StateDirectoryMode":      "0700",
		"Service.ConfigurationDirectory":  "hikvision_exporter",
		"Service.UMask":                   "0077",
		"Service.Restart":                 "on-failure",
		"Service.ExecReload":              "/bin/kill -HUP $MAINPID",
		"Install.WantedBy":                "multi-user.target",
	}
	for k, want := range exact {
		got := opts[k]
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want exactly one %s=%s", unitFile, k, got, k, want)
		}
	}
	if f := opts["Service.SystemCallFilter"]; !slices.Contains(f, "@system-service") {
		t.Errorf("SystemCallFilter = %q, want @system-service among them", f)
	}

	// ExecStart: the installed binary, the configuration in the
	// ConfigurationDirectory and --storage.path in the StateDirectory, so
	// that hold-offs survive restarts.
	execStart := opts["Service.ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("ExecStart = %q, want one", execStart)
	}
	// go-systemd joins continued lines but keeps their backslashes, which
	// systemd replaces with a space.
	args := strings.Fields(strings.ReplaceAll(execStart[0], "\\", " "))
	if args[0] != installedBinary {
		t.Errorf("ExecStart runs %s, want %s (README, \"Deploying\")", args[0], installedBinary)
	}
	flags := map[string]string{}
	for _, a := range args[1:] {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(name, "--") {
			t.Errorf("ExecStart argument %q: want --flag=value", a)
			continue
		}
		flags[name] = value
	}
	if want := "/etc/hikvision_exporter/hikvision.yml"; flags["--config.file"] != want {
		t.Errorf("--config.file=%q, want %s (in ConfigurationDirectory=%s)", flags["--config.file"], want, opts["Service.ConfigurationDirectory"])
	}
	if want := "/var/lib/hikvision_exporter"; flags["--storage.path"] != want {
		t.Errorf("--storage.path=%q, want %s (StateDirectory=%s)", flags["--storage.path"], want, opts["Service.StateDirectory"])
	}

	// LimitNOFILE: two descriptors per device plus a few hundred (README,
	// "Sizing a large fleet"), for the fleet size the comment states.
	m := regexp.MustCompile(`Sized for (\d+) devices`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s: no \"Sized for N devices\" comment next to LimitNOFILE", unitFile)
	}
	devices, _ := strconv.Atoi(string(m[1]))
	limit := opts["Service.LimitNOFILE"]
	if len(limit) != 1 {
		t.Fatalf("LimitNOFILE = %q, want one", limit)
	}
	n, err := strconv.Atoi(limit[0])
	if err != nil {
		t.Fatalf("LimitNOFILE=%s: %v", limit[0], err)
	}
	if least := 2*devices + 300; n < least {
		t.Errorf("LimitNOFILE=%d is too small for %d devices: want at least 2 per device plus a few hundred, %d", n, devices, least)
	}
	t.Logf("LimitNOFILE=%d, sized for %d devices", n, devices)
}

// unitForBuiltBinary writes a copy of the unit whose ExecStart runs the
// binary this test run built (systemd-analyze verify checks that the
// program exists and is executable) and returns its path.
func unitForBuiltBinary(t *testing.T) string {
	t.Helper()
	_, raw := unitOptions(t)
	bin := buildExporter(t)
	if !bytes.Contains(raw, []byte("ExecStart="+installedBinary+" ")) {
		t.Fatalf("%s: no ExecStart=%s", unitFile, installedBinary)
	}
	copied := bytes.Replace(raw, []byte("ExecStart="+installedBinary+" "), []byte("ExecStart="+bin+" "), 1)
	path := filepath.Join(t.TempDir(), filepath.Base(unitFile))
	if err := os.WriteFile(path, copied, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSystemdAnalyzeVerify runs `systemd-analyze verify`, which loads the
// unit as systemd would (it needs no running systemd) and reports unknown
// directives, bad values and missing programs. Any message about the unit
// fails the test.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := tool(t, "systemd-analyze", "systemd")
	path := unitForBuiltBinary(t)
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	var ours []string
	for l := range strings.Lines(string(out)) {
		if strings.Contains(l, "hikvision_exporter") {
			ours = append(ours, strings.TrimSpace(l))
		} else if strings.TrimSpace(l) != "" {
			t.Logf("systemd-analyze verify, about something else: %s", strings.TrimSpace(l))
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, strings.Join(ours, "\n"))
	}
}

// TestSystemdAnalyzeSecurity rates the unit's sandboxing with `systemd-analyze
// security --offline=yes` (0 is fully locked down, 10 is unprotected) and
// fails above 2.0.
func TestSystemdAnalyzeSecurity(t *testing.T) {
	sa := tool(t, "systemd-analyze", "systemd")
	path := unitForBuiltBinary(t)
	// --threshold is the exposure times ten.
	out, err := exec.Command(sa, "security", "--offline=yes", "--threshold=20", "--no-pager", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for hikvision_exporter\.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security --offline=yes --threshold=20 %s: %v\n%s", path, err, out)
	}
	level, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || level > 2.0 {
		t.Errorf("exposure level %s, want at most 2.0\n%s", m[1], out)
	}
	t.Logf("systemd-analyze security: exposure level %s (0 best, 10 worst)", m[1])
}
