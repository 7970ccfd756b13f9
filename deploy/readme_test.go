package deploy

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// readmeDeploying returns README's "Deploying" section.
func readmeDeploying(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(repoRoot + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Deploying\n")
	if !ok {
		t.Fatal("README.md has no \"## Deploying\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestReadmeSystemd: README's commands install the files where the unit
// looks for them.
func TestReadmeSystemd(t *testing.T) {
	section := readmeDeploying(t)
	opts, _ := unitOptions(t)
	for _, want := range []string{
		"install -m 0755 hikvision_exporter " + installedBinary + "\n",
		"install -m 0644 deploy/" + unitFile + " /etc/systemd/system/\n",
		"groupadd --system " + strings.Join(opts["Service.SupplementaryGroups"], " ") + "\n",
		" /etc/hikvision_exporter/hikvision.yml\n",
		"-g " + strings.Join(opts["Service.SupplementaryGroups"], " ") + " /dev/null /etc/hikvision_exporter/password\n",
		"systemctl daemon-reload && systemctl enable --now hikvision_exporter\n",
		"`LimitNOFILE=" + strings.Join(opts["Service.LimitNOFILE"], "") + "`",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("README's Deploying section lacks %q", want)
		}
	}
}

// TestReadmeHelmValues renders the chart with the values README shows and
// checks what it promises.
func TestReadmeHelmValues(t *testing.T) {
	section := readmeDeploying(t)
	_, text, ok := strings.Cut(section, "<<'VALUES'\n")
	if ok {
		text, _, ok = strings.Cut(text, "\nVALUES\n")
	}
	if !ok {
		t.Fatal("README's Deploying section has no values file between <<'VALUES' and VALUES")
	}
	var values map[string]any
	if err := yaml.UnmarshalStrict([]byte(text), &values); err != nil {
		t.Fatalf("README's values: %v\n%s", err, text)
	}
	if !strings.Contains(section, "--from-file=password=./password") {
		t.Error("README does not create the Secret with the key password")
	}
	lintChart(t, values)
	o := render(t, values)
	checkWorkload(t, o, "hikvision-exporter-password", "password")
	if o.serviceMonitor == nil || o.prometheusRule == nil {
		t.Fatalf("README's values render %q, want a ServiceMonitor and a PrometheusRule", o.kinds)
	}
	checkServiceMonitor(t, o, true)
	checkPrometheusRule(t, o)
}
