package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// specialState is a metric the rules or dashboards use that the plain
// demo fleet does not emit: why not, and how the test brings about the
// state in which the exporter emits it.
type specialState struct {
	why, how string
}

// specialStateMetrics is the allow-list of referenced metrics that
// `hikvision_exporter --demo` does not emit. The test fails when the demo
// does emit one (the entry is stale) and when the special-state run below
// does not produce it (the entry hides a metric the exporter never emits).
var specialStateMetrics = map[string]specialState{
	"hikvision_account_unlock_timestamp_seconds": {
		why: "only while a device reports the exporter's account locked (unlockTime in its 401 answer). The demo's wrong-password device is never locked: after its first rejection the exporter stops sending credentials (auth_backoff), by design, so probing it again cannot lock it",
		how: "5 wrong Basic logins sent straight to nvr-isapiorg lock it for 30 minutes; the exporter's next probe is answered 401 lockStatus=lock",
	},
	"hikvision_firmware_below_minimum": {
		why: "only for devices matched by a firmware_minimums entry of the configuration; the demo configuration has none",
		how: "firmware_minimums: [{models: [DS-2CD2132F*], version: V5.4.0}] makes weak-cam (V5.3.0) fall below",
	},
	"hikvision_password_age_seconds": {
		why: "needs password_max_age or password_changed_at in the module, or a password_file change the exporter saw; the demo modules set none of them",
		how: "password_max_age: 90d on weak-cam's module, whose userCheck reports residualValidity -3 (age 93 days)",
	},
}

// TestEveryReferencedMetricIsEmitted proves that every hikvision_* metric
// the shipped alert rules and dashboards reference (alerts.MetricNames) is
// really emitted: device metrics by a /probe of at least one demo device,
// exporter self metrics (hikvision_exporter_*) by /metrics. Metrics that
// need a state the demo fleet lacks are listed in specialStateMetrics
// with the reason, and the test produces each such state with an in-process
// fleet to show that the exporter emits them then. Every exposition must
// also pass `promtool check metrics`.
func TestEveryReferencedMetricIsEmitted(t *testing.T) {
	promtool := promtest.Tool(t, "promtool")
	refs, err := alerts.MetricNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) < 20 {
		t.Fatalf("alerts.MetricNames found only %d names; the extraction is broken", len(refs))
	}

	exp := startExporter(t, "http", "--demo")
	devices := sdDevices(t, exp)
	emittedBy := map[string][]string{} // device metric -> demo devices whose probe has it
	for _, dev := range devices {
		fams := probeDevice(t, promtool, exp, dev)
		for name := range fams {
			emittedBy[name] = append(emittedBy[name], dev)
		}
	}
	self := parseExposition(t, "/metrics", mustGet(t, exp.url("/metrics")))
	checkMetrics(t, promtool, "/metrics", mustGet(t, exp.url("/metrics")))

	var missing []string
	for _, name := range sortedKeys(refs) {
		var emitted bool
		var source string
		if alerts.IsExporterMetric(name) {
			emitted, source = self[name] != nil, "/metrics"
		} else {
			emitted, source = len(emittedBy[name]) > 0, "/probe of "+strings.Join(emittedBy[name], ", ")
		}
		special, allowListed := specialStateMetrics[name]
		switch {
		case emitted && allowListed:
			t.Errorf("%s is in specialStateMetrics (%q) but the demo fleet emits it (%s): remove the entry", name, special.why, source)
		case !emitted && !allowListed:
			var b strings.Builder
			where := "/probe of any demo device"
			if alerts.IsExporterMetric(name) {
				where = "the exporter's /metrics"
			}
			fmt.Fprintf(&b, "%s (expected on %s), referenced by:", name, where)
			for _, w := range refs[name] {
				b.WriteString("\n      " + w)
			}
			missing = append(missing, b.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d metric(s) used by the alert rules or dashboards are not emitted by `hikvision_exporter --demo` "+
			"(demo devices probed: %s). Emit them, fix the reference, or, if they need a state the demo fleet cannot have, "+
			"add them to specialStateMetrics with the reason and produce that state in probeSpecialStates:\n  - %s",
			len(missing), strings.Join(devices, ", "), strings.Join(missing, "\n  - "))
	}
	for name := range specialStateMetrics {
		if _, ok := refs[name]; !ok {
			t.Errorf("specialStateMetrics lists %s, which no rule or dashboard references any more: remove the entry", name)
		}
	}

	// Informational: what the demo emits that nothing references.
	var unreferenced []string
	for name := range emittedBy {
		if _, ok := refs[name]; !ok && strings.HasPrefix(name, "hikvision_") {
			unreferenced = append(unreferenced, name)
		}
	}
	sort.Strings(unreferenced)
	t.Logf("demo devices probed: %s; %d referenced metrics; emitted by the demo but referenced by no rule or dashboard: %v",
		strings.Join(devices, ", "), len(refs), unreferenced)

	t.Run("special states", func(t *testing.T) {
		got := probeSpecialStates(t, promtool)
		for _, name := range sortedKeys(specialStateMetrics) {
			s := specialStateMetrics[name]
			if len(got[name]) == 0 {
				t.Errorf("%s was not emitted even in its special state (%s); it is allow-listed because %s", name, s.how, s.why)
				continue
			}
			t.Logf("%s: emitted by %s when %s", name, strings.Join(got[name], ", "), s.how)
		}
	})
}

// probeDevice probes one device through the exporter, checks the exposition
// with promtool and returns it parsed.
func probeDevice(t *testing.T, promtool string, exp *process, dev string) map[string]*dto.MetricFamily {
	t.Helper()
	body := mustGet(t, exp.url("/probe?target="+url.QueryEscape(dev)))
	checkMetrics(t, promtool, "/probe?target="+dev, body)
	return parseExposition(t, "/probe?target="+dev, body)
}

// probeSpecialStates brings about the state of every entry of
// specialStateMetrics and returns, for each metric name emitted then,
// the devices whose probe had it. It also checks the values against what
// the state implies.
func probeSpecialStates(t *testing.T, promtool string) map[string][]string {
	fleet, err := simulator.StartDemoFleet(simulator.WithTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	hardened, weak, nvr := fleet.Device("hardened-cam"), fleet.Device("weak-cam"), fleet.Device("nvr-isapiorg")
	if hardened == nil || weak == nil || nvr == nil {
		t.Fatal("the demo fleet lacks hardened-cam, weak-cam or nvr-isapiorg")
	}

	// Password recovery and double verification on hardened-cam: advertise
	// them in the SecurityCap of System/capabilities and answer their
	// endpoints (shapes as read by isapi.SecurityQuestions,
	// DecodeSecurityEmail and DoubleVerification).
	prof := hardened.Device.Profile()
	ns := prof.Namespace
	capsKey := "GET /ISAPI/System/capabilities"
	caps := string(simulator.SetElement(prof.Endpoints[capsKey].Body, "isSupportSecurityQuestionConfig", "true"))
	if !strings.Contains(caps, "</SecurityCap>") {
		t.Fatalf("hardened-cam's %s has no SecurityCap to extend", capsKey)
	}
	caps = strings.Replace(caps, "</SecurityCap>",
		"<isSupportSecurityEmail>true</isSupportSecurityEmail>"+
			"<DoubleVerificationCap><isSupportUsersConfig>true</isSupportUsersConfig></DoubleVerificationCap></SecurityCap>", 1)
	hardened.Device.SetEndpoint(capsKey, simulator.Endpoint{Body: []byte(caps)})
	hardened.Device.SetEndpoint("GET /ISAPI/Security/questionConfiguration", simulator.Endpoint{Body: simulator.SecurityQuestionXML(ns, 1)})
	hardened.Device.SetEndpoint("GET /ISAPI/Security/email/parameter", simulator.Endpoint{
		ContentType: "application/json", Body: simulator.SecurityEmailJSON("")})
	hardened.Device.SetEndpoint("GET /ISAPI/Security/doubleVerification", simulator.Endpoint{Body: simulator.DoubleVerificationXML(ns, false)})

	// Configuration: the fleet's own (https, CA inline) plus a firmware
	// minimum and a password policy length.
	cfg := decodeYAML(t, "the fleet's configuration", []byte(fleet.ConfigYAML()))
	modules, _ := cfg["modules"].(map[string]any)
	weakModule, _ := modules[weak.Module].(map[string]any)
	if weakModule == nil {
		t.Fatalf("fleet configuration has no module %s:\n%s", weak.Module, fleet.ConfigYAML())
	}
	weakModule["password_max_age"] = "90d"
	cfg["firmware_minimums"] = []any{map[string]any{"models": []any{"DS-2CD2132F*"}, "version": "V5.4.0"}}
	path := filepath.Join(t.TempDir(), "hikvision.yml")
	writeYAML(t, path, cfg)
	exp := startExporter(t, "http", "--config.file="+path)

	got := map[string][]string{}
	record := func(dev string, fams map[string]*dto.MetricFamily) {
		for name := range fams {
			got[name] = append(got[name], dev)
		}
	}
	expect := func(dev string, fams map[string]*dto.MetricFamily, name string, labels map[string]string, ok func(float64) bool, want string) {
		t.Helper()
		v, found := seriesValue(fams, name, labels)
		switch {
		case !found:
			t.Errorf("%s: no single %s%v in the probe", dev, name, labels)
		case !ok(v):
			t.Errorf("%s: %s%v = %v, want %s", dev, name, labels, v, want)
		}
	}
	equals := func(want float64) func(float64) bool {
		return func(v float64) bool { return math.Abs(v-want) < 1 }
	}

	h := probeDevice(t, promtool, exp, hardened.Name)
	record(hardened.Name, h)
	expect(hardened.Name, h, "hikvision_up", nil, equals(1), "1")
	notAfter := float64(hardened.Device.Certificate().NotAfter.Unix())
	expect(hardened.Name, h, "hikvision_tls_certificate_expiry_timestamp_seconds", nil, equals(notAfter),
		fmt.Sprintf("the certificate's NotAfter %v", notAfter))
	expect(hardened.Name, h, "hikvision_password_recovery_configured", map[string]string{"method": "security_questions"}, equals(1), "1 (a question is set)")
	expect(hardened.Name, h, "hikvision_password_recovery_configured", map[string]string{"method": "email"}, equals(0), "0 (no address)")
	expect(hardened.Name, h, "hikvision_two_factor_enabled", map[string]string{"method": "double_verification"}, equals(0), "0 (enabled=false)")
	expect(hardened.Name, h, "hikvision_scrape_collector_success", map[string]string{"collector": "two_factor"}, equals(1), "1")

	w := probeDevice(t, promtool, exp, weak.Name)
	record(weak.Name, w)
	expect(weak.Name, w, "hikvision_firmware_below_minimum", nil, equals(1), "1 (V5.3.0 < V5.4.0)")
	expect(weak.Name, w, "hikvision_password_age_seconds", map[string]string{"source": "policy"}, equals(93*86400),
		"93 days (password_max_age 90d minus residualValidity -3 days)")

	// Lock nvr-isapiorg: wrong logins straight to the device, as a password
	// guesser would send them.
	pool := x509.NewCertPool()
	pool.AddCert(nvr.Device.Certificate())
	guesser := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer guesser.CloseIdleConnections()
	for i := 0; i < 5 && !nvr.Device.Locked(); i++ {
		req, _ := http.NewRequest(http.MethodGet, nvr.Device.URL()+"/ISAPI/Security/userCheck", nil)
		req.SetBasicAuth(nvr.Username, "guess-"+fmt.Sprint(i))
		res, err := guesser.Do(req)
		if err != nil {
			t.Fatalf("wrong login %d to %s: %v", i+1, nvr.Name, err)
		}
		res.Body.Close()
	}
	if !nvr.Device.Locked() {
		t.Fatalf("%s is not locked after 5 wrong logins", nvr.Name)
	}
	before := time.Now()
	n := probeDevice(t, promtool, exp, nvr.Name)
	record(nvr.Name, n)
	expect(nvr.Name, n, "hikvision_up", nil, equals(0), "0")
	expect(nvr.Name, n, "hikvision_auth_rejected", nil, equals(1), "1")
	expect(nvr.Name, n, "hikvision_account_locked", nil, equals(1), "1")
	expect(nvr.Name, n, "hikvision_account_unlock_timestamp_seconds", nil, func(v float64) bool {
		return v > float64(before.Unix()) && v <= float64(time.Now().Add(31*time.Minute).Unix())
	}, "within the device's 30-minute lock")
	return got
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
