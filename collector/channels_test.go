package collector

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// The channels tests run on the package's helpers (startProbe, collect,
// runProbe). Requests are counted in Stats.Authenticated (answered
// requests, per path): the client's first request to a device also draws
// the Digest challenge, on whichever path.

const (
	chList   = simulator.KeyInputProxyChannels
	chStatus = simulator.KeyInputProxyChannelStatus
)

// collectChannels runs the channels collector once, on the real clock.
func collectChannels(t *testing.T, d *Probe) (map[string]float64, error) {
	t.Helper()
	return collect(t, channelsCollector{}, d, nil)
}

// chInfo is the key of hikvision_channel_info.
func chInfo(channel, name, ip, protocol, model, serial, version, build string) string {
	return promtest.Key("hikvision_channel_info", "channel", channel, "name", name, "ip_address", ip, "protocol", protocol,
		"model", model, "serial_number", serial, "firmware_version", version, "firmware_build", build)
}

// chKey is the key of hikvision_channel_<metric> for a channel.
func chKey(metric, channel string) string {
	return promtest.Key("hikvision_channel_"+metric, "channel", channel)
}

// chAdvisory is the key of a channel's firmware advisory verdict.
func chAdvisory(channel, cve string) string {
	return promtest.Key("hikvision_channel_firmware_advisory", "channel", channel, "cve", cve)
}

// chAdvisoryIDs is every advisory id a channel is judged on, sorted: those
// of the built-in table merged with the configured entries.
func chAdvisoryIDs(configured []advisory.Advisory) []string {
	var ids []string
	for _, a := range advisory.Merge(configured) {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// chProbeAdvisoryIDs is chAdvisoryIDs for the probe's configuration.
func chProbeAdvisoryIDs(d *Probe) []string {
	if d.Config == nil {
		return chAdvisoryIDs(nil)
	}
	return chAdvisoryIDs(d.Config.FirmwareAdvisories)
}

// chBuiltinAdvisoryIDs is every id of the built-in table.
var chBuiltinAdvisoryIDs = chAdvisoryIDs(nil)

// chVerdicts adds a channel's verdict on every advisory id of ids: a
// channel with readable firmware gets one per advisory, 1 for the ids in
// vulnerable and 0 for the others, a model outside every family of the
// advisory included.
func chVerdicts(t *testing.T, want map[string]float64, id string, ids []string, vulnerable ...string) {
	t.Helper()
	for _, cve := range ids {
		want[chAdvisory(id, cve)] = 0
	}
	for _, cve := range vulnerable {
		if !slices.Contains(ids, cve) {
			t.Fatalf("channel %s: advisory %s is not in the table %v", id, cve, ids)
		}
		want[chAdvisory(id, cve)] = 1
	}
}

// chAdd adds the series of one channel with firmware: info, admin account,
// build date and a verdict on every built-in advisory. CVE-2021-36260 (the
// built-in entry that covers every camera by deviceType) is 1 when cve2021;
// every other advisory is 0, CVE-2017-7921 included: no channel of the
// captures is in one of its families.
func chAdd(t *testing.T, want map[string]float64, id, name, ip, model, serial, version, build string, built float64, cve2021 bool) {
	t.Helper()
	want[chInfo(id, name, ip, "HIKVISION", model, serial, version, build)] = 1
	want[chKey("admin_account", id)] = 1
	want[chKey("firmware_build_timestamp_seconds", id)] = built
	var vulnerable []string
	if cve2021 {
		vulnerable = append(vulnerable, "CVE-2021-36260")
	}
	chVerdicts(t, want, id, chBuiltinAdvisoryIDs, vulnerable...)
}

// chCaptureWant is the exact output per recorder capture, read off the
// captures (docs/isapi.md §5.17). No status capture exists: the simulator
// answers status with 404, so online is absent and its feature 0.
func chCaptureWant(t *testing.T) map[string]map[string]float64 {
	t.Helper()
	nxi := map[string]float64{featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 0}
	chAdd(t, nxi, "1", "garden", "1.0.0.236", "DS-2CD2386G2-IU", "DS-2CD2386G2-IU00000000AAWRK00000001", "V5.7.15", "240201", midnightUTC(2024, time.February, 1), false)
	chAdd(t, nxi, "2", "home", "1.0.0.50", "DS-2CD2386G2-IU", "DS-2CD2386G2-IU00000000AAWRK00000002", "V5.7.15", "240201", midnightUTC(2024, time.February, 1), false)
	// A generic "IPC" on a 2015 build: inside the CVE-2021-36260 heuristic.
	chAdd(t, nxi, "3", "road", "1.0.0.80", "IPC", "0000000000000-0C0F000000DD", "V6.26", "150513", midnightUTC(2015, time.May, 13), true)
	// Channel 4 has no model, serial or firmware: labels empty, no advisory
	// (not even 0: nothing to judge) or build.
	nxi[chInfo("4", "gate", "1.0.0.238", "HIKVISION", "", "", "", "")] = 1
	nxi[chKey("admin_account", "4")] = 1
	for _, id := range []string{"1", "2", "3", "4"} {
		nxi[chKey("certificate_validation_enabled", id)] = 0
	}

	// Six channels (size says 10), no certificate-validation element.
	k2 := map[string]float64{featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 0}
	chAdd(t, k2, "1", "tagahoov", "1.0.0.208", "DS-2CD2387G2-LSU/SL", "DS-2CD2387G2-LSU/SL00000000AAWRJ00000000", "V5.7.14", "231028", midnightUTC(2023, time.October, 28), false)
	chAdd(t, k2, "2", "garaazh", "1.0.0.253", "HWI-T220H", "HWI-T000H00000000AAWRC00000000", "V5.5.82", "181022", midnightUTC(2018, time.October, 22), true)
	chAdd(t, k2, "3", "eeshoov", "1.0.0.137", "DS-2CD2387G2-LSU/SL", "DS-2CD2387G2-LSU/SL00000000AAWRAD0000000", "V5.7.14", "231028", midnightUTC(2023, time.October, 28), false)
	chAdd(t, k2, "4", "sauna uks", "1.0.0.227", "DS-2CD2387G2H-LISU/SL", "DS-2CD2387G2H-LISU/SL00000000AAWRAW0000000", "V5.7.15", "240201", midnightUTC(2024, time.February, 1), false)
	chAdd(t, k2, "5", "terrass", "1.0.0.129", "DS-2CD2387G2H-LISU/SL", "DS-2CD2387G2H-LISU/SL00000000AAWRAW0000000", "V5.7.15", "240201", midnightUTC(2024, time.February, 1), false)
	chAdd(t, k2, "6", "uksekell", "1.0.0.46", "DS-KV6113-WPE1(C)", "DS-KV6113-WPE0(C)0000000000RRAH0000000", "V2.2.65", "230703", midnightUTC(2023, time.July, 3), false)

	// Nine channels (size says 7), none with model or firmware.
	q2 := map[string]float64{featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 0}
	for i, ch := range []struct{ name, ip string }{
		{"Garage", "1.0.0.49"}, {"Driveway", "1.0.0.73"}, {"Side Yard", "1.0.0.123"}, {"Front Door", "1.0.0.66"},
		{"Front Walkway", "1.0.0.92"}, {"Gate", "1.0.0.30"}, {"Lower Patio", "1.0.0.238"}, {"Back Yard", "1.0.0.50"}, {"Back Path", "1.0.0.149"},
	} {
		id := fmt.Sprint(i + 1)
		q2[chInfo(id, ch.name, ch.ip, "HIKVISION", "", "", "", "")] = 1
		q2[chKey("admin_account", id)] = 1
	}

	return map[string]map[string]float64{
		"DS-7608NXI-I2": nxi,
		"DS-7616NI-K2":  k2,
		"DS-7616NI-Q2":  q2,
		// The DVR's list is empty (size says 2): nothing to ask status for.
		"iDS-7208HQHI-M1": {featureSeries("input_proxy_channels"): 1},
	}
}

// The four real lists, through the simulator's capture profiles; every
// other capture model is a camera or terminal without the endpoint.
func TestChannelsCaptureProfiles(t *testing.T) {
	recorders := chCaptureWant(t)
	for _, model := range simulator.CaptureModels() {
		t.Run(model, func(t *testing.T) {
			sim, d := startProbe(t, simulator.CaptureProfile(model), nil, "")
			got, err := collectChannels(t, d)
			if err != nil {
				t.Fatal(err)
			}
			want, recorder := recorders[model]
			if !recorder {
				want = map[string]float64{featureSeries("input_proxy_channels"): 0}
			}
			promtest.Diff(t, model, got, want)
			statusAsked := 0
			if len(want) > 1 {
				statusAsked = 1
			}
			if s := sim.Stats().Authenticated; s[chList] != 1 || s[chStatus] != statusAsked {
				t.Errorf("requests: list %d, status %d; want 1, %d", s[chList], s[chStatus], statusAsked)
			}
		})
	}
}

// The same captures with a status answer: one camera offline.
func TestChannelsCaptureWithStatus(t *testing.T) {
	p := simulator.CaptureProfile("DS-7608NXI-I2")
	p.Endpoints[chStatus] = simulator.Endpoint{Body: simulator.InputProxyChannelStatusXML(p.Namespace,
		simulator.RecorderChannel{ID: 1}, simulator.RecorderChannel{ID: 2}, simulator.RecorderChannel{ID: 3},
		simulator.RecorderChannel{ID: 4, Offline: true})}
	_, d := startProbe(t, p, nil, "")
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	want := chCaptureWant(t)["DS-7608NXI-I2"]
	want[featureSeries("input_proxy_channels_status")] = 1
	for id, v := range map[string]float64{"1": 1, "2": 1, "3": 1, "4": 0} {
		want[chKey("online", id)] = v
	}
	promtest.Diff(t, "DS-7608NXI-I2 with status", got, want)
}

// A device without the list (404, or 403 notSupport) reports the feature 0
// and is asked nothing more, on this probe and, the absence being cached,
// on the next.
func TestChannelsDeviceWithoutEndpoint(t *testing.T) {
	for name, p := range map[string]simulator.Profile{
		"404":        simulator.CaptureProfile("DS-2CD2146G2-ISU"),
		"notSupport": {NotSupported: []string{chList, chStatus}},
	} {
		t.Run(name, func(t *testing.T) {
			sim, d := startProbe(t, p, nil, "")
			for range 2 {
				got, err := collectChannels(t, d)
				if err != nil {
					t.Fatal(err)
				}
				promtest.Diff(t, name, got, map[string]float64{featureSeries("input_proxy_channels"): 0})
			}
			if s := sim.Stats().Authenticated; s[chList] != 1 || s[chStatus] != 0 {
				t.Errorf("two probes asked the list %d times and the status %d times; want 1 and 0", s[chList], s[chStatus])
			}
		})
	}
}

// Simulator shapes: a Hikvision camera that validates certificates, an
// ONVIF camera without model or firmware under another account, an
// offline camera, and a channel carrying the camera's password.
func TestChannelsShapes(t *testing.T) {
	const secret = "Cam-Secret-Pa55"
	p := simulator.Profile{Namespace: simulator.NamespaceISAPIOrg20}.WithRecorderChannels(
		simulator.RecorderChannel{ID: 1, Name: "door", Protocol: "HIKVISION", IPAddress: "192.168.254.2", UserName: "admin", Password: secret,
			Model: "DS-2CD2032F-I", SerialNumber: "DS-2CD2032F-I20150101AAWR000000001", FirmwareVersion: "V5.3.0 build 150410",
			CertificateValidation: simulator.Bool(true)},
		simulator.RecorderChannel{ID: 2, Name: "yard", Protocol: "ONVIF", IPAddress: "192.168.254.3", UserName: "onvif-rec", Password: secret},
		simulator.RecorderChannel{ID: 3, Name: "gate", Protocol: "HIKVISION", IPAddress: "192.168.254.4", UserName: "Admin",
			Model: "DS-2CD2386G2-IU", FirmwareVersion: "V5.7.18 build 240826", CertificateValidation: simulator.Bool(false), Offline: true},
		simulator.RecorderChannel{ID: 4, Protocol: "ONVIF"},
	)
	sim, d := startProbe(t, p, nil, "")
	want := map[string]float64{
		featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 1,
		// DS-2CD2xx2F-I, V5.3.0 build 150410 (verdicts below).
		chInfo("1", "door", "192.168.254.2", "HIKVISION", "DS-2CD2032F-I", "DS-2CD2032F-I20150101AAWR000000001", "V5.3.0", "150410"): 1,
		chKey("admin_account", "1"): 1, chKey("certificate_validation_enabled", "1"): 1, chKey("online", "1"): 1,
		chKey("firmware_build_timestamp_seconds", "1"): midnightUTC(2015, time.April, 10),
		// ONVIF: no model or firmware, hence no advisory or build date.
		chInfo("2", "yard", "192.168.254.3", "ONVIF", "", "", "", ""): 1,
		chKey("admin_account", "2"):                                   0, chKey("online", "2"): 1,
		// Offline, logged into as "Admin": the administrator all the same.
		chInfo("3", "gate", "192.168.254.4", "HIKVISION", "DS-2CD2386G2-IU", "", "V5.7.18", "240826"): 1,
		chKey("admin_account", "3"): 1, chKey("certificate_validation_enabled", "3"): 0, chKey("online", "3"): 0,
		chKey("firmware_build_timestamp_seconds", "3"): midnightUTC(2024, time.August, 26),
		// Nothing but the protocol: no account, no certificate element.
		chInfo("4", "", "", "ONVIF", "", "", "", ""): 1, chKey("online", "4"): 1,
	}
	// Channel 1, DS-2CD2xx2F-I at V5.3.0 build 150410: inside both
	// advisories. Channel 3 is outside both: a build after the
	// CVE-2021-36260 fix, and a model outside every CVE-2017-7921 family,
	// which is 0 too. Channels 2 and 4 have no firmware: no verdict at all.
	chVerdicts(t, want, "1", chBuiltinAdvisoryIDs, "CVE-2017-7921", "CVE-2021-36260")
	chVerdicts(t, want, "3", chBuiltinAdvisoryIDs)
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "shapes", got, want)
	for k := range got {
		if strings.Contains(k, secret) {
			t.Errorf("the camera password reached a metric: %s", k)
		}
	}

	// A second probe reads the list from the cache and the status afresh.
	sim.SetEndpoint(chStatus, simulator.Endpoint{Body: simulator.InputProxyChannelStatusXML(simulator.NamespaceISAPIOrg20,
		simulator.RecorderChannel{ID: 1, Offline: true}, simulator.RecorderChannel{ID: 2}, simulator.RecorderChannel{ID: 3},
		simulator.RecorderChannel{ID: 4})})
	got, err = collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	want[chKey("online", "1")], want[chKey("online", "3")] = 0, 1
	promtest.Diff(t, "second probe", got, want)
	if s := sim.Stats().Authenticated; s[chList] != 1 || s[chStatus] != 2 {
		t.Errorf("two probes: list asked %d times, status %d; want 1 (cached) and 2 (live)", s[chList], s[chStatus])
	}
}

// Ids label the series: a channel without one is left out, a repeated one
// keeps its first channel, and so does a repeated status entry. Status
// entries without online are absent.
func TestChannelsIDs(t *testing.T) {
	ns := simulator.NamespaceHikvision20
	list := `<InputProxyChannelList xmlns="` + ns + `" size="1">
<InputProxyChannel><id>1</id><name>first</name></InputProxyChannel>
<InputProxyChannel><name>no id</name></InputProxyChannel>
<InputProxyChannel><id> 1 </id><name>again</name></InputProxyChannel>
<InputProxyChannel><id>2</id><name>second</name></InputProxyChannel>
</InputProxyChannelList>`
	status := `<InputProxyChannelStatusList xmlns="` + ns + `">
<InputProxyChannelStatus><id>1</id><online>false</online></InputProxyChannelStatus>
<InputProxyChannelStatus><id>1</id><online>true</online></InputProxyChannelStatus>
<InputProxyChannelStatus><id>2</id><chanDetectResult>connect</chanDetectResult></InputProxyChannelStatus>
<InputProxyChannelStatus><online>true</online></InputProxyChannelStatus>
</InputProxyChannelStatusList>`
	_, d := startProbe(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		chList: {Body: []byte(list)}, chStatus: {Body: []byte(status)},
	}}, nil, "")
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "ids", got, map[string]float64{
		featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 1,
		chInfo("1", "first", "", "", "", "", "", ""): 1, chInfo("2", "second", "", "", "", "", "", ""): 1,
		chKey("online", "1"): 0,
	})
}

// An empty list (a DVR's analogue channels only) asks for no status.
func TestChannelsEmptyList(t *testing.T) {
	sim, d := startProbe(t, simulator.Profile{}.WithRecorderChannels(), nil, "")
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "empty", got, map[string]float64{featureSeries("input_proxy_channels"): 1})
	if s := sim.Stats().Authenticated; s[chList] != 1 || s[chStatus] != 0 {
		t.Errorf("list asked %d times, status %d; want 1 and 0", s[chList], s[chStatus])
	}
}

// Status missing (notSupport) leaves the channels and online absent; a
// status that fails is the area's error, the list's series still out; a
// list that fails is the area's error.
func TestChannelsStatusAndListFailures(t *testing.T) {
	one := simulator.RecorderChannel{ID: 1, Protocol: "HIKVISION", UserName: "admin"}
	info := chInfo("1", "", "", "HIKVISION", "", "", "", "")

	p := simulator.Profile{}.WithRecorderChannels(one)
	p.NotSupported = []string{chStatus}
	_, d := startProbe(t, p, nil, "")
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "status notSupport", got, map[string]float64{
		featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 0,
		info: 1, chKey("admin_account", "1"): 1,
	})

	p = simulator.Profile{}.WithRecorderChannels(one)
	p.Endpoints[chStatus] = simulator.Endpoint{Status: 500, Body: simulator.ResponseStatusXML(simulator.NamespaceHikvision20, "/ISAPI/ContentMgmt/InputProxy/channels/status", 3, "Device Error", "deviceError")}
	_, d = startProbe(t, p, nil, "")
	got, err = collectChannels(t, d)
	if err == nil || !strings.Contains(err.Error(), "channels/status") {
		t.Errorf("status 500: err = %v", err)
	}
	promtest.Diff(t, "status 500", got, map[string]float64{featureSeries("input_proxy_channels"): 1, info: 1, chKey("admin_account", "1"): 1})

	for name, e := range map[string]simulator.Endpoint{
		"500":            {Status: 500},
		"ResponseStatus": {Body: simulator.NotSupportedXML(simulator.NamespaceHikvision20, "/ISAPI/ContentMgmt/InputProxy/channels")},
		"broken XML":     {Body: []byte("<InputProxyChannelList><InputProxyChannel>")},
	} {
		sim, d := startProbe(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{chList: e}}, nil, "")
		got, err := collectChannels(t, d)
		if err == nil {
			t.Errorf("list %s: no error", name)
		}
		promtest.Diff(t, "list "+name, got, map[string]float64{})
		if n := sim.Stats().Authenticated[chStatus]; n != 0 {
			t.Errorf("list %s: status asked %d times", name, n)
		}
	}
}

// The advisory table is the device's: configured entries are added, and a
// configured id replaces the built-in entries of that id. Every channel
// gets a verdict on every advisory of the merged table.
func TestChannelsConfiguredAdvisories(t *testing.T) {
	p := simulator.Profile{}.WithRecorderChannels(
		simulator.RecorderChannel{ID: 1, Model: "DS-2CD2386G2-IU", FirmwareVersion: "V5.7.15 build 240201"},
		simulator.RecorderChannel{ID: 2, Model: "DS-2CD2386G2-IU", FirmwareVersion: "V5.7.18 build 240826"},
		simulator.RecorderChannel{ID: 3, Model: "DS-KV6113-WPE1(C)", FirmwareVersion: "V2.2.65 build 201012"},
		// A build inside the built-in CVE-2021-36260 heuristic (which
		// covers every camera by deviceType) but not a DS-KV model.
		simulator.RecorderChannel{ID: 4, Model: "DS-2CD2386G2-IU", FirmwareVersion: "V5.5.0 build 200101"},
	)
	_, d := startProbe(t, p, nil, `firmware_advisories:
  - id: SITE-2026-001
    models: ["DS-2CD2*G2*"]
    max_version: V5.7.15
  - id: CVE-2021-36260
    models: ["DS-KV*"]
    max_build: "210627"
`)
	got, err := collectChannels(t, d)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{featureSeries("input_proxy_channels"): 1, featureSeries("input_proxy_channels_status"): 1}
	for id, c := range map[string]struct {
		model, version, build string
		built                 float64
	}{
		"1": {"DS-2CD2386G2-IU", "V5.7.15", "240201", midnightUTC(2024, time.February, 1)},
		"2": {"DS-2CD2386G2-IU", "V5.7.18", "240826", midnightUTC(2024, time.August, 26)},
		"3": {"DS-KV6113-WPE1(C)", "V2.2.65", "201012", midnightUTC(2020, time.October, 12)},
		"4": {"DS-2CD2386G2-IU", "V5.5.0", "200101", midnightUTC(2020, time.January, 1)},
	} {
		want[chInfo(id, "", "", "", c.model, "", c.version, c.build)] = 1
		want[chKey("firmware_build_timestamp_seconds", id)] = c.built
		want[chKey("online", id)] = 1
	}
	ids := chProbeAdvisoryIDs(d)
	if !slices.Equal(ids, []string{"CVE-2017-7921", "CVE-2021-36260", "SITE-2026-001"}) {
		t.Fatalf("merged advisory ids %v", ids)
	}
	// SITE-2026-001 is added: up to V5.7.15 of DS-2CD2*G2*, 0 for the
	// DS-KV model outside its family.
	chVerdicts(t, want, "1", ids, "SITE-2026-001")
	chVerdicts(t, want, "2", ids)
	// The configured CVE-2021-36260 replaces the built-in one: it covers
	// only DS-KV models now, not every camera, so channel 4's old build,
	// which the built-in heuristic would flag, is 0.
	chVerdicts(t, want, "3", ids, "CVE-2021-36260")
	chVerdicts(t, want, "4", ids, "SITE-2026-001")
	promtest.Diff(t, "configured advisories", got, want)
}

// A recorder with 256 IP channels: the area costs one list and one status
// request whatever the channel count, stays within the module's timeout,
// and, with every registered collector running at once as in a probe,
// the device never sees more than max_concurrent_requests in flight.
func TestChannelsLargeRecorder(t *testing.T) {
	const n = 256
	channels := make([]simulator.RecorderChannel, n)
	for i := range channels {
		channels[i] = simulator.RecorderChannel{
			ID: i + 1, Name: fmt.Sprintf("camera %03d", i+1), Protocol: "HIKVISION",
			IPAddress: fmt.Sprintf("192.168.%d.%d", 254-i/250, 2+i%250), UserName: "admin", Password: "Cam-Secret-Pa55",
			Model: "DS-2CD2386G2-IU", SerialNumber: fmt.Sprintf("DS-2CD2386G2-IU20240201AAWRK%08d", i+1),
			FirmwareVersion: "V5.7.15 build 240201", CertificateValidation: simulator.Bool(false), Offline: i%16 == 0,
		}
	}
	p := simulator.CaptureProfile("DS-7616NI-K2").WithRecorderChannels(channels...)
	t.Logf("the list is %d kB", len(p.Endpoints[chList].Body)>>10)
	const maxConc = 2
	sim, d := startProbe(t, p, nil, fmt.Sprintf("    max_concurrent_requests: %d\n    timeout: 10s\n", maxConc))
	sim.SetLatency(5 * time.Millisecond) // let the probe's requests overlap

	names := Names()
	var all []Collector
	for _, name := range names {
		c, _ := Lookup(name)
		all = append(all, c)
	}
	self := slices.Index(names, "channels")
	if self < 0 {
		t.Fatal("channels is not registered")
	}
	for probe, wantList := range []int{1, 0} { // cold, then warm: the list is cached
		sim.ResetStats()
		start := time.Now()
		ms, errs := runProbe(t, d, nil, time.Duration(d.Module.Timeout), all...)
		took := time.Since(start)
		for i, err := range errs {
			if err != nil && i != self {
				t.Logf("probe %d: collector %s: %v", probe, names[i], err)
			}
		}
		if errs[self] != nil {
			t.Fatalf("probe %d: channels: %v", probe, errs[self])
		}
		if timeout := time.Duration(d.Module.Timeout); took >= timeout {
			t.Errorf("probe %d took %v, the module's timeout is %v", probe, took, timeout)
		}
		s := sim.Stats()
		if a := s.Authenticated; a[chList] != wantList || a[chStatus] != 1 {
			t.Errorf("probe %d: list asked %d times, status %d; want %d and 1", probe, a[chList], a[chStatus], wantList)
		}
		// Every request to the area's paths, the cold probe's one Digest
		// challenge (on whichever path draws it) included.
		if sent := s.ByPath[chList] + s.ByPath[chStatus]; sent > wantList+1+1-probe {
			t.Errorf("probe %d: %d requests to the channel paths", probe, sent)
		}
		if s.MaxInFlight > maxConc {
			t.Errorf("probe %d: %d requests in flight, max_concurrent_requests is %d", probe, s.MaxInFlight, maxConc)
		}
		counts := map[string]int{}
		for k, v := range promtest.Series(t, ConstMetrics(ms)) {
			name, _, _ := strings.Cut(k, "{")
			if strings.HasPrefix(name, "hikvision_channel_") {
				counts[strings.TrimPrefix(name, "hikvision_channel_")]++
			}
			if strings.Contains(k, "Cam-Secret-Pa55") {
				t.Errorf("the camera password reached %s", k)
			}
			if k == chKey("online", "17") && v != 0 {
				t.Errorf("channel 17 is offline, online = %v", v)
			}
		}
		// A verdict on every advisory of the table for every channel.
		want := map[string]int{"info": n, "online": n, "admin_account": n, "certificate_validation_enabled": n,
			"firmware_build_timestamp_seconds": n, "firmware_advisory": n * len(chProbeAdvisoryIDs(d))}
		if !maps.Equal(counts, want) {
			t.Errorf("probe %d: series per metric %v, want %v", probe, counts, want)
		}
		t.Logf("probe %d: %d requests (%v), %d in flight at most, %v", probe, s.Requests, s.ByPath, s.MaxInFlight, took.Round(time.Millisecond))
	}
}
