package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const (
	chartDir = "helm/hikvision-exporter"
	// rulesFile is the rule file Prometheus loads; the chart's
	// chartRulesFile is a symbolic link to it.
	rulesFile      = repoRoot + "/alerts/hikvision.rules.yml"
	chartRulesFile = "files/hikvision.rules.yml"
	releaseName    = "hik"
	namespace      = "monitoring"
	// fullName is the chart's name for every object of release "hik".
	fullName = "hik-hikvision-exporter"
)

// Values the tests render the chart with, besides its defaults.
var (
	devices = []any{
		map[string]any{"name": "lobby-cam", "address": "192.0.2.15", "labels": map[string]any{"site": "hq", "zone": "lobby"}},
		map[string]any{"name": "yard-nvr", "address": "192.0.2.200:8080", "module": "nvr"},
	}
	// Everything on: the chart's own Secret and PVC, a ServiceMonitor that
	// probes every device, the PrometheusRule.
	serviceMonitorValues = map[string]any{
		"config": map[string]any{
			"modules": map[string]any{
				"default": map[string]any{"allowed_targets": []any{"192.0.2.0/24"}},
				"nvr":     map[string]any{"username": "exporter", "password_file": "/etc/hikvision_exporter/password", "scheme": "http"},
			},
			"devices": devices,
		},
		"password":       map[string]any{"value": "s3cret-Passw0rd"},
		"persistence":    map[string]any{"enabled": true, "storageClass": "fast"},
		"extraArgs":      []any{"--log.level=debug"},
		"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
		"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
	}
	// The large-fleet way: the devices discovered from /sd by a ScrapeConfig,
	// the ServiceMonitor for the exporter's own metrics only, the user's
	// Secret and claim.
	scrapeConfigValues = map[string]any{
		"config":         map[string]any{"devices": devices[:1]},
		"password":       map[string]any{"existingSecret": "cams", "key": "exporter-password"},
		"persistence":    map[string]any{"enabled": true, "existingClaim": "hikvision-state"},
		"serviceMonitor": map[string]any{"enabled": true, "probeDevices": false},
		"scrapeConfig":   map[string]any{"enabled": true},
		"prometheusRule": map[string]any{"enabled": true},
	}
)

// objects are the documents of one rendering, each strictly decoded into
// its Kubernetes or Prometheus Operator type; nil when not rendered.
type objects struct {
	deployment     *appsv1.Deployment
	service        *corev1.Service
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	pvc            *corev1.PersistentVolumeClaim
	serviceMonitor *monitoringv1.ServiceMonitor
	scrapeConfig   *monitoringv1alpha1.ScrapeConfig
	prometheusRule *monitoringv1.PrometheusRule
	// docs: "Source" of each document (templates/x.yaml) -> its text.
	docs  map[string]string
	kinds []string
	notes string
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading %s: %v", chartDir, err)
	}
	return ch
}

// install renders the chart as `helm install --dry-run` does without a
// cluster (action.Install with DryRun and ClientOnly): values merged with
// values.yaml, templates rendered, documents split and sorted by kind.
func install(t *testing.T, values map[string]any) (string, string, error) {
	t.Helper()
	inst := action.NewInstall(&action.Configuration{Log: t.Logf})
	inst.DryRun = true
	inst.ClientOnly = true
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	rel, err := inst.Run(loadChart(t), values)
	if err != nil {
		return "", "", err
	}
	return rel.Manifest, rel.Info.Notes, nil
}

// render installs the chart with values and decodes every document with
// unknown and duplicate fields rejected.
func render(t *testing.T, values map[string]any) *objects {
	t.Helper()
	manifest, notes, err := install(t, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	o := &objects{docs: map[string]string{}, notes: notes}
	source := regexp.MustCompile(`(?m)^# Source: (\S+)`)
	// slots gives, by apiVersion and kind, where a document decodes.
	slots := map[string]func(name string) any{
		"apps/v1 Deployment":       func(name string) any { return decodeOnce(t, name, &o.deployment) },
		"v1 Service":               func(name string) any { return decodeOnce(t, name, &o.service) },
		"v1 ConfigMap":             func(name string) any { return decodeOnce(t, name, &o.configMap) },
		"v1 Secret":                func(name string) any { return decodeOnce(t, name, &o.secret) },
		"v1 PersistentVolumeClaim": func(name string) any { return decodeOnce(t, name, &o.pvc) },
		"monitoring.coreos.com/v1 ServiceMonitor":     func(name string) any { return decodeOnce(t, name, &o.serviceMonitor) },
		"monitoring.coreos.com/v1alpha1 ScrapeConfig": func(name string) any { return decodeOnce(t, name, &o.scrapeConfig) },
		"monitoring.coreos.com/v1 PrometheusRule":     func(name string) any { return decodeOnce(t, name, &o.prometheusRule) },
	}
	for _, doc := range releaseutil.SplitManifests(manifest) {
		name := "(no source)"
		if m := source.FindStringSubmatch(doc); m != nil {
			name = m[1]
		}
		o.docs[name] = doc
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, doc)
		}
		kind := head.APIVersion + " " + head.Kind
		o.kinds = append(o.kinds, kind)
		slot, known := slots[kind]
		if !known {
			t.Fatalf("%s: a %s, which this test does not know: decode and check it here", name, kind)
		}
		into := slot(name)
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%s does not decode strictly into its type: %v\n%s", name, err, doc)
		}
	}
	slices.Sort(o.kinds)
	return o
}

// decodeOnce allocates *p for the document and returns it; a kind rendered
// twice fails the test.
func decodeOnce[T any](t *testing.T, name string, p **T) *T {
	t.Helper()
	if *p != nil {
		t.Fatalf("%s: a second %T", name, *p)
	}
	*p = new(T)
	return *p
}

func TestChartLint(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults":       nil,
		"serviceMonitor": serviceMonitorValues,
		"scrapeConfig":   scrapeConfigValues,
	} {
		t.Run(name, func(t *testing.T) { lintChart(t, values) })
	}
}

// lintChart runs `helm lint --strict` with values: warnings fail too.
func lintChart(t *testing.T, values map[string]any) {
	t.Helper()
	linter := lint.All(chartDir, values, namespace, false)
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		} else {
			t.Logf("helm lint: %s", m)
		}
	}
}

func TestChartDefaults(t *testing.T) {
	o := render(t, nil)
	want := []string{"apps/v1 Deployment", "v1 ConfigMap", "v1 Service"}
	if !slices.Equal(o.kinds, want) {
		t.Errorf("rendered %q, want %q", o.kinds, want)
	}
	checkWorkload(t, o, fullName, "password")
	if v := o.deployment.Spec.Template.Spec.Volumes; storageVolume(t, o).EmptyDir == nil {
		t.Errorf("storage volume %+v, want an emptyDir by default", v)
	}
	if !strings.Contains(o.notes, "kubectl -n monitoring create secret generic "+fullName+" --from-file=password=./password") {
		t.Errorf("NOTES.txt does not say how to create the Secret:\n%s", o.notes)
	}
	// The Docker image's configuration and the chart's default are the same.
	var docker, chartConfig any
	readYAML(t, repoRoot+"/examples/docker.yml", &docker)
	if err := yaml.Unmarshal([]byte(o.configMap.Data["hikvision.yml"]), &chartConfig); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(docker, chartConfig) {
		t.Errorf("the chart's default configuration differs from examples/docker.yml:\nchart:  %s\ndocker: %s", jsonOf(chartConfig), jsonOf(docker))
	}
}

func TestChartWithServiceMonitor(t *testing.T) {
	o := render(t, serviceMonitorValues)
	want := []string{"apps/v1 Deployment", "monitoring.coreos.com/v1 PrometheusRule", "monitoring.coreos.com/v1 ServiceMonitor",
		"v1 ConfigMap", "v1 PersistentVolumeClaim", "v1 Secret", "v1 Service"}
	if !slices.Equal(o.kinds, want) {
		t.Fatalf("rendered %q, want %q", o.kinds, want)
	}
	checkWorkload(t, o, fullName, "password")
	if got := string(o.secret.Data["password"]); o.secret.Name != fullName || got != "s3cret-Passw0rd" {
		t.Errorf("Secret %s holds %q under password, want %s with the password of the values", o.secret.Name, got, fullName)
	}
	claim := storageVolume(t, o).PersistentVolumeClaim
	if claim == nil || claim.ClaimName != o.pvc.Name || o.pvc.Name != fullName {
		t.Errorf("storage volume claim %+v, PVC %s: want the chart's PVC %s", claim, o.pvc.Name, fullName)
	}
	if sc := o.pvc.Spec.StorageClassName; sc == nil || *sc != "fast" {
		t.Errorf("PVC storageClassName %v, want fast", sc)
	}
	if got := o.pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("64Mi")) != 0 {
		t.Errorf("PVC requests %s, want 64Mi", got.String())
	}
	if args := o.deployment.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--log.level=debug") {
		t.Errorf("args %q lack extraArgs", args)
	}
	checkServiceMonitor(t, o, true)
	checkPrometheusRule(t, o)
}

func TestChartWithScrapeConfig(t *testing.T) {
	o := render(t, scrapeConfigValues)
	want := []string{"apps/v1 Deployment", "monitoring.coreos.com/v1 PrometheusRule", "monitoring.coreos.com/v1 ServiceMonitor",
		"monitoring.coreos.com/v1alpha1 ScrapeConfig", "v1 ConfigMap", "v1 Service"}
	if !slices.Equal(o.kinds, want) {
		t.Fatalf("rendered %q, want %q (no Secret: existingSecret; no PVC: existingClaim)", o.kinds, want)
	}
	checkWorkload(t, o, "cams", "exporter-password")
	if claim := storageVolume(t, o).PersistentVolumeClaim; claim == nil || claim.ClaimName != "hikvision-state" {
		t.Errorf("storage volume claim %+v, want hikvision-state", claim)
	}
	checkServiceMonitor(t, o, false)
	checkScrapeConfig(t, o, "examples/prometheus.yml", "hikvision")
	checkPrometheusRule(t, o)
}

// TestChartShardedScrapeConfig: shard 1 of 3 keeps the devices
// examples/prometheus-hashmod.yml's shard 1 keeps.
func TestChartShardedScrapeConfig(t *testing.T) {
	values := map[string]any{"scrapeConfig": map[string]any{"enabled": true, "shards": map[string]any{"count": 3, "index": 1}}}
	o := render(t, values)
	checkScrapeConfig(t, o, "examples/prometheus-hashmod.yml", "hikvision-shard-1")

	values["scrapeConfig"].(map[string]any)["shards"] = map[string]any{"count": 3, "index": 3}
	if _, _, err := install(t, values); err == nil || !strings.Contains(err.Error(), "want 0 to 2") {
		t.Errorf("shard 3 of 3: %v, want an error", err)
	}
}

// TestChartRefusesTwoPasswords: a password in the values and an existing
// Secret are one too many.
func TestChartRefusesTwoPasswords(t *testing.T) {
	_, _, err := install(t, map[string]any{"password": map[string]any{"value": "x", "existingSecret": "cams"}})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("install with password.value and password.existingSecret: %v, want an error saying not both", err)
	}
}

// TestChartRefusesProbingTwice: the ScrapeConfig and the ServiceMonitor's
// device endpoints would scrape every device twice as job hikvision.
func TestChartRefusesProbingTwice(t *testing.T) {
	_, _, err := install(t, map[string]any{"serviceMonitor": map[string]any{"enabled": true}, "scrapeConfig": map[string]any{"enabled": true}})
	if err == nil || !strings.Contains(err.Error(), "probeDevices to false") {
		t.Errorf("install with scrapeConfig and serviceMonitor.probeDevices: %v, want an error", err)
	}
}

func TestChartVersion(t *testing.T) {
	v, err := os.ReadFile(repoRoot + "/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loadChart(t).Metadata.AppVersion, strings.TrimSpace(string(v)); got != want {
		t.Errorf("Chart.yaml appVersion %q, want the exporter's VERSION %q: the image tag defaults to it", got, want)
	}
}

// TestChartRulesInSync: the chart's rules are alerts/hikvision.rules.yml,
// byte for byte, as the chart loader reads them (and `helm package` packs
// them): files/hikvision.rules.yml is a symbolic link to it.
func TestChartRulesInSync(t *testing.T) {
	want, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	fix := fmt.Sprintf("run\n\tln -sf ../../../../alerts/hikvision.rules.yml deploy/%s/%s", chartDir, chartRulesFile)
	if target, err := os.Readlink(filepath.Join(chartDir, chartRulesFile)); err != nil || target != "../../../../alerts/hikvision.rules.yml" {
		t.Errorf("%s/%s is not a symbolic link to alerts/hikvision.rules.yml (%q, %v): %s", chartDir, chartRulesFile, target, err, fix)
	}
	for _, f := range loadChart(t).Files {
		if f.Name == chartRulesFile {
			if !bytes.Equal(f.Data, want) {
				t.Errorf("the chart's %s differs from %s: %s", chartRulesFile, rulesFile, fix)
			}
			return
		}
	}
	t.Errorf("the chart has no %s: %s", chartRulesFile, fix)
}

// checkWorkload checks the Deployment, its Service and its files: probes,
// security context, resources, and that the configuration, the password
// (Secret secretName, key secretKey) and the state are where the flags and
// the configuration say. Then the exporter itself checks the configuration.
func checkWorkload(t *testing.T, o *objects, secretName, secretKey string) {
	t.Helper()
	d, svc, cm := o.deployment, o.service, o.configMap
	if d == nil || svc == nil || cm == nil {
		t.Fatalf("want a Deployment, a Service and a ConfigMap, rendered %q", o.kinds)
	}
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %v, strategy %q: want 1 and Recreate, never two exporters at once", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) || !subset(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("pod labels %v do not match the Deployment's selector %v or the Service's %v",
			d.Spec.Template.Labels, d.Spec.Selector.MatchLabels, svc.Spec.Selector)
	}
	if d.Spec.Template.Annotations["checksum/config"] == "" {
		t.Error("no checksum/config annotation: a new configuration would not roll the pod")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if want := "hikvision_exporter:" + loadChart(t).Metadata.AppVersion; !strings.HasSuffix(c.Image, want) {
		t.Errorf("image %s, want .../%s", c.Image, want)
	}

	// Port and probes.
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 10729 {
		t.Errorf("container ports %+v, want http 10729", c.Ports)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != intstr.FromString("http") || svc.Spec.Ports[0].Port != 10729 {
		t.Errorf("service ports %+v, want 10729 to the container's http", svc.Spec.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/-/healthy"}, {"readiness", c.ReadinessProbe, "/-/ready"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe %+v, want GET %s on port http", p.name, p.probe, p.path)
		}
	}

	// Non-root, read-only, nothing more.
	psc, sc := spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want non-root and the runtime's seccomp profile", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v, want a read-only root, no privilege escalation, every capability dropped", sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it has no use for")
	}

	// Requests and limits (values.yaml: BENCHMARKS.md's 1,000 devices).
	for name, want := range map[string]corev1.ResourceList{
		"requests": {corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		"limits":   {corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")},
	} {
		got := c.Resources.Requests
		if name == "limits" {
			got = c.Resources.Limits
		}
		for r, q := range want {
			if g := got[r]; g.Cmp(q) != 0 {
				t.Errorf("%s.%s = %s, want %s", name, r, g.String(), q.String())
			}
		}
	}

	// Where the files are.
	flags := map[string]string{}
	for _, a := range c.Args {
		if name, value, ok := strings.Cut(a, "="); ok {
			flags[name] = value
		}
	}
	configFile := flags["--config.file"]
	src := projectedSource(t, spec, c, configFile)
	if src == nil || src.ConfigMap == nil || src.ConfigMap.Name != cm.Name {
		t.Fatalf("--config.file=%s is not a file of the ConfigMap %s (source %+v)", configFile, cm.Name, src)
	}
	if _, ok := cm.Data[keyOf(src.ConfigMap.Items, path.Base(configFile))]; !ok {
		t.Fatalf("--config.file=%s: the ConfigMap has no key for it (items %+v, keys %v)", configFile, src.ConfigMap.Items, slices.Collect(maps.Keys(cm.Data)))
	}
	text := cm.Data[keyOf(src.ConfigMap.Items, path.Base(configFile))]
	var config struct {
		Modules map[string]struct {
			PasswordFile string `json:"password_file"`
		} `json:"modules"`
	}
	if err := yaml.Unmarshal([]byte(text), &config); err != nil {
		t.Fatalf("hikvision.yml: %v\n%s", err, text)
	}
	files := 0
	for name, m := range config.Modules {
		if m.PasswordFile == "" {
			continue
		}
		files++
		src := projectedSource(t, spec, c, m.PasswordFile)
		if src == nil || src.Secret == nil || src.Secret.Name != secretName || keyOf(src.Secret.Items, path.Base(m.PasswordFile)) != secretKey {
			t.Errorf("modules.%s.password_file %s is not the key %s of the Secret %s (source %+v)", name, m.PasswordFile, secretKey, secretName, src)
		}
		if o.secret != nil {
			if _, ok := o.secret.Data[secretKey]; !ok {
				t.Errorf("the Secret %s has no key %s", o.secret.Name, secretKey)
			}
		}
	}
	if files == 0 {
		t.Errorf("no module reads a password_file:\n%s", text)
	}
	if storage := storageVolume(t, o); storage.Name == "" {
		t.Errorf("--storage.path=%s is on no volume", flags["--storage.path"])
	}
	checkConfigWithExporter(t, text)
}

// checkConfigWithExporter runs the exporter's --config.check on the
// rendered hikvision.yml, its password_file paths moved to a file of the
// test's.
func checkConfigWithExporter(t *testing.T, text string) {
	t.Helper()
	var config map[string]any
	if err := yaml.Unmarshal([]byte(text), &config); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	password := filepath.Join(dir, "password")
	if err := os.WriteFile(password, []byte("test-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	modules, _ := config["modules"].(map[string]any)
	for _, m := range modules {
		if m, ok := m.(map[string]any); ok && m["password_file"] != nil {
			m["password_file"] = password
		}
	}
	moved, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "hikvision.yml")
	if err := os.WriteFile(file, moved, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(buildExporter(t), "--config.file="+file, "--config.check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Errorf("hikvision_exporter --config.check on the rendered hikvision.yml: %v\n%s\n%s", err, out, moved)
	}
}

// projectedSource returns the source of the projected volume that holds
// file in container c, or nil.
func projectedSource(t *testing.T, spec corev1.PodSpec, c corev1.Container, file string) *corev1.VolumeProjection {
	t.Helper()
	dir, base := path.Split(file)
	dir = strings.TrimSuffix(dir, "/")
	for _, m := range c.VolumeMounts {
		if m.MountPath != dir || m.SubPath != "" {
			continue
		}
		if !m.ReadOnly {
			t.Errorf("volume %s at %s is writable", m.Name, m.MountPath)
		}
		v := volume(spec, m.Name)
		if v == nil || v.Projected == nil {
			t.Errorf("volume %s at %s: want a projected volume", m.Name, m.MountPath)
			return nil
		}
		for i, s := range v.Projected.Sources {
			var items []corev1.KeyToPath
			switch {
			case s.ConfigMap != nil:
				items = s.ConfigMap.Items
			case s.Secret != nil:
				items = s.Secret.Items
			}
			if keyOf(items, base) != "" {
				return &v.Projected.Sources[i]
			}
		}
	}
	return nil
}

// storageVolume returns the volume mounted at --storage.path.
func storageVolume(t *testing.T, o *objects) corev1.Volume {
	t.Helper()
	spec := o.deployment.Spec.Template.Spec
	c := spec.Containers[0]
	var storage string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--storage.path="); ok {
			storage = v
		}
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath == strings.TrimSuffix(storage, "/") && !m.ReadOnly {
			if v := volume(spec, m.Name); v != nil {
				return *v
			}
		}
	}
	t.Fatalf("--storage.path=%q is not on a writable volume (mounts %+v)", storage, c.VolumeMounts)
	return corev1.Volume{}
}

func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i, v := range spec.Volumes {
		if v.Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// keyOf returns the key projected to file name p, or "".
func keyOf(items []corev1.KeyToPath, p string) string {
	for _, it := range items {
		if it.Path == p {
			return it.Key
		}
	}
	return ""
}

// checkServiceMonitor: the exporter's /metrics as job hikvision_exporter
// and, with probeDevices, one /probe endpoint per device as job hikvision,
// its name as instance and its labels as target labels.
func checkServiceMonitor(t *testing.T, o *objects, probeDevices bool) {
	t.Helper()
	sm := o.serviceMonitor
	if !subset(sm.Spec.Selector.MatchLabels, o.service.Labels) {
		t.Errorf("ServiceMonitor selector %v does not select the Service (labels %v)", sm.Spec.Selector.MatchLabels, o.service.Labels)
	}
	var configured struct {
		Devices []struct {
			Name   string            `json:"name"`
			Module string            `json:"module"`
			Labels map[string]string `json:"labels"`
		} `json:"devices"`
	}
	if err := yaml.Unmarshal([]byte(o.configMap.Data["hikvision.yml"]), &configured); err != nil {
		t.Fatal(err)
	}
	want := 1
	if probeDevices {
		want += len(configured.Devices)
	}
	if len(sm.Spec.Endpoints) != want {
		t.Fatalf("ServiceMonitor has %d endpoints, want %d:\n%s", len(sm.Spec.Endpoints), want, jsonOf(sm.Spec.Endpoints))
	}
	for i, e := range sm.Spec.Endpoints {
		if e.Port != o.service.Spec.Ports[0].Name || e.Interval != "60s" || e.ScrapeTimeout != "30s" {
			t.Errorf("endpoint %d: port %q, interval %q, timeout %q; want the Service's port, 60s, 30s", i, e.Port, e.Interval, e.ScrapeTimeout)
		}
		targets := relabelTargets(e.RelabelConfigs)
		if i == 0 {
			if e.Path != "/metrics" || targets["job"] != "hikvision_exporter" {
				t.Errorf("endpoint 0: %s, job %q; want the exporter's /metrics as job hikvision_exporter", e.Path, targets["job"])
			}
			continue
		}
		d := configured.Devices[i-1]
		module := d.Module
		if module == "" {
			module = "default"
		}
		if e.Path != "/probe" || !reflect.DeepEqual(e.Params, map[string][]string{"target": {d.Name}}) ||
			targets["job"] != "hikvision" || targets["instance"] != d.Name || targets["module"] != module {
			t.Errorf("endpoint %d: want /probe?target=%s as job hikvision, instance %s, module %s; got\n%s", i, d.Name, d.Name, module, jsonOf(e))
		}
		for k, v := range d.Labels {
			if targets[k] != v {
				t.Errorf("endpoint %d (%s): label %s=%q, want %q", i, d.Name, k, targets[k], v)
			}
		}
	}
}

// relabelTargets maps the target label of each constant replace rule to
// its replacement.
func relabelTargets(rules []monitoringv1.RelabelConfig) map[string]string {
	m := map[string]string{}
	for _, r := range rules {
		if (r.Action == "" || r.Action == "replace") && len(r.SourceLabels) == 0 && r.Replacement != nil {
			m[r.TargetLabel] = *r.Replacement
		}
	}
	return m
}

// checkScrapeConfig: devices discovered from the exporter's /sd and probed
// through its Service, with the relabelling of the job of that name in the
// example Prometheus configuration. The examples' shard 0 stands for every
// shard: their other shards are written "the same with regex N".
func checkScrapeConfig(t *testing.T, o *objects, example, job string) {
	t.Helper()
	sc := o.scrapeConfig.Spec
	address := fmt.Sprintf("%s.%s.svc:%d", o.service.Name, namespace, o.service.Spec.Ports[0].Port)
	if len(sc.HTTPSDConfigs) != 1 || string(sc.HTTPSDConfigs[0].URL) != "http://"+address+"/sd" {
		t.Errorf("httpSDConfigs %s, want http://%s/sd", jsonOf(sc.HTTPSDConfigs), address)
	}
	if sc.MetricsPath == nil || *sc.MetricsPath != "/probe" || sc.JobName == nil || *sc.JobName != job {
		t.Errorf("metricsPath %v, jobName %v: want /probe and %s", sc.MetricsPath, sc.JobName, job)
	}

	// The same rules as the job of the example, the exporter's address (and
	// the shard) aside.
	exampleJob, shard := job, ""
	if base, n, ok := strings.Cut(job, "-shard-"); ok {
		exampleJob, shard = base+"-shard-0", n
	}
	var conf struct {
		ScrapeConfigs []struct {
			JobName        string `json:"job_name"`
			RelabelConfigs []struct {
				SourceLabels []monitoringv1.LabelName `json:"source_labels"`
				TargetLabel  string                   `json:"target_label"`
				Regex        string                   `json:"regex"`
				Replacement  *string                  `json:"replacement"`
				Modulus      int64                    `json:"modulus"`
				Action       string                   `json:"action"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	readYAML(t, repoRoot+"/"+example, &conf)
	var want []monitoringv1.RelabelConfig
	for _, j := range conf.ScrapeConfigs {
		if j.JobName != exampleJob {
			continue
		}
		for _, r := range j.RelabelConfigs {
			rc := monitoringv1.RelabelConfig{SourceLabels: r.SourceLabels, TargetLabel: r.TargetLabel, Regex: r.Regex,
				Replacement: r.Replacement, Modulus: r.Modulus, Action: r.Action}
			switch {
			case r.TargetLabel == "__address__":
				rc.Replacement = &address
			case r.Action == "keep" && slices.Equal(r.SourceLabels, []monitoringv1.LabelName{"__tmp_hash"}):
				rc.Regex = shard
			}
			want = append(want, rc)
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(sc.RelabelConfigs, want) {
		t.Errorf("ScrapeConfig relabelings\n%s\nwant those of the job %s of %s\n%s", jsonOf(sc.RelabelConfigs), exampleJob, example, jsonOf(want))
	}
}

// checkPrometheusRule: the groups are those of alerts/hikvision.rules.yml,
// compared as the Prometheus Operator's types and as plain YAML.
func checkPrometheusRule(t *testing.T, o *objects) {
	t.Helper()
	var typed struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &typed); err != nil {
		t.Fatalf("%s as PrometheusRule groups: %v", rulesFile, err)
	}
	got := o.prometheusRule.Spec.Groups
	if len(typed.Groups) == 0 || !reflect.DeepEqual(got, typed.Groups) {
		for i := range max(len(got), len(typed.Groups)) {
			if i >= len(got) || i >= len(typed.Groups) || !reflect.DeepEqual(got[i], typed.Groups[i]) {
				t.Fatalf("PrometheusRule groups differ from %s from group %d on", rulesFile, i)
			}
		}
	}
	var plain, rendered struct {
		Groups any `json:"groups"`
	}
	if err := yaml.Unmarshal(raw, &plain); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Groups any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(o.docs["hikvision-exporter/templates/prometheusrule.yaml"]), &doc); err != nil {
		t.Fatal(err)
	}
	rendered.Groups = doc.Spec.Groups
	if !reflect.DeepEqual(plain, rendered) {
		t.Errorf("the PrometheusRule's groups, as YAML, differ from %s", rulesFile)
	}
	alerts := 0
	for _, g := range got {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts++
			}
		}
	}
	t.Logf("PrometheusRule: %d groups, %d alerts, equal to %s", len(got), alerts, rulesFile)
}

func subset(small, big map[string]string) bool {
	if len(small) == 0 {
		return false
	}
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func jsonOf(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
