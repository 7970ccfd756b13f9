package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// The Alertmanager test: the demo fleet, the exporter, a real Prometheus
// with the shipped rules and a real Alertmanager with
// examples/alertmanager.yml, whose receivers post to a webhook inside the
// test.

const (
	// amFor is every alert's `for:` in this test: long enough that one slow
	// probe on a loaded machine fires nothing, short enough for the test.
	amFor = "10s"
	// amWait bounds each wait of the test for notifications.
	amWait = 60 * time.Second
	// goneNVR is a recorder of the exporter's configuration where nothing
	// listens: its probe is down (HikvisionDeviceUnreachable).
	goneNVR = "gone-nvr"
)

// receiverOf is the receiver examples/alertmanager.yml routes each
// severity to.
var receiverOf = map[string]string{"critical": "security-oncall", "warning": "security-team", "info": "security-digest"}

// TestAlertmanagerNotifiesPerDevice runs the demo fleet (in-process, plus
// gone-nvr, a recorder that does not answer) behind the exporter, a real
// Prometheus with the shipped rules (every `for:` amFor) sending to a real
// Alertmanager configured as examples/alertmanager.yml (group_wait and
// group_interval shortened, webhook URLs pointing into the test), and checks
// what the receivers get:
//
//   - weak-cam's posture, site-nvr's camera alerts and snmp-cam's SNMP and
//     UPnP port-mapping alerts, each at the receiver of its severity, one
//     notification group per device, with annotations that name the
//     device, say what is wrong and what to do;
//   - nothing at all for hardened-cam;
//   - the inhibitions: snmp-cam's HikvisionUPnPEnabled (both alerts from
//     Prometheus) never; and the posture alerts of wrong-password (whose
//     credentials are rejected) and the posture and channel alerts of
//     gone-nvr (whose probe is down), posted to Alertmanager's API as
//     Prometheus would once HikvisionCredentialsRejected and
//     HikvisionDeviceUnreachable fire for real: a device in that state
//     reports no posture metric, so Prometheus itself cannot produce them.
//     Alertmanager must hold them as suppressed by those alerts, while a
//     control alert posted the same way for another device gets through.
func TestAlertmanagerNotifiesPerDevice(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	amtool := alertmanagerTool(t, "amtool")
	started := time.Now()
	hook := startWebhook(t)
	dir := t.TempDir()

	// The fleet and the exporter.
	fleet, err := simulator.StartDemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	exp := startExporter(t, "http", "--config.file="+writeFleetConfig(t, dir, fleet))
	devices := sdDevices(t, exp)
	for _, d := range []string{siteNVR, snmpCam, goneNVR} {
		if !slices.Contains(devices, d) {
			t.Fatalf("/sd lacks %s (has %v)", d, devices)
		}
	}

	// Alertmanager, configured as the example.
	amDir := filepath.Join(dir, "alertmanager")
	if err := os.MkdirAll(amDir, 0o755); err != nil {
		t.Fatal(err)
	}
	amConfig := writeAlertmanagerConfig(t, amDir, hook.url)
	if out, err := exec.Command(amtool, "check-config", amConfig).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config on the derived configuration: %v\n%s", err, out)
	}
	am := startAlertmanager(t, amConfig)

	// Prometheus, configured as examples/prometheus.yml, alerting to it.
	cfg := pointAtExporter(t, "examples/prometheus.yml", readExample(t, "prometheus.yml"), exp.addr).(map[string]any)
	cfg["global"] = fastGlobal()
	cfg["rule_files"] = []any{filepath.Base(alerts.RulesFile)}
	writeRulesWithFor(t, filepath.Join(dir, filepath.Base(alerts.RulesFile)), amFor)
	cfg["alerting"] = map[string]any{"alertmanagers": []any{
		map[string]any{"static_configs": []any{map[string]any{"targets": []any{am.addr}}}},
	}}
	writePrometheusConfig(t, dir, cfg)
	prom := startPrometheus(t, dir)

	// 1. What Prometheus sends, as notifications.
	want := append(weakCamFiring(), siteFiring()...)
	want = slices.DeleteFunc(want, func(w wantedAlert) bool {
		return w.labels["instance"] == snmpCam && w.labels["alertname"] == "HikvisionUPnPEnabled" // inhibited
	})
	want = append(want,
		firing("wrong-password", "HikvisionCredentialsRejected", "the exporter's password is wrong"),
		firing(goneNVR, "HikvisionDeviceUnreachable", "nothing listens at its address"))
	waitNotified(t, hook, prom, want, "the alerts Prometheus sends")
	firstAt := time.Since(started)

	// 2. The inhibited alerts, and a control, posted once the alerts that
	// inhibit them are active in Alertmanager.
	sources := []map[string]string{
		{"alertname": "HikvisionCredentialsRejected", "instance": "wrong-password"},
		{"alertname": "HikvisionDeviceUnreachable", "instance": goneNVR},
		{"alertname": "HikvisionUPnPPortMapping", "instance": snmpCam},
	}
	for _, src := range sources {
		if _, err := amAlerts(am, src); err != nil {
			t.Fatal(err)
		}
	}
	injected := []amPostedAlert{
		postedAlert("wrong-password", "HikvisionDefaultPassword", "critical"),
		postedAlert("wrong-password", "HikvisionTelnetEnabled", "critical", "service", "telnet"),
		postedAlert(goneNVR, "HikvisionChannelOffline", "warning", "channel", "2"),
		postedAlert(goneNVR, "HikvisionChannelFirmwareAdvisory", "critical", "channel", "1", "cve", "CVE-2017-7921"),
		postedAlert(goneNVR, "HikvisionFirmwareOld", "info"),
	}
	control := postedAlert("control-cam", "HikvisionTelnetEnabled", "critical", "service", "telnet")
	postAlerts(t, am, append(slices.Clone(injected), control))
	waitNotified(t, hook, prom, []wantedAlert{firing("control-cam", "HikvisionTelnetEnabled", "posted to Alertmanager's API, not inhibited")}, "the control alert")
	// Two more group intervals for anything else to come through.
	time.Sleep(2 * amGroupInterval)

	// 3. Alertmanager holds the inhibited alerts as suppressed by the
	// alerts of step 1.
	for _, a := range append(slices.Clone(injected), postedAlert(snmpCam, "HikvisionUPnPEnabled", "warning")) {
		got, err := amAlerts(am, map[string]string{"alertname": a.Labels["alertname"], "instance": a.Labels["instance"]})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Errorf("%s is not active in Alertmanager", labelString(a.Labels))
		}
		for _, g := range got {
			if g.Status.State != "suppressed" || len(g.Status.InhibitedBy) == 0 {
				t.Errorf("%s: state %q, inhibited by %v; want suppressed by an inhibition", labelString(g.Labels), g.Status.State, g.Status.InhibitedBy)
			}
		}
	}

	// 4. The notifications.
	msgs := hook.messages()
	byInstance := map[string][]string{}
	for _, m := range msgs {
		inst := m.GroupLabels["instance"]
		if len(m.GroupLabels) != 2 || m.GroupLabels["job"] == "" || inst == "" {
			t.Errorf("notification to %s grouped by %v, want {job, instance}", m.Receiver, m.GroupLabels)
		}
		for _, a := range m.Alerts {
			name, sev := a.Labels["alertname"], a.Labels["severity"]
			if a.Labels["instance"] != inst {
				t.Errorf("%s is in the notification group of %s", labelString(a.Labels), inst)
			}
			if m.Receiver != receiverOf[sev] || m.path != "/"+m.Receiver {
				t.Errorf("%s (severity %s) went to %s at %s, want %s", labelString(a.Labels), sev, m.Receiver, m.path, receiverOf[sev])
			}
			if a.Status != "firing" {
				continue
			}
			switch {
			case inst == "hardened-cam":
				t.Errorf("notification for hardened-cam, which passes every check: %s: %s", labelString(a.Labels), a.Annotations["description"])
			case slices.ContainsFunc(injected, func(i amPostedAlert) bool { return hasLabels(i.Labels, a.Labels) }):
				t.Errorf("notified although inhibited: %s", labelString(a.Labels))
			case inst == snmpCam && name == "HikvisionUPnPEnabled":
				t.Errorf("notified although HikvisionUPnPPortMapping fires for the device: %s", labelString(a.Labels))
			}
			checkAnnotations(t, a.Labels, a.Annotations)
			byInstance[inst] = appendUnique(byInstance[inst], fmt.Sprintf("%s->%s", alertKey(a.Labels), m.Receiver))
		}
	}
	// What to do, for a few of them.
	for _, c := range []struct {
		labels map[string]string
		says   []string
	}{
		{map[string]string{"instance": "weak-cam", "alertname": "HikvisionDefaultPassword"}, []string{"factory-default password", "Set a strong, unique password"}},
		{map[string]string{"instance": "weak-cam", "alertname": "HikvisionTelnetEnabled"}, []string{"telnet", "Disable it"}},
		{map[string]string{"instance": siteNVR, "alertname": "HikvisionChannelFirmwareAdvisory", "cve": "CVE-2017-7921"},
			[]string{`channel 1 "lobby", a DS-2CD2032F-I on V5.3.0 build 150410 at 192.168.254.2`, "Upgrade the camera"}},
		{map[string]string{"instance": siteNVR, "alertname": "HikvisionChannelOffline"}, []string{`channel 3 "loading-dock"`, "Check the camera's power"}},
		{map[string]string{"instance": siteNVR, "alertname": "HikvisionChannelAdminLogin", "channel": "2"}, []string{`channel 2 "car-park" at 192.168.254.3`, "Operator"}},
		{map[string]string{"instance": snmpCam, "alertname": "HikvisionSNMPDefaultWriteCommunity"}, []string{"write community", "Disable SNMP v1/v2c"}},
		{map[string]string{"instance": snmpCam, "alertname": "HikvisionUPnPPortMapping"}, []string{"forward 3 of its ports", "Turn UPnP off"}},
	} {
		a := findNotified(msgs, c.labels)
		if a == nil {
			t.Errorf("no notification of %v", c.labels)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(a.Annotations["description"], s) {
				t.Errorf("%s: the description does not say %q: %s", labelString(a.Labels), s, a.Annotations["description"])
			}
		}
	}

	var b strings.Builder
	for _, inst := range sortedKeys(byInstance) {
		sort.Strings(byInstance[inst])
		fmt.Fprintf(&b, "  %s (%d): %s\n", inst, len(byInstance[inst]), strings.Join(byInstance[inst], ", "))
	}
	t.Logf("%d notifications received; first expected set complete after %s, test %s; alert->receiver by device:\n%s",
		len(msgs), firstAt.Round(time.Second), time.Since(started).Round(time.Second), b.String())
	if !t.Failed() {
		var held []string
		for _, a := range injected {
			held = append(held, labelString(a.Labels))
		}
		t.Logf("suppressed by Alertmanager, never notified: %s, HikvisionUPnPEnabled{instance=%q}", strings.Join(held, ", "), snmpCam)
	}
}

// checkAnnotations: a notified alert names its device in the summary or
// description, and both rendered.
func checkAnnotations(t *testing.T, labels, ann map[string]string) {
	t.Helper()
	sum, desc := ann["summary"], ann["description"]
	switch {
	case strings.TrimSpace(sum) == "" || strings.TrimSpace(desc) == "":
		t.Errorf("%s: summary %q, description %q; want both", labelString(labels), sum, desc)
	case !strings.Contains(sum+desc, labels["instance"]):
		t.Errorf("%s: the annotations do not name the device: %s / %s", labelString(labels), sum, desc)
	case strings.Contains(sum+desc, "<no value>") || strings.Contains(sum+desc, "error expanding"):
		t.Errorf("%s: an annotation did not render: %s / %s", labelString(labels), sum, desc)
	}
}

// waitNotified waits until every wanted alert has come to the webhook,
// firing.
func waitNotified(t *testing.T, hook *webhook, prom *process, want []wantedAlert, what string) {
	t.Helper()
	deadline := time.Now().Add(amWait)
	for {
		msgs := hook.messages()
		var missing []string
		for _, w := range want {
			if findNotified(msgs, w.labels) == nil {
				missing = append(missing, fmt.Sprintf("%s (%s)", labelString(w.labels), w.why))
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			active, err := getAlerts(prom)
			t.Fatalf("gave up after %s waiting for %s: not notified:\n  %s\nPrometheus alerts (%v):\n%s",
				amWait, what, strings.Join(missing, "\n  "), err, alertSummary(active))
		}
		time.Sleep(pollInterval)
	}
}

// findNotified returns the first firing alert of the notifications whose
// labels include want.
func findNotified(msgs []webhookMessage, want map[string]string) *webhookAlert {
	for _, m := range msgs {
		for i := range m.Alerts {
			if m.Alerts[i].Status == "firing" && hasLabels(want, m.Alerts[i].Labels) {
				return &m.Alerts[i]
			}
		}
	}
	return nil
}

func alertKey(l map[string]string) string {
	var extra []string
	for _, k := range []string{"channel", "cve", "version", "access", "interface"} {
		if v, ok := l[k]; ok {
			extra = append(extra, k+"="+v)
		}
	}
	if len(extra) == 0 {
		return l["alertname"]
	}
	return l["alertname"] + "{" + strings.Join(extra, ",") + "}"
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// writeFleetConfig writes the exporter configuration of fleet plus
// goneNVR, at a loopback address where nothing listens, and returns its path.
func writeFleetConfig(t *testing.T, dir string, fleet *simulator.Fleet) string {
	t.Helper()
	cfg := decodeYAML(t, "the fleet's configuration", []byte(fleet.ConfigYAML()))
	modules, _ := cfg["modules"].(map[string]any)
	devs, _ := cfg["devices"].([]any)
	if modules == nil || len(devs) == 0 {
		t.Fatalf("fleet configuration without modules or devices:\n%s", fleet.ConfigYAML())
	}
	modules[goneNVR] = map[string]any{"username": "exporter", "password": "Gone-Nvr-Pa55", "scheme": "http", "timeout": "2s"}
	cfg["devices"] = append(devs, map[string]any{"name": goneNVR, "address": freeAddr(t), "module": goneNVR})
	path := filepath.Join(dir, "hikvision.yml")
	writeYAML(t, path, cfg)
	return path
}

// amGroupInterval is the group_wait and group_interval of every route in
// the test's copy of examples/alertmanager.yml.
const amGroupInterval = 2 * time.Second

// writeAlertmanagerConfig writes examples/alertmanager.yml to dir with
// every route's group_wait and group_interval shortened and every
// webhook pointing at base + "/" + the receiver's name, and returns its path.
func writeAlertmanagerConfig(t *testing.T, dir, base string) string {
	t.Helper()
	const what = "examples/alertmanager.yml"
	cfg := readExample(t, "alertmanager.yml")
	route, _ := cfg["route"].(map[string]any)
	if route == nil {
		t.Fatalf("%s: no route", what)
	}
	var shorten func(r map[string]any)
	shorten = func(r map[string]any) {
		r["group_wait"] = "1s"
		r["group_interval"] = amGroupInterval.String()
		for _, c := range asList(r["routes"]) {
			shorten(c)
		}
	}
	shorten(route)
	receivers, _ := cfg["receivers"].([]any)
	hooks := 0
	for _, r := range receivers {
		r, _ := r.(map[string]any)
		name := fmt.Sprint(r["name"])
		for _, w := range asList(r["webhook_configs"]) {
			w["url"] = base + "/" + name
			hooks++
		}
		if len(r) != 2 || r["webhook_configs"] == nil {
			t.Fatalf("%s: receiver %s has other configurations than webhook_configs; the test can only redirect webhooks", what, name)
		}
	}
	if hooks < len(receiverOf) {
		t.Fatalf("%s: %d webhooks, want one per receiver %v", what, hooks, receiverOf)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	writeYAML(t, path, cfg)
	return path
}

func asList(v any) []map[string]any {
	var out []map[string]any
	list, _ := v.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// alertmanagerTool returns the path of an Alertmanager program: amtool, or
// the server, which Debian's package calls prometheus-alertmanager and a
// release tarball alertmanager.
func alertmanagerTool(t *testing.T, name string) string {
	t.Helper()
	names := []string{name}
	if name == "alertmanager" {
		names = []string{"prometheus-alertmanager", "alertmanager"}
	}
	for _, n := range names {
		if path, err := exec.LookPath(n); err == nil {
			return path
		}
	}
	t.Fatalf("%s is not on PATH: this test needs the real Alertmanager. Install Debian's prometheus-alertmanager "+
		"package (apt-get install -y prometheus-alertmanager; `make deps` does it), which provides prometheus-alertmanager "+
		"and amtool, or put the programs of an Alertmanager release on PATH. A service the package starts may "+
		"keep running: the test starts its own server on a free port", strings.Join(names, " or "))
	return ""
}

// startAlertmanager runs the Alertmanager on config, on a free loopback
// port, with its own storage and clustering off.
func startAlertmanager(t *testing.T, config string) *process {
	t.Helper()
	bin := alertmanagerTool(t, "alertmanager")
	data := t.TempDir() // before the process: removed after it is killed
	return startProcess(t, "alertmanager", nil, bin, func(addr string) []string {
		return []string{
			"--config.file=" + config,
			"--storage.path=" + data,
			"--web.listen-address=" + addr,
			"--cluster.listen-address=",
		}
	}, answers200("/-/ready"))
}

// amPostedAlert is an alert as Alertmanager's API v2 takes it.
type amPostedAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// postedAlert is an alert of the probe job for instance, as Prometheus
// would send it, with annotations that name the device.
func postedAlert(instance, alertname, severity string, extra ...string) amPostedAlert {
	l := map[string]string{"alertname": alertname, "instance": instance, "job": "hikvision", "module": instance, "severity": severity}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	now := time.Now()
	return amPostedAlert{Labels: l, StartsAt: now, EndsAt: now.Add(10 * time.Minute), Annotations: map[string]string{
		"summary":     alertname + " on " + instance,
		"description": "Posted by the test for " + instance + ".",
	}}
}

func postAlerts(t *testing.T, am *process, as []amPostedAlert) {
	t.Helper()
	b, err := json.Marshal(as)
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpClient.Post(am.url("/api/v2/alerts"), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: HTTP %d: %s", res.StatusCode, body)
	}
}

type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// amAlerts returns the alerts Alertmanager holds with these labels,
// suppressed ones included; an error when there is none.
func amAlerts(am *process, labels map[string]string) ([]amAlert, error) {
	q := url.Values{}
	for _, k := range sortedKeys(labels) {
		q.Add("filter", fmt.Sprintf("%s=%q", k, labels[k]))
	}
	status, body, err := httpGet(am.url("/api/v2/alerts?" + q.Encode()))
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts?%s: HTTP %d: %s", q.Encode(), status, body)
	}
	var as []amAlert
	if err := json.Unmarshal(body, &as); err != nil {
		return nil, fmt.Errorf("GET /api/v2/alerts: %w: %s", err, body)
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("alertmanager holds no alert %v", labels)
	}
	return as, nil
}

// webhook records what Alertmanager's webhook receivers post.
type webhook struct {
	url  string
	mu   sync.Mutex
	msgs []webhookMessage
}

type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhookMessage is Alertmanager's webhook payload (version 4), and the
// path it was posted to.
type webhookMessage struct {
	Version     string            `json:"version"`
	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []webhookAlert    `json:"alerts"`
	path        string
}

func startWebhook(t *testing.T) *webhook {
	t.Helper()
	h := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Version != "4" {
			t.Errorf("webhook %s: payload version %q, %v", r.URL.Path, m.Version, err)
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		m.path = r.URL.Path
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *webhook) messages() []webhookMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}
