package collector

import (
	"cmp"
	"maps"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// deviceConfigYAML is the config of the device collector tests: one
// module and firmware minimums that put some captures below and some above.
const deviceConfigYAML = `
modules:
  default:
    username: admin
    password: password
    scheme: http
    collectors: [device]
firmware_minimums:
  - models: ["DS-2CD2T*"]
    version: V5.7.20
  - models: ["DS-2CD2*"]
    version: V5.7.15
  - models: ["DS-76*"]
    version: V4.70.0
`

const (
	cve2017Series        = `hikvision_firmware_advisory{cve="CVE-2017-7921"}`
	cve2021Series        = `hikvision_firmware_advisory{cve="CVE-2021-36260"}`
	belowMinimumSeries   = `hikvision_firmware_below_minimum`
	buildTimestampSeries = `hikvision_firmware_build_timestamp_seconds`
)

// Every capture profile, through the simulator, with the exact series, in
// every shape (deviceInfo as captured or one level deeper).
func TestDeviceCollectorCaptureProfiles(t *testing.T) {
	cases := map[string]map[string]float64{
		"DS-2CD2146G2-ISU": {
			deviceInfoSeries("DS-2CD2146G2-ISU", "DS-2CD2146G2-ISU00000000AAWRG00000000", "V5.7.17", "240606", "IPCamera", "IP CAMERA", "cb:6e:4f:d0:7b:1f"): 1,
			buildTimestampSeries: midnightUTC(2024, time.June, 6), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 0,
		},
		"DS-2CD2346G2-ISU": {
			deviceInfoSeries("DS-2CD2346G2-ISU/SL", "DS-2CD2346G2-ISU/SL00000000AAWRJ00000000", "V5.7.18", "240826", "IPCamera", "CAMERA 1", "e0:2c:37:93:d9:54"): 1,
			buildTimestampSeries: midnightUTC(2024, time.August, 26), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 0,
		},
		"DS-2CD2443G0-IW": { // build 200316 predates the CVE-2021-36260 fixed builds
			deviceInfoSeries("DS-2CD2443G0-IW", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.6.5", "200316", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
			buildTimestampSeries: midnightUTC(2020, time.March, 16), cve2017Series: 0, cve2021Series: 1, belowMinimumSeries: 1,
		},
		"DS-2CD2T46G2-ISU": { // DS-2CD2T* asks for V5.7.20: first match wins
			deviceInfoSeries("DS-2CD2T46G2-ISU/SL", "DS-2CD2T46G2-ISU/SL00000000AAWRG00000000", "V5.7.18", "240826", "IPCamera", "CAMERA 2", "4f:e4:2f:81:cd:1b"): 1,
			buildTimestampSeries: midnightUTC(2024, time.August, 26), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 1,
		},
		"DS-2CD2T86G2-ISU": {
			deviceInfoSeries("DS-2CD2T86G2-ISU/SL", "DS-2CD2T86G2-ISU/SL00000000AAWRAE0000000", "V5.7.18", "240826", "IPCamera", "CAMERA 3", "1e:70:fe:e0:b2:be"): 1,
			buildTimestampSeries: midnightUTC(2024, time.August, 26), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 1,
		},
		"DS-2SE4C425MWG-E-26": { // no minimum matches a DS-2SE
			deviceInfoSeries("DS-2SE4C425MWG-E-26", "DS-2SE4C425MWG-E/0000000000AAWRFC0000000", "V5.8.1", "240929", "IPDome", "IP DOME", "46:c0:7b:b4:78:f6"): 1,
			buildTimestampSeries: midnightUTC(2024, time.September, 29), cve2017Series: 0, cve2021Series: 0,
		},
		// NVRs: outside every family of both advisories, so checked and
		// not affected (0); V4.62.210 < V4.70.0.
		"DS-7608NXI-I2": {
			deviceInfoSeries("DS-7608NXI-I2/8P/S", "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU", "V4.62.210", "230619", "NVR", "nvr", "e0:44:cf:0b:a7:98"): 1,
			buildTimestampSeries: midnightUTC(2023, time.June, 19), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 1,
		},
		"DS-7616NI-K2": {
			deviceInfoSeries("DS-7616NI-K2", "DS-7616NI-K20000000000CCRRG00000000WCVU", "V4.74.210", "240108", "NVR", "NVR", "87:02:30:0a:c5:06"): 1,
			buildTimestampSeries: midnightUTC(2024, time.January, 8), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 0,
		},
		"DS-7616NI-Q2": {
			deviceInfoSeries("DS-7616NI-Q2/16P", "DS-7616NI-Q2/00P0000000000CCRRE00000000WCVU", "V4.30.097", "240401", "NVR", "Network Video Recorder", "52:a7:c0:3b:a5:10"): 1,
			buildTimestampSeries: midnightUTC(2024, time.April, 1), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 1,
		},
		"iDS-7208HQHI-M1": { // DVR: not affected by either advisory, no minimum
			deviceInfoSeries("iDS-7208HQHI-M1(A)/S(C)", "iDS-7208HQHI-M0(A)/S(C)0000000000CCWRFD0000000WCVU", "V4.75.011", "240625", "DVR", "Embedded Net DVR", "e5:58:62:82:ed:41"): 1,
			buildTimestampSeries: midnightUTC(2024, time.June, 25), cve2017Series: 0, cve2021Series: 0,
		},
		"ipc1-verbatim": {
			deviceInfoSeries("DS-2CD2386G2-IU", "DS-2CD2386G2-IU00000000AAWRJ00000000", "V5.7.18", "240826", "IPCamera", "yard", "a6:63:9e:f8:01:09"): 1,
			buildTimestampSeries: midnightUTC(2024, time.August, 26), cve2017Series: 0, cve2021Series: 0, belowMinimumSeries: 0,
		},
		// The access terminal has no deviceInfo: the feature is absent and
		// the collector still succeeds.
		"k1a340fwx": {},
	}
	models := append(simulator.CaptureModels(), "ipc1-verbatim")
	for _, model := range models {
		want, ok := cases[model]
		if !ok {
			t.Errorf("capture profile %s has no case", model)
			continue
		}
		want = maps.Clone(want)
		if len(want) == 0 {
			want[featureSeries("device_info")] = 0
		} else {
			want[featureSeries("device_info")] = 1
		}
		for shape, nesting := range nestings {
			t.Run(model+", "+shape, func(t *testing.T) {
				p := simulator.CaptureProfile(model)
				p.Nesting = nesting
				d := newProbe(t, simulator.Start(t, p), nil, parseConfig(t, deviceConfigYAML))
				got, err := collect(t, deviceCollector{}, d, nil)
				if err != nil {
					t.Fatalf("collector failed: %v", err)
				}
				promtest.Diff(t, "", got, want)
			})
		}
	}
	if len(models) != len(cases) {
		t.Errorf("%d profiles, %d cases", len(models), len(cases))
	}
}

func TestDeviceCollectorVulnerableDevices(t *testing.T) {
	// edited is the device_info series of the DS-2CD2443G0-IW capture
	// ("Pietro") turned into an older camera.
	edited := func(model, serial, version, build string) string {
		return deviceInfoSeries(model, serial, version, build, "IPCamera", "Pietro", "c6:e6:61:0a:46:37")
	}
	for _, tc := range []struct {
		name string
		base string            // a capture model; "": DS-2CD2443G0-IW
		edit map[string]string // deviceInfo elements replaced
		cfg  string            // "": deviceConfigYAML
		want map[string]float64
	}{
		{
			// docs/isapi.md §1: the DS-2CD2532F-IWS fixture, V5.2.0 build 140721.
			name: "DS-2CD2532F-IWS V5.2.0 build 140721",
			edit: map[string]string{"model": "DS-2CD2532F-IWS", "serialNumber": "DS-2CD2532F-IWS20140721AAWR000000000",
				"firmwareVersion": "V5.2.0", "firmwareReleasedDate": "build 140721"},
			want: map[string]float64{edited("DS-2CD2532F-IWS", "DS-2CD2532F-IWS20140721AAWR000000000", "V5.2.0", "140721"): 1,
				buildTimestampSeries: midnightUTC(2014, time.July, 21), cve2017Series: 1, cve2021Series: 1, belowMinimumSeries: 1},
		},
		{
			// The demo weak-cam: DS-2CD2132F-IS on V5.3.0 build 150410.
			name: "DS-2CD2132F-IS V5.3.0 build 150410",
			edit: map[string]string{"model": "DS-2CD2132F-IS", "serialNumber": "DS-2CD2132F-IS20150410AAWR512345678",
				"firmwareVersion": "V5.3.0", "firmwareReleasedDate": "build 150410"},
			want: map[string]float64{edited("DS-2CD2132F-IS", "DS-2CD2132F-IS20150410AAWR512345678", "V5.3.0", "150410"): 1,
				buildTimestampSeries: midnightUTC(2015, time.April, 10), cve2017Series: 1, cve2021Series: 1, belowMinimumSeries: 1},
		},
		{
			// Same family after the 2017 fix, before the 2021 one.
			name: "DS-2CD2132F-IS V5.4.5 build 170123",
			edit: map[string]string{"model": "DS-2CD2132F-IS", "firmwareVersion": "V5.4.5", "firmwareReleasedDate": "build 170123"},
			want: map[string]float64{edited("DS-2CD2132F-IS", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.4.5", "170123"): 1,
				buildTimestampSeries: midnightUTC(2017, time.January, 23), cve2017Series: 0, cve2021Series: 1, belowMinimumSeries: 1},
		},
		{
			// A build that is not a date: no timestamp, no build-based
			// verdict; CVE-2017-7921 is judged on the version alone, and
			// CVE-2021-36260, which bounds only the build, is absent.
			name: "DS-2CD2032F-I V5.3.0 unreadable build",
			edit: map[string]string{"model": "DS-2CD2032F-I", "firmwareVersion": "V5.3.0", "firmwareReleasedDate": "unknown"},
			cfg:  "modules:\n  default:\n    username: admin\n    password: password\n    scheme: http\n",
			want: map[string]float64{edited("DS-2CD2032F-I", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.3.0", ""): 1,
				cve2017Series: 1},
		},
		{
			// Config advisories add to and override the built-in table.
			name: "config advisories on an NVR capture",
			base: "DS-7608NXI-I2",
			cfg: deviceConfigYAML + `
firmware_advisories:
  - id: HSRC-TEST-01
    models: ["DS-7608NXI-*"]
    max_version: V4.62.210
    min_build: "230101"
  - id: CVE-2021-36260
    device_types: [NVR]
    max_build: "230618"
`,
			want: map[string]float64{
				deviceInfoSeries("DS-7608NXI-I2/8P/S", "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU", "V4.62.210", "230619", "NVR", "nvr", "e0:44:cf:0b:a7:98"): 1,
				buildTimestampSeries: midnightUTC(2023, time.June, 19), belowMinimumSeries: 1,
				`hikvision_firmware_advisory{cve="HSRC-TEST-01"}`: 1, cve2021Series: 0, cve2017Series: 0,
			},
		},
		{
			// Outside every family of a configured advisory: checked, 0.
			name: "config advisory of another family",
			cfg: deviceConfigYAML + `
firmware_advisories:
  - id: HSRC-TEST-02
    models: ["DS-76*"]
    max_version: V9.9.9
`,
			want: map[string]float64{edited("DS-2CD2443G0-IW", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.6.5", "200316"): 1,
				buildTimestampSeries: midnightUTC(2020, time.March, 16), cve2017Series: 0, cve2021Series: 1, belowMinimumSeries: 1,
				`hikvision_firmware_advisory{cve="HSRC-TEST-02"}`: 0},
		},
		{
			// Version unreadable, build readable: the build alone decides
			// where an advisory bounds it; families still exclude.
			name: "DS-2CD2032F-I unreadable version",
			edit: map[string]string{"model": "DS-2CD2032F-I", "firmwareVersion": "unknown", "firmwareReleasedDate": "build 150410"},
			cfg:  "modules:\n  default:\n    username: admin\n    password: password\n    scheme: http\n",
			want: map[string]float64{edited("DS-2CD2032F-I", "DS-2CD2443G0-IW00000000AAWRE00000000", "unknown", "150410"): 1,
				buildTimestampSeries: midnightUTC(2015, time.April, 10), cve2017Series: 1, cve2021Series: 1},
		},
		{
			// Neither version nor build readable: no verdict at all, not
			// even for the advisories whose families exclude the model.
			name: "firmware unreadable",
			edit: map[string]string{"firmwareVersion": "unknown", "firmwareReleasedDate": "soon"},
			want: map[string]float64{edited("DS-2CD2443G0-IW", "DS-2CD2443G0-IW00000000AAWRE00000000", "unknown", ""): 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, cfg := cmp.Or(tc.base, "DS-2CD2443G0-IW"), cmp.Or(tc.cfg, deviceConfigYAML)
			d := newProbe(t, simulator.Start(t, withDeviceInfo(base, tc.edit)), nil, parseConfig(t, cfg))
			got, err := collect(t, deviceCollector{}, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(tc.want)
			want[featureSeries("device_info")] = 1
			promtest.Diff(t, "", got, want)
		})
	}
}
