package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// AlertmanagerExample is the shipped Alertmanager configuration, relative to
// the repository root.
const AlertmanagerExample = "examples/alertmanager.yml"

// amtool returns the path of amtool, and fails the test (never skips it)
// when it is missing.
func amtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("amtool")
	if err != nil {
		t.Fatalf("amtool is not on PATH (%v): install Debian's prometheus-alertmanager package "+
			"(apt-get install -y prometheus-alertmanager; `make deps` does it), or put the programs of an "+
			"Alertmanager release on PATH", err)
	}
	return path
}

// runAmtool runs amtool with args in the repository root and returns what
// it printed on stdout (its warnings go to stderr).
func runAmtool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(amtool(t), args...)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("amtool %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func TestAlertmanagerExampleChecks(t *testing.T) {
	out := runAmtool(t, "check-config", AlertmanagerExample)
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("amtool check-config %s did not report SUCCESS:\n%s", AlertmanagerExample, out)
	}
	// A broken configuration is refused, so the check above is not vacuous.
	broken := filepath.Join(t.TempDir(), "broken.yml")
	writeFile(t, broken, "route:\n  receiver: nobody\nreceivers:\n  - name: somebody\n")
	if out, err := exec.Command(amtool(t), "check-config", broken).CombinedOutput(); err == nil {
		t.Errorf("amtool check-config accepted a route to an undefined receiver:\n%s", out)
	}
}

// Every severity the rules use has its own route, and the route tree sends
// each alert of the rules file to the receiver of its severity, as
// Alertmanager itself resolves it (amtool config routes test).
func TestAlertmanagerExampleRoutesBySeverity(t *testing.T) {
	want := map[string]string{"critical": "security-oncall", "warning": "security-team", "info": "security-digest"}
	for severity, receiver := range want {
		got := strings.TrimSpace(lastLine(runAmtool(t, "config", "routes", "test", "--config.file="+AlertmanagerExample,
			"alertname=HikvisionTest", "job=hikvision", "instance=cam-1", "severity="+severity)))
		if got != receiver {
			t.Errorf("severity=%s goes to %q, want %q", severity, got, receiver)
		}
	}
	rules := ruleAlerts(t)
	for _, a := range rules {
		if _, ok := want[a.severity]; !ok {
			t.Errorf("alert %s: severity %q has no route in %s", a.name, a.severity, AlertmanagerExample)
		}
	}
	am := readAlertmanagerExample(t)
	if g := am.Route.GroupBy; !slices.Contains(g, "instance") || !slices.Contains(g, "job") || len(g) != 2 {
		t.Errorf("route.group_by = %v, want [job, instance]: one notification per device", g)
	}
}

// The inhibitions: a device whose credentials are rejected or whose probe
// is down gets no posture alert (channel alerts, which carry the
// recorder's instance, included), the alerts that say why are never
// inhibited, and HikvisionUPnPPortMapping replaces HikvisionUPnPEnabled.
func TestAlertmanagerExampleInhibitions(t *testing.T) {
	am := readAlertmanagerExample(t)
	availability := map[string]bool{}
	var posture, channel []string
	for _, a := range ruleAlerts(t) {
		switch {
		case a.group == "hikvision-probe" || a.group == "hikvision-meta":
			availability[a.name] = true
		case strings.HasPrefix(a.name, "HikvisionChannel"):
			channel = append(channel, a.name)
			posture = append(posture, a.name)
		default:
			posture = append(posture, a.name)
		}
	}
	if len(channel) < 3 || len(posture) < 25 {
		t.Fatalf("found %d posture alerts, %d of them channel alerts; is the rules file read correctly?", len(posture), len(channel))
	}
	// inhibitedBy reports whether an alert named target is inhibited by
	// one named source on the same device.
	inhibitedBy := func(source, target string) bool {
		for _, r := range am.InhibitRules {
			if !slices.Contains(r.Equal, "instance") || !slices.Contains(r.Equal, "job") {
				continue
			}
			if matchAll(t, r.SourceMatchers, source) && matchAll(t, r.TargetMatchers, target) {
				return true
			}
		}
		return false
	}
	for _, source := range []string{"HikvisionCredentialsRejected", "HikvisionDeviceUnreachable", "HikvisionProbeFailed"} {
		if !availability[source] {
			t.Fatalf("%s is not an alert of the hikvision-probe group", source)
		}
		for _, target := range posture {
			if !inhibitedBy(source, target) {
				t.Errorf("%s does not inhibit %s of the same device", source, target)
			}
		}
		for target := range availability {
			if inhibitedBy(source, target) {
				t.Errorf("%s inhibits %s, which says why a device reports nothing (or that the exporter is broken): it must get through", source, target)
			}
		}
	}
	if !inhibitedBy("HikvisionUPnPPortMapping", "HikvisionUPnPEnabled") {
		t.Error("HikvisionUPnPPortMapping does not inhibit HikvisionUPnPEnabled of the same device")
	}
	if inhibitedBy("HikvisionUPnPEnabled", "HikvisionUPnPPortMapping") {
		t.Error("HikvisionUPnPEnabled inhibits HikvisionUPnPPortMapping")
	}
	// No posture alert inhibits another except the UPnP pair.
	for _, source := range posture {
		for _, target := range posture {
			if source != "HikvisionUPnPPortMapping" && inhibitedBy(source, target) {
				t.Errorf("%s inhibits %s", source, target)
			}
		}
	}
}

type ruleAlert struct{ group, name, severity string }

// ruleAlerts returns the alerts of the shipped rules file.
func ruleAlerts(t *testing.T) []ruleAlert {
	t.Helper()
	var rf struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, RulesFile), &rf); err != nil {
		t.Fatal(err)
	}
	var out []ruleAlert
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, ruleAlert{group: g.Name, name: r.Alert, severity: r.Labels["severity"]})
			}
		}
	}
	return out
}

type alertmanagerConfig struct {
	Route struct {
		GroupBy []string `yaml:"group_by"`
	} `yaml:"route"`
	InhibitRules []struct {
		SourceMatchers []string `yaml:"source_matchers"`
		TargetMatchers []string `yaml:"target_matchers"`
		Equal          []string `yaml:"equal"`
	} `yaml:"inhibit_rules"`
}

func readAlertmanagerExample(t *testing.T) alertmanagerConfig {
	t.Helper()
	var c alertmanagerConfig
	if err := yaml.Unmarshal(readRepoFile(t, AlertmanagerExample), &c); err != nil {
		t.Fatalf("%s: %v", AlertmanagerExample, err)
	}
	if len(c.InhibitRules) == 0 {
		t.Fatalf("%s: no inhibit_rules", AlertmanagerExample)
	}
	return c
}

var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$`)

// matchAll reports whether an alert with this alertname (and no other
// label) satisfies every matcher, as Alertmanager evaluates them: regular
// expressions are anchored at both ends.
func matchAll(t *testing.T, matchers []string, alertname string) bool {
	t.Helper()
	if len(matchers) == 0 {
		t.Fatalf("%s: an inhibit rule without source or target matchers", AlertmanagerExample)
	}
	for _, m := range matchers {
		p := matcherRE.FindStringSubmatch(m)
		if p == nil {
			t.Fatalf("%s: cannot read the matcher %q (write it as name=\"value\", name=~\"regex\", ...)", AlertmanagerExample, m)
		}
		value := ""
		if p[1] == "alertname" {
			value = alertname
		}
		var ok bool
		switch p[2] {
		case "=":
			ok = value == p[3]
		case "!=":
			ok = value != p[3]
		default:
			re, err := regexp.Compile("^(?:" + p[3] + ")$")
			if err != nil {
				t.Fatalf("%s: matcher %q: %v", AlertmanagerExample, m, err)
			}
			ok = re.MatchString(value) == (p[2] == "=~")
		}
		if !ok {
			return false
		}
	}
	return true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
