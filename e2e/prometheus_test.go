package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// wantedAlert is an alert expected to fire: its labels must include these
// (alertname and instance always), and check, when set, judges its value.
type wantedAlert struct {
	labels map[string]string
	check  func(v float64) error
	why    string
}

func firing(instance, alertname, why string, extra ...string) wantedAlert {
	l := map[string]string{"alertname": alertname, "instance": instance}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return wantedAlert{labels: l, why: why}
}

func between(lo, hi float64, unit string) func(float64) error {
	return func(v float64) error {
		if v < lo || v >= hi {
			return fmt.Errorf("value %v %s, want in [%v, %v)", v, unit, lo, hi)
		}
		return nil
	}
}

// weakCamFiring is what the demo's weak-cam presents
// (simulator/demo.go weakCam): the posture the issue requires of the
// weak device (default and weak password, old firmware matched by an
// advisory, telnet and cloud on, Basic allowed) and the rest of its setup.
func weakCamFiring() []wantedAlert {
	const d = "weak-cam"
	expired := firing(d, "HikvisionPasswordExpired", "userCheck residualValidity -3")
	// Expiry is midnight UTC after the last valid day: two days ago at
	// 00:00, so time() - expiry is between 2 and 3 days.
	expired.check = between(2*86400, 3*86400, "seconds since expiry")
	skew := firing(d, "HikvisionClockSkew", "clock 7 minutes off")
	skew.check = between(420-30, 420+30, "seconds of skew")
	// The demo's brute force: 25 failed logins in the 50 minutes before the
	// demo started, and one more every 2 minutes since. They are in the log
	// before the exporter first reads it, so only the gauge can see them.
	burst := firing(d, "HikvisionLoginFailureBurst", "brute force in progress: 25 failed logins in the last hour at the demo's start, one more every 2 minutes")
	burst.check = between(25, 25+alertWait.Minutes()/2+2, "failed logins in the last hour")
	return []wantedAlert{
		firing(d, "HikvisionDefaultPassword", "userCheck isDefaultPassword"),
		firing(d, "HikvisionWeakPassword", "userCheck isRiskPassword"),
		expired,
		firing(d, "HikvisionFirmwareAdvisory", "DS-2CD2132F-IS V5.3.0 build 150410 is in the CVE-2017-7921 range", "cve", "CVE-2017-7921"),
		firing(d, "HikvisionFirmwareOld", "firmware built 2015-04-10"),
		firing(d, "HikvisionTelnetEnabled", "telnetd enabled"),
		firing(d, "HikvisionSSHEnabled", "ssh enabled"),
		firing(d, "HikvisionUPnPEnabled", "UPnP enabled"),
		firing(d, "HikvisionCloudAccessEnabled", "EZVIZ/Hik-Connect enabled"),
		firing(d, "HikvisionPlainHTTPWithoutRedirect", "HTTP on, no redirect to HTTPS"),
		firing(d, "HikvisionBasicAuthAllowed", "webCertificate digest/basic", "interface", "web"),
		firing(d, "HikvisionBasicAuthAllowed", "RTSPCertificate digest/basic", "interface", "rtsp"),
		firing(d, "HikvisionLegacyTLSEnabled", "HTTPS with TLS 1.1", "version", "1.1"),
		firing(d, "HikvisionLoginLockDisabled", "illegalLoginLock disabled"),
		firing(d, "HikvisionLoginFailureNotificationDisabled", "no trigger on illegal login"),
		burst,
		skew,
		firing(d, "HikvisionNTPDisabled", "time mode manual"),
	}
}

// The demo's site devices (simulator/demo_site.go): a recorder whose own
// posture passes every check and whose cameras do not, and a camera locked
// down except for SNMP and UPnP. Every alert that fires for them must be
// one of these (siteFiring).
const (
	siteNVR = "site-nvr"
	snmpCam = "snmp-cam"
)

// siteFiring is what the site devices present, and all they present.
func siteFiring() []wantedAlert {
	mapped := firing(snmpCam, "HikvisionUPnPPortMapping", "UPnP on, the port mapping on, 3 of its 4 ports enabled")
	mapped.check = between(3, 4, "mapped ports")
	return []wantedAlert{
		firing(siteNVR, "HikvisionChannelFirmwareAdvisory", "channel 1: DS-2CD2032F-I V5.3.0 build 150410 is in the CVE-2017-7921 range", "channel", "1", "cve", "CVE-2017-7921"),
		firing(siteNVR, "HikvisionChannelFirmwareAdvisory", "channel 1: build 150410 is older than the CVE-2021-36260 fixes", "channel", "1", "cve", "CVE-2021-36260"),
		firing(siteNVR, "HikvisionChannelAdminLogin", "channel 1 is recorded with userName admin", "channel", "1"),
		firing(siteNVR, "HikvisionChannelAdminLogin", "channel 2 (ONVIF) is recorded with userName admin", "channel", "2"),
		firing(siteNVR, "HikvisionChannelAdminLogin", "channel 3 is recorded with userName admin", "channel", "3"),
		firing(siteNVR, "HikvisionChannelOffline", "channel 3's status says online false", "channel", "3"),
		firing(snmpCam, "HikvisionSNMPDefaultCommunity", "SNMPv2c on, readCommunity public", "version", "v2c", "access", "read"),
		firing(snmpCam, "HikvisionSNMPDefaultWriteCommunity", "SNMPv2c on, writeCommunity public", "version", "v2c", "access", "write"),
		firing(snmpCam, "HikvisionUPnPEnabled", "UPnP enabled"),
		mapped,
	}
}

// exhaustive are the instances for which every alert that fires must be a
// wanted one: the hardened devices (none at all) and the site devices.
var exhaustive = map[string]string{
	"hardened-cam": "hardened-cam is the demo device with every posture check passing",
	siteNVR:        "site-nvr's own posture passes every check: only its cameras' alerts may fire",
	snmpCam:        "snmp-cam is locked down like hardened-cam except for SNMP and UPnP",
}

// quietAlert is an alert that must not fire for an instance ("" = any), and why.
type quietAlert struct{ instance, alertname, why string }

func quietAlerts() []quietAlert {
	return []quietAlert{
		// Nothing is wrong with the set-up itself.
		{"", "HikvisionThresholdMissing", "every threshold recording rule is loaded"},
		{"", "HikvisionNoProbeData", "every device is probed"},
		{"", "HikvisionExporterDown", "the exporter is up"},
		{"", "HikvisionExporterConfigReloadFailed", "the demo configuration loaded"},
		{"", "HikvisionProbeFailed", "every /probe scrape succeeds, wrong-password's included (it answers 200 with hikvision_up 0)"},
		{"", "HikvisionCollectorFailing", "every collector succeeds on every reachable demo device; nvr-isapiorg's 403/404 endpoints count as unsupported, not as failures"},
		{"", "HikvisionAccountLocked", "the exporter never locks an account, wrong-password's included"},
		{"", "HikvisionDeviceNotActivated", "every demo device is activated"},
		{"", "HikvisionFirmwareBelowMinimum", "the demo configuration has no firmware_minimums"},
		{"", "HikvisionPasswordExpiringSoon", "weak-cam's password has already expired (HikvisionPasswordExpired), hardened-cam's has 60 days left, the others report no validity"},
		{"", "HikvisionPasswordTooOld", "no demo module sets password_max_age or password_changed_at"},
		{"", "HikvisionTLSCertificateExpiring", "the demo serves plain HTTP"},
		{"", "HikvisionFirmwareChanged", "nothing was reported an hour ago"},
		{"", "HikvisionDeviceReplaced", "nothing was reported an hour ago"},
		// nvr-isapiorg's log has two failed logins, three hours old.
		{"nvr-isapiorg", "HikvisionLoginFailureBurst", "its two failed logins are three hours old, outside the last hour"},
		// weak-cam is reachable and accepts the credentials.
		{"weak-cam", "HikvisionDeviceUnreachable", "weak-cam answers"},
		{"weak-cam", "HikvisionCredentialsRejected", "weak-cam accepts the exporter's password"},
		// nvr-isapiorg answers telnetd and ssh with 403 notSupport: the
		// metrics are absent, and an absent metric never fires.
		{"nvr-isapiorg", "HikvisionTelnetEnabled", "telnetd is not supported (403): the metric is absent"},
		{"nvr-isapiorg", "HikvisionSSHEnabled", "ssh is not supported (403): the metric is absent"},
		// wrong-password is rejected, not unreachable.
		{"wrong-password", "HikvisionDeviceUnreachable", "a credential rejection is not unreachability (hikvision_auth_rejected 1)"},
		// UPnP on without a readable port mapping, and no SNMP endpoint (404).
		{"weak-cam", "HikvisionUPnPPortMapping", "weak-cam's UPnP answer has no ports block and /UPnP/ports answers 404: the count is absent"},
		{"nvr-isapiorg", "HikvisionUPnPPortMapping", "nvr-isapiorg's UPnP answer has no ports block and /UPnP/ports answers 404: the count is absent"},
		{"weak-cam", "HikvisionSNMPDefaultCommunity", "weak-cam has no SNMP endpoint (404): the metric is absent"},
		{"weak-cam", "HikvisionSNMPDefaultWriteCommunity", "weak-cam has no SNMP endpoint (404): the metric is absent"},
		{"nvr-isapiorg", "HikvisionSNMPDefaultCommunity", "nvr-isapiorg has no SNMP endpoint (404): the metric is absent"},
		{"nvr-isapiorg", "HikvisionSNMPDefaultWriteCommunity", "nvr-isapiorg has no SNMP endpoint (404): the metric is absent"},
		// Cameras have no IP channels; nvr-isapiorg's channels have no status
		// (404) and their firmware is outside CVE-2017-7921.
		{"weak-cam", "HikvisionChannelFirmwareAdvisory", "a camera has no IP channels"},
		{"weak-cam", "HikvisionChannelAdminLogin", "a camera has no IP channels"},
		{"nvr-isapiorg", "HikvisionChannelOffline", "nvr-isapiorg answers channels/status 404: hikvision_channel_online is absent"},
	}
}

// writeRulesForZero writes alerts/hikvision.rules.yml to path with every
// alert's `for:` set to 0s. The unit tests (alerts/hikvision.rules_test.yml)
// cover the `for:` durations; this test proves the expressions against real
// data from the real exporter, and must not wait up to an hour for them.
// It returns the alert names.
func writeRulesForZero(t *testing.T, path string) []string {
	t.Helper()
	return writeRulesWithFor(t, path, "0s")
}

// writeRulesWithFor writes alerts/hikvision.rules.yml to path with every
// alert's `for:` set to forDur, and returns the alert names.
func writeRulesWithFor(t *testing.T, path, forDur string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), alerts.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	forRE := regexp.MustCompile(`(?m)^([ \t]+)for:[ \t]*\S+[ \t]*$`)
	out := forRE.ReplaceAll(src, []byte("${1}for: "+forDur))
	var names []string
	for _, r := range alertRules(t, out) {
		names = append(names, r.Alert)
		if r.For != forDur {
			t.Fatalf("%s: alert %s has for: %q after the rewrite, want %s", alerts.RulesFile, r.Alert, r.For, forDur)
		}
	}
	if n := len(forRE.FindAll(src, -1)); n != len(names) {
		t.Fatalf("%s: rewrote %d for: lines but found %d alerts; the rewrite touched something else", alerts.RulesFile, n, len(names))
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestAlertsFireForWeakDeviceOnly runs the demo exporter and a real
// Prometheus configured as examples/prometheus.yml (HTTP SD from the
// exporter's /sd, the same relabelling) with the shipped rules, and checks
// the alerts that fire: weak-cam's whole posture, nothing at all for
// hardened-cam, only HikvisionCredentialsRejected for wrong-password, and
// for the site devices exactly theirs: site-nvr's cameras (one in two
// advisories, three recorded as admin, one offline) and snmp-cam's SNMP
// default communities and UPnP port mapping.
// weak-cam's brute force, already in its log when the exporter starts,
// must fire HikvisionLoginFailureBurst from the first scrape that reports
// it (checkBurstFromFirstScrape), and every dashboard query on failed
// logins must return data (checkLoginFailurePanels).
//
// Every `for:` is 0s (see writeRulesForZero), so an alert fires at the first
// evaluation that sees its condition. That also makes a single slow probe
// on a loaded machine fire, say, HikvisionDeviceUnreachable for one
// evaluation, which the real `for:` would absorb. The test therefore judges
// the alerts in a steady state: every target up, every reachable device
// answering with every collector succeeding, every device log read up to
// the present (the first log search reads the last 24h, over several probes
// when the probe deadline is short), and every rule group evaluated after
// those scrapes. An unwanted alert must then stop within alertGrace.
func TestAlertsFireForWeakDeviceOnly(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	started := time.Now()
	exp := startExporter(t, "http", "--demo")
	devices := sdDevices(t, exp)

	dir := t.TempDir()
	cfg := pointAtExporter(t, "examples/prometheus.yml", readExample(t, "prometheus.yml"), exp.addr).(map[string]any)
	cfg["global"] = fastGlobal()
	rulesFiles, _ := cfg["rule_files"].([]any)
	if len(rulesFiles) != 1 {
		t.Fatalf("examples/prometheus.yml: rule_files = %v, want the one rules file", cfg["rule_files"])
	}
	// Prometheus reads rule_files relative to its configuration file.
	if got := filepath.Join(repoRoot(t), "examples", fmt.Sprint(rulesFiles[0])); got != filepath.Join(repoRoot(t), alerts.RulesFile) {
		t.Fatalf("examples/prometheus.yml: rule_files names %s, want %s", got, alerts.RulesFile)
	}
	// The derived configuration gets its own copy, every for: 0s.
	cfg["rule_files"] = []any{filepath.Base(alerts.RulesFile)}
	alertNames := writeRulesForZero(t, filepath.Join(dir, filepath.Base(alerts.RulesFile)))
	probeJob := scrapeJob(t, "examples/prometheus.yml", cfg, "hikvision")
	if probeJob["http_sd_configs"] == nil {
		t.Fatal("examples/prometheus.yml: job hikvision no longer uses http_sd_configs")
	}
	scrapeJob(t, "examples/prometheus.yml", cfg, "hikvision_exporter")

	want := weakCamFiring()
	want = append(want, firing("wrong-password", "HikvisionCredentialsRejected", "the exporter's password is wrong"))
	for _, a := range []string{"HikvisionUPnPEnabled", "HikvisionCloudAccessEnabled", "HikvisionPlainHTTPWithoutRedirect"} {
		want = append(want, firing("nvr-isapiorg", a, "nvr-isapiorg's middling posture"))
	}
	// nvr-isapiorg serves the DS-7608NXI-I2's real channel list: four
	// cameras recorded as admin, one of them a generic "IPC" on V6.26
	// build 150513, older than the CVE-2021-36260 fixes.
	for _, ch := range []string{"1", "2", "3", "4"} {
		want = append(want, firing("nvr-isapiorg", "HikvisionChannelAdminLogin", "the captured channel list has userName admin", "channel", ch))
	}
	want = append(want, firing("nvr-isapiorg", "HikvisionChannelFirmwareAdvisory", "captured channel 3: IPC V6.26 build 150513", "channel", "3", "cve", "CVE-2021-36260"))
	want = append(want, siteFiring()...)
	for _, d := range []string{siteNVR, snmpCam} {
		if !slices.Contains(devices, d) {
			t.Fatalf("/sd of the demo exporter lacks %s (has %v)", d, devices)
		}
	}
	quiet := quietAlerts()
	known := map[string]bool{}
	for _, n := range alertNames {
		known[n] = true
	}
	for _, w := range want {
		if !known[w.labels["alertname"]] {
			t.Errorf("test expects %s, which is not in %s", w.labels["alertname"], alerts.RulesFile)
		}
	}
	for _, q := range quiet {
		if !known[q.alertname] {
			t.Errorf("test checks that %s stays quiet, but it is not in %s", q.alertname, alerts.RulesFile)
		}
	}

	writePrometheusConfig(t, dir, cfg)
	prom := startPrometheus(t, dir)

	var (
		deadline = time.Now().Add(alertWait)
		dataAt   time.Time // latest scrape when the steady state was first seen
		goodAt   time.Time // when the steady state with every wanted alert was first seen
		last     alertState
	)
	for {
		last = lookAtAlerts(prom, devices, started, &dataAt, want, quiet)
		if last.err == nil && last.steady == "" && len(last.missing) == 0 {
			if len(last.unwanted) == 0 {
				break
			}
			if goodAt.IsZero() {
				goodAt = time.Now()
			}
			if time.Since(goodAt) > alertGrace {
				break
			}
		} else {
			goodAt = time.Time{}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	t.Logf("alerts (GET /api/v1/alerts) after %s, by instance:\n%s", time.Since(started).Round(time.Second), alertSummary(last.alerts))
	if last.err != nil || last.steady != "" || len(last.missing) > 0 {
		t.Fatalf("gave up after %s: no steady state with every expected alert firing.\nsteady state: %s\nerror: %v\ntargets:\n%s"+
			"expected alerts not firing:\n  %s\nalerts that must not fire but do:\n  %s",
			alertWait, orElse(last.steady, "reached"), last.err, last.targets,
			orElse(strings.Join(last.missing, "\n  "), "(none)"), orElse(strings.Join(last.unwanted, "\n  "), "(none)"))
	}
	for _, u := range last.unwanted {
		t.Errorf("fires for more than %s in the steady state, but must not: %s", alertGrace, u)
	}

	// Rules evaluate without errors against real data.
	groups, err := getRules(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s (group %s): health %q, error %q", r.Name, g.Name, r.Health, r.LastError)
			}
		}
	}
	// Values implied by the demo's set-up.
	for _, w := range want {
		a := findAlert(last.alerts, w.labels)
		if w.check == nil || a == nil {
			continue
		}
		v, err := strconv.ParseFloat(a.Value, 64)
		if err != nil {
			t.Errorf("%s: value %q: %v", labelString(w.labels), a.Value, err)
		} else if err := w.check(v); err != nil {
			t.Errorf("%s (%s): %v", labelString(w.labels), w.why, err)
		}
	}
	// increase() and the *_over_time panels need a few samples: the steady
	// state may come with the first.
	waitForSamples(t, prom, `hikvision_login_failures_total{instance=~"weak-cam|hardened-cam"}`, 2, 3)
	checkBurstFromFirstScrape(t, prom, started)
	checkLoginFailurePanels(t, prom)
	// Every active alert fires (for: 0s) and its annotations render.
	for _, a := range last.alerts {
		if a.State != "firing" {
			t.Errorf("%s is %s; with every for: 0s an active alert must be firing", labelString(a.Labels), a.State)
		}
		for _, k := range []string{"summary", "description"} {
			switch text := a.Annotations[k]; {
			case strings.TrimSpace(text) == "":
				t.Errorf("%s: empty %s annotation", labelString(a.Labels), k)
			case strings.Contains(text, "error expanding template") || strings.Contains(text, "<no value>"):
				t.Errorf("%s: the %s annotation did not render: %s", labelString(a.Labels), k, text)
			}
		}
	}
	t.Logf("hardened-cam: checked that none of the %d alerts of %s fires: %s", len(alertNames), alerts.RulesFile, strings.Join(alertNames, ", "))
	t.Logf("%s and %s: checked that exactly their %d expected alerts fire", siteNVR, snmpCam, len(siteFiring()))
}

// checkBurstFromFirstScrape proves that the demo's brute force on weak-cam
// reaches HikvisionLoginFailureBurst from the exporter's first scrape of
// the device: the failed logins are all in its log before the exporter
// first reads it, so hikvision_login_failures_total starts with them and
// increase() of it sees none, while hikvision_login_failures_last_hour has
// them in its first sample. The alert must fire within its real `for:`
// (plus a scrape and an evaluation) of that sample, and never for any
// other device.
func checkBurstFromFirstScrape(t *testing.T, prom *process, started time.Time) {
	t.Helper()
	const alert = "HikvisionLoginFailureBurst"
	forDur := ruleFor(t, alert)
	gauge, err := rangeSamples(prom, `hikvision_login_failures_last_hour{instance="weak-cam"}[1h]`)
	if err != nil || len(gauge) != 1 || len(gauge[0].Values) == 0 {
		t.Fatalf("hikvision_login_failures_last_hour{instance=\"weak-cam\"}: %v %v", gauge, err)
	}
	firstAt, firstValue := gauge[0].Values[0].at, gauge[0].Values[0].v
	counter, err := rangeSamples(prom, `hikvision_login_failures_total{instance="weak-cam"}[1h]`)
	if err != nil || len(counter) != 1 || len(counter[0].Values) == 0 {
		t.Fatalf("hikvision_login_failures_total{instance=\"weak-cam\"}: %v %v", counter, err)
	}
	counterFirst := counter[0].Values[0]
	if !counterFirst.at.Equal(firstAt) || counterFirst.v < 25 {
		t.Errorf("the counter's first sample is %v at %s; want the 25 or more failed logins of the demo's log, at the gauge's first sample %s",
			counterFirst.v, counterFirst.at, firstAt)
	}
	if firstValue < 25 {
		t.Errorf("the gauge's first sample is %v; want the 25 or more failed logins of the demo's last hour", firstValue)
	}
	// The failed logins are in the counter's first sample, so increase()
	// over the whole run sees at most the few logged since.
	if res, err := instantQuery(prom, `increase(hikvision_login_failures_total{instance="weak-cam"}[1h])`); err != nil || len(res) != 1 {
		t.Errorf("increase of the counter: %v %v", res, err)
	} else if v := sampleValue(t, res[0]); v > 10 {
		t.Errorf("increase(hikvision_login_failures_total[1h]) = %v for weak-cam: the burst already in the log must be the counter's starting value", v)
	}

	fired, err := rangeSamples(prom, fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing", instance="weak-cam"}[1h]`, alert))
	if err != nil || len(fired) != 1 || len(fired[0].Values) == 0 {
		t.Fatalf("%s never fired for weak-cam: %v %v", alert, fired, err)
	}
	firedAt := fired[0].Values[0].at
	// One scrape (its timeout, 1s) to ingest the sample, one evaluation
	// interval (1s), and slack for a loaded machine.
	limit := forDur + 5*time.Second
	if delay := firedAt.Sub(firstAt); delay < 0 || delay > limit {
		t.Errorf("%s fired for weak-cam at %s, %s after the gauge's first sample at %s; want within its for: (%s) plus a scrape and an evaluation (%s in all)",
			alert, firedAt.Format(time.RFC3339), delay, firstAt.Format(time.RFC3339), forDur, limit)
	}
	t.Logf("%s for weak-cam: first sample of hikvision_login_failures_last_hour = %v at %s after the exporter started; "+
		"the alert fired %s after that sample (for: %s in %s), %s after the exporter started",
		alert, firstValue, firstAt.Sub(started).Round(time.Second), firedAt.Sub(firstAt), forDur, alerts.RulesFile,
		firedAt.Sub(started).Round(time.Second))

	// Never for another device, hardened-cam's gauge always 0.
	if res, err := instantQuery(prom, fmt.Sprintf(`count_over_time(ALERTS{alertname=%q, instance!="weak-cam"}[1h])`, alert)); err != nil || len(res) != 0 {
		t.Errorf("%s was active for another device than weak-cam during the run: %v %v", alert, res, err)
	}
	if res, err := instantQuery(prom, `max_over_time(hikvision_login_failures_last_hour{instance="hardened-cam"}[1h])`); err != nil || len(res) != 1 || sampleValue(t, res[0]) != 0 {
		t.Errorf("hardened-cam: max of hikvision_login_failures_last_hour over the run %v %v, want one series, 0", res, err)
	}
}

// checkLoginFailurePanels runs every dashboard query that uses a login
// failure metric against the demo's data, with the dashboard variables set
// as a user would: each must return data. On the device dashboard that is
// for weak-cam and for hardened-cam (whose failure counts are 0, not "no
// data"), except the time of the last failed login, which hardened-cam has
// none of.
func checkLoginFailurePanels(t *testing.T, prom *process) {
	t.Helper()
	root := repoRoot(t)
	type view struct {
		file   string
		values map[string]string
		absent string // a metric whose panels may return nothing in this view
	}
	views := []view{
		{"dashboards/hikvision-device.json", map[string]string{"job": "hikvision", "instance": "weak-cam"}, ""},
		{"dashboards/hikvision-device.json", map[string]string{"job": "hikvision", "instance": "hardened-cam"}, "hikvision_last_login_failure_timestamp_seconds"},
		{"dashboards/hikvision-fleet.json", map[string]string{"job": "hikvision", "instance": ".+"}, ""},
	}
	checked := 0
	for _, v := range views {
		exprs, err := alerts.DashboardExpressionsWith(root, v.file, v.values)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exprs {
			if !strings.Contains(e.PromQL, "login_failure") || (v.absent != "" && strings.Contains(e.PromQL, v.absent)) {
				continue
			}
			checked++
			res, err := queryAny(prom, e.PromQL)
			switch {
			case err != nil:
				t.Errorf("%s %v: %s: %v", e.File, v.values, e.Location, err)
			case res == 0:
				t.Errorf("%s %v: %s returns no data on the demo: %s", e.File, v.values, e.Location, e.PromQL)
			}
		}
	}
	if checked < 8 {
		t.Errorf("only %d login-failure panel queries found in the dashboards; the selection is broken", checked)
	}
	t.Logf("%d login-failure panel queries of the dashboards return data on the demo", checked)
}

// waitForSamples waits until at least series series of the selector have at
// least n samples.
func waitForSamples(t *testing.T, prom *process, selector string, series, n int) {
	t.Helper()
	q := fmt.Sprintf("count_over_time(%s[1h]) >= %d", selector, n)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := instantQuery(prom, q)
		if err == nil && len(res) >= series {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d series after 30s, want %d: %v %v", q, len(res), series, res, err)
		}
		time.Sleep(pollInterval)
	}
}

// alertRule is an alerting rule of a rules file, as far as the tests read it.
type alertRule struct {
	Alert string `yaml:"alert"`
	For   string `yaml:"for"`
}

// alertRules returns the alerting rules (not the recording ones) of a rules file.
func alertRules(t *testing.T, src []byte) []alertRule {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(src, &rf); err != nil {
		t.Fatalf("%s: %v", alerts.RulesFile, err)
	}
	var out []alertRule
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// ruleFor returns the `for:` of an alert in the shipped rules file.
func ruleFor(t *testing.T, alert string) time.Duration {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), alerts.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range alertRules(t, src) {
		if r.Alert == alert {
			d, err := time.ParseDuration(r.For)
			if err != nil {
				t.Fatalf("%s: alert %s: for: %q: %v", alerts.RulesFile, alert, r.For, err)
			}
			return d
		}
	}
	t.Fatalf("%s: no alert %s", alerts.RulesFile, alert)
	return 0
}

type timedValue struct {
	at time.Time
	v  float64
}

type rangeSeries struct {
	Metric map[string]string
	Values []timedValue
}

// rangeSamples runs an instant query for a range vector and returns its
// samples, oldest first.
func rangeSamples(p *process, q string) ([]rangeSeries, error) {
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := prometheusAPI(p, "/api/v1/query?query="+url.QueryEscape(q), &d); err != nil {
		return nil, err
	}
	if d.ResultType != "matrix" {
		return nil, fmt.Errorf("query %s: result type %s, want matrix", q, d.ResultType)
	}
	var out []rangeSeries
	for _, r := range d.Result {
		s := rangeSeries{Metric: r.Metric}
		for _, pair := range r.Values {
			ts, ok := pair[0].(float64)
			if !ok {
				return nil, fmt.Errorf("query %s: timestamp %v", q, pair[0])
			}
			v, err := strconv.ParseFloat(fmt.Sprint(pair[1]), 64)
			if err != nil {
				return nil, fmt.Errorf("query %s: value %v: %w", q, pair[1], err)
			}
			s.Values = append(s.Values, timedValue{at: time.UnixMilli(int64(ts * 1000)), v: v})
		}
		out = append(out, s)
	}
	return out, nil
}

// queryAny runs an instant query and returns how many series or values it
// returned, whatever its result type.
func queryAny(p *process, q string) (int, error) {
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := prometheusAPI(p, "/api/v1/query?query="+url.QueryEscape(q), &d); err != nil {
		return 0, err
	}
	switch d.ResultType {
	case "vector", "matrix":
		var items []json.RawMessage
		if err := json.Unmarshal(d.Result, &items); err != nil {
			return 0, err
		}
		return len(items), nil
	default: // scalar or string: always a value
		return 1, nil
	}
}

func sampleValue(t *testing.T, s querySample) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	if err != nil {
		t.Fatalf("value %v: %v", s.Value[1], err)
	}
	return v
}

const (
	alertWait  = 120 * time.Second // the first log lookback alone takes ~25 one-second scrapes
	alertGrace = 15 * time.Second  // an unwanted alert caused by one slow probe is gone by then
)

// alertState is one look at targets, device state and alerts.
type alertState struct {
	err      error
	targets  string   // one line per target
	steady   string   // why the steady state is not reached; "" when it is
	missing  []string // wanted alerts not firing
	unwanted []string // alerts firing that must not, with the reason
	alerts   []activeAlert
}

// lookAtAlerts looks at Prometheus once. dataAt keeps the latest scrape
// time at which the device state was first seen steady; rule groups must
// have been evaluated after it.
func lookAtAlerts(prom *process, devices []string, started time.Time, dataAt *time.Time, want []wantedAlert, quiet []quietAlert) (s alertState) {
	ts, err := getTargets(prom)
	if err != nil {
		s.err = err
		return s
	}
	s.targets = describeTargets(ts)
	s.alerts, s.err = getAlerts(prom)
	if s.err != nil {
		return s
	}
	for _, w := range want {
		if findAlert(s.alerts, w.labels) == nil {
			s.missing = append(s.missing, fmt.Sprintf("%s (%s)", labelString(w.labels), w.why))
		}
	}
	for _, a := range s.alerts {
		inst, name := a.Labels["instance"], a.Labels["alertname"]
		switch {
		case exhaustive[inst] != "" && !slices.ContainsFunc(want, func(w wantedAlert) bool { return hasLabels(w.labels, a.Labels) }):
			s.unwanted = append(s.unwanted, fmt.Sprintf("%s value=%s: %s; %s",
				labelString(a.Labels), a.Value, exhaustive[inst], a.Annotations["description"]))
			continue
		case inst == "wrong-password" && name != "HikvisionCredentialsRejected":
			s.unwanted = append(s.unwanted, fmt.Sprintf("%s: wrong-password rejects the exporter, so only HikvisionCredentialsRejected may fire for it", labelString(a.Labels)))
			continue
		}
		for _, q := range quiet {
			if name == q.alertname && (q.instance == "" || inst == q.instance) {
				s.unwanted = append(s.unwanted, fmt.Sprintf("%s value=%s: %s", labelString(a.Labels), a.Value, q.why))
			}
		}
	}

	// The steady state.
	byJob := targetsByJob(ts)
	var instances []string
	var latest time.Time
	for _, tg := range byJob["hikvision"] {
		instances = append(instances, tg.Labels["instance"])
	}
	sort.Strings(instances)
	if strings.Join(instances, ",") != strings.Join(devices, ",") || len(byJob["hikvision_exporter"]) != 1 {
		s.steady = fmt.Sprintf("want job hikvision with instances %v and one hikvision_exporter target", devices)
		return s
	}
	for _, tg := range ts.ActiveTargets {
		if tg.Health != "up" {
			s.steady = "not every target is up"
			return s
		}
		if tg.LastScrape.After(latest) {
			latest = tg.LastScrape
		}
	}
	for _, q := range []struct{ query, why string }{
		{`hikvision_up{instance!="wrong-password"} != 1`, "reachable devices must answer (hikvision_up 1)"},
		{`hikvision_up{instance="wrong-password"} != 0 or hikvision_auth_rejected{instance="wrong-password"} != 1`, "wrong-password must be rejected"},
		{`hikvision_scrape_collector_success != 1`, "every collector must succeed"},
		{fmt.Sprintf(`hikvision_log_search_cursor_timestamp_seconds < %d`, started.Add(-2*time.Second).Unix()),
			"the device logs must be read up to the present (the first search covers log_search_lookback)"},
		{`absent(hikvision_log_search_cursor_timestamp_seconds{instance="weak-cam"})`, "weak-cam's log must have been searched"},
	} {
		res, err := instantQuery(prom, q.query)
		if err != nil {
			s.err = err
			return s
		}
		if len(res) > 0 {
			var series []string
			for _, r := range res {
				series = append(series, fmt.Sprintf("%v=%v", r.Metric, r.Value[1]))
			}
			s.steady = fmt.Sprintf("%s; %s: %s", q.why, q.query, strings.Join(series, ", "))
			*dataAt = time.Time{}
			return s
		}
	}
	if dataAt.IsZero() {
		*dataAt = latest
	}
	groups, err := getRules(prom)
	if err != nil {
		s.err = err
		return s
	}
	if len(groups) == 0 {
		s.steady = "no rule groups loaded"
		return s
	}
	for _, g := range groups {
		if !g.LastEvaluation.After(*dataAt) {
			s.steady = fmt.Sprintf("rule group %s last evaluated at %s, before the scrapes of %s", g.Name, g.LastEvaluation, *dataAt)
			return s
		}
	}
	return s
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// findAlert returns the first alert whose labels include want.
func findAlert(as []activeAlert, want map[string]string) *activeAlert {
	for i := range as {
		if hasLabels(want, as[i].Labels) {
			return &as[i]
		}
	}
	return nil
}

// labelString renders labels as alertname{k="v",...}.
func labelString(l map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(l) {
		if k != "alertname" && k != "job" && k != "severity" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
		}
	}
	return l["alertname"] + "{" + strings.Join(parts, ",") + "}"
}

// alertSummary lists the alerts by instance.
func alertSummary(as []activeAlert) string {
	by := map[string][]string{}
	for _, a := range as {
		inst := a.Labels["instance"]
		if inst == "" {
			inst = "(no instance)"
		}
		extra := []string{}
		for _, k := range sortedKeys(a.Labels) {
			switch k {
			case "alertname", "instance", "job", "severity", "module":
			default:
				extra = append(extra, k+"="+a.Labels[k])
			}
		}
		s := a.Labels["alertname"]
		if len(extra) > 0 {
			s += "{" + strings.Join(extra, ",") + "}"
		}
		by[inst] = append(by[inst], fmt.Sprintf("%s %s value=%s", s, a.State, a.Value))
	}
	var b strings.Builder
	for _, inst := range sortedKeys(by) {
		sort.Strings(by[inst])
		fmt.Fprintf(&b, "  %s (%d):\n", inst, len(by[inst]))
		for _, s := range by[inst] {
			b.WriteString("    " + s + "\n")
		}
	}
	if len(as) == 0 {
		b.WriteString("  (none)\n")
	}
	return b.String()
}

// TestHashmodShardsCoverEveryDeviceOnce expands examples/prometheus-hashmod.yml
// to all its shards (every shard's /sd pointing at one demo exporter, which
// is what replicas serving the same hikvision.yml amount to) and checks that
// each device is scraped by exactly one shard, the one its name hashes to,
// and that the shards together scrape every device /sd offers.
func TestHashmodShardsCoverEveryDeviceOnce(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	exp := startExporter(t, "http", "--demo")
	devices := sdDevices(t, exp)

	const what = "examples/prometheus-hashmod.yml"
	ex := readExample(t, "prometheus-hashmod.yml")
	jobs := scrapeConfigs(t, what, ex)
	if len(jobs) != 1 {
		t.Fatalf("%s: %d jobs; the test expects shard 0 written out and the others described in a comment", what, len(jobs))
	}
	shard0 := jobs[0].(map[string]any)
	modulus := hashmodModulus(t, what, shard0)
	if modulus != 3 {
		t.Fatalf("%s: hashmod modulus %d, want 3 (the example documents three replicas)", what, modulus)
	}
	var shardJobs []any
	for i := range modulus {
		shardJobs = append(shardJobs, shardJob(t, what, shard0, i, fmt.Sprintf("hikvision-shard-%d", i), exp.addr))
	}
	cfg := map[string]any{"global": fastGlobal(), "scrape_configs": shardJobs}
	dir := t.TempDir()
	writePrometheusConfig(t, dir, cfg)
	prom := startPrometheus(t, dir)

	var ts targetsResponse
	eventually(t, "every shard to discover every device and scrape its own", func() (bool, string, error) {
		var status string
		var err error
		ts, status, err = targetsStatus(prom)
		if err != nil {
			return false, "", err
		}
		status += fmt.Sprintf("dropped targets: %d\n", len(ts.DroppedTargets))
		seen := map[string]bool{}
		for _, tg := range ts.ActiveTargets {
			if tg.Health != "up" {
				return false, status, nil
			}
			seen[tg.Labels["instance"]] = true
		}
		// Each shard discovers every device and drops those of the others.
		if len(seen) < len(devices) || len(ts.DroppedTargets) < len(devices)*(modulus-1) {
			return false, status, nil
		}
		return true, "", nil
	})

	shardOf := map[string][]string{}
	for _, tg := range ts.ActiveTargets {
		dev := tg.Labels["instance"]
		shardOf[dev] = append(shardOf[dev], tg.Labels["job"])
		if p := tg.DiscoveredLabels["__meta_hikvision_device"]; p != dev {
			t.Errorf("target %s: instance %q, but __meta_hikvision_device %q", tg.ScrapeURL, dev, p)
		}
		if !strings.Contains(tg.ScrapeURL, "target="+dev) || !strings.Contains(tg.ScrapeURL, exp.addr+"/probe") {
			t.Errorf("target %s: scrape URL %s does not probe %s through the exporter", dev, tg.ScrapeURL, dev)
		}
	}
	var summary []string
	for _, dev := range devices {
		jobs := shardOf[dev]
		want := fmt.Sprintf("hikvision-shard-%d", hashmod(dev, uint64(modulus)))
		switch {
		case len(jobs) != 1:
			t.Errorf("%s is scraped by %d shards %v, want exactly one", dev, len(jobs), jobs)
		case jobs[0] != want:
			t.Errorf("%s is scraped by %s, but its name hashes to %s", dev, jobs[0], want)
		}
		summary = append(summary, fmt.Sprintf("%s -> %v", dev, jobs))
		delete(shardOf, dev)
	}
	for dev, jobs := range shardOf {
		t.Errorf("%v scrape %q, which /sd does not offer", jobs, dev)
	}
	if len(ts.DroppedTargets) != len(devices)*(modulus-1) {
		t.Errorf("%d dropped targets, want %d (each of the %d shards keeps only its own of the %d devices)",
			len(ts.DroppedTargets), len(devices)*(modulus-1), modulus, len(devices))
	}
	t.Logf("shards: %s", strings.Join(summary, "; "))
}

// TestStaticAndFileSDConfigsWork runs Prometheus with the jobs of
// examples/prometheus-static.yml and examples/prometheus-file-sd.yml
// (targets: the demo device names, the file SD one with a site label as in
// the example's comment) and checks that every device is scraped with
// instance = device name and that hikvision_up is queryable for each.
func TestStaticAndFileSDConfigsWork(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	exp := startExporter(t, "http", "--demo")
	devices := sdDevices(t, exp)
	dir := t.TempDir()

	const staticWhat = "examples/prometheus-static.yml"
	static := scrapeJob(t, staticWhat, readExample(t, "prometheus-static.yml"), "hikvision")
	sc, _ := static["static_configs"].([]any)
	if len(sc) != 1 {
		t.Fatalf("%s: %d static_configs, want 1", staticWhat, len(sc))
	}
	targets := make([]any, len(devices))
	for i, d := range devices {
		targets[i] = d
	}
	sc[0].(map[string]any)["targets"] = targets
	static["job_name"] = "hikvision-static"
	static = pointAtExporter(t, staticWhat, static, exp.addr).(map[string]any)

	const fileWhat = "examples/prometheus-file-sd.yml"
	file := scrapeJob(t, fileWhat, readExample(t, "prometheus-file-sd.yml"), "hikvision")
	fsd, _ := file["file_sd_configs"].([]any)
	if len(fsd) != 1 {
		t.Fatalf("%s: %d file_sd_configs, want 1", fileWhat, len(fsd))
	}
	files, _ := fsd[0].(map[string]any)["files"].([]any)
	if len(files) != 1 {
		t.Fatalf("%s: files = %v, want one pattern", fileWhat, files)
	}
	targetsDir := filepath.Join(dir, filepath.Base(filepath.Dir(fmt.Sprint(files[0]))))
	fsd[0].(map[string]any)["files"] = []any{filepath.Join(targetsDir, filepath.Base(fmt.Sprint(files[0])))}
	file["job_name"] = "hikvision-file-sd"
	file = pointAtExporter(t, fileWhat, file, exp.addr).(map[string]any)
	// The format in the example's comment.
	groups, _ := json.Marshal([]map[string]any{{"targets": devices, "labels": map[string]string{"site": "hq"}}})
	if err := os.MkdirAll(targetsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(targetsDir, "demo.json"), groups, 0o644); err != nil {
		t.Fatal(err)
	}

	writePrometheusConfig(t, dir, map[string]any{"global": fastGlobal(), "scrape_configs": []any{static, file}})
	prom := startPrometheus(t, dir)

	jobs := []string{"hikvision-static", "hikvision-file-sd"}
	eventually(t, "both jobs to scrape every device and hikvision_up to be queryable", func() (bool, string, error) {
		ts, status, err := targetsStatus(prom)
		if err != nil {
			return false, "", err
		}
		byJob := targetsByJob(ts)
		for _, job := range jobs {
			if len(byJob[job]) != len(devices) {
				return false, status, nil
			}
			for _, tg := range byJob[job] {
				if tg.Health == "up" {
					continue
				}
				// A refusal by the exporter is not going to pass: say why now.
				if code, body, err := httpGet(tg.ScrapeURL); err == nil && code >= 400 && code < 500 {
					t.Fatalf("job %s (derived from examples/prometheus-%s.yml): the exporter refuses the scrape %s with HTTP %d: %s",
						job, strings.TrimPrefix(job, "hikvision-"), tg.ScrapeURL, code, strings.TrimSpace(string(body)))
				}
				return false, status, nil
			}
		}
		res, err := instantQuery(prom, `hikvision_up`)
		if err != nil {
			return false, status, err
		}
		if len(res) < len(jobs)*len(devices) {
			return false, status + fmt.Sprintf("hikvision_up has %d series, want %d", len(res), len(jobs)*len(devices)), nil
		}
		return true, "", nil
	})

	ts, err := getTargets(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts.ActiveTargets {
		if tg.Labels["instance"] != tg.DiscoveredLabels["__address__"] {
			t.Errorf("job %s: instance %q, want the device name %q", tg.Labels["job"], tg.Labels["instance"], tg.DiscoveredLabels["__address__"])
		}
		if tg.Labels["job"] == "hikvision-file-sd" && tg.Labels["site"] != "hq" {
			t.Errorf("file SD target %s lost the file's site label: %v", tg.Labels["instance"], tg.Labels)
		}
	}
	for _, job := range jobs {
		res, err := instantQuery(prom, fmt.Sprintf(`hikvision_up{job=%q}`, job))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range res {
			got[s.Metric["instance"]] = fmt.Sprint(s.Value[1])
			if job == "hikvision-file-sd" && s.Metric["site"] != "hq" {
				t.Errorf("%s: hikvision_up%v lacks site=\"hq\"", job, s.Metric)
			}
		}
		for _, d := range devices {
			want := "1"
			if d == "wrong-password" {
				want = "0"
			}
			if got[d] != want {
				t.Errorf("%s: hikvision_up{instance=%q} = %q, want %s", job, d, got[d], want)
			}
		}
		t.Logf("%s: hikvision_up by instance: %v", job, got)
	}
}
