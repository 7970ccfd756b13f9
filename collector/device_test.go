package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// devConfigYAML is the config of the device collector tests: one module
// and firmware minimums that put some captures below and some above.
const devConfigYAML = `
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

func devConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// devStart runs a simulated device and a Device that points at it.
func devStart(t *testing.T, p simulator.Profile, cfg *config.Config) (*Probe, *simulator.Device) {
	t.Helper()
	sim, err := simulator.New(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	prof := sim.Profile()
	m := cfg.Modules["default"]
	c := isapi.New(isapi.Options{Scheme: "http", Address: sim.Addr(), Username: prof.Username, Password: prof.Password,
		MaxConcurrent: 4, Backoff: time.Minute, BackoffMax: time.Hour, CacheTTL: time.Duration(m.CacheTTL)})
	t.Cleanup(c.Close)
	d := &Probe{
		Target: &config.Target{Name: "sim", Address: sim.Addr(), ModuleName: "default", Module: m},
		Module: m, Config: cfg, Client: c, Values: NewValues(nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now(),
	}
	return d, sim
}

// devCollect runs the device collector and returns every series it
// emitted as `name{label="value",...}` -> value, after checking that the
// metrics are well formed and lint-clean.
func devCollect(t *testing.T, d *Probe) (map[string]float64, error) {
	t.Helper()
	var m Metrics
	err := deviceCollector{}.Collect(context.Background(), d, &m)
	if len(m.err) > 0 {
		t.Fatalf("invalid metrics: %v", m.err)
	}
	return devSeries(t, m.out), err
}

func devSeries(t *testing.T, ms []prometheus.Metric) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(ConstMetrics(ms))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			default:
				t.Fatalf("%s: unexpected metric type", key)
			}
		}
	}
	return out
}

func devInfoKey(model, serial, fw, build, typ, name, mac string) string {
	return fmt.Sprintf("hikvision_device_info{device_name=%q,device_type=%q,firmware_build=%q,firmware_version=%q,mac_address=%q,model=%q,serial_number=%q}",
		name, typ, build, fw, mac, model, serial)
}

func devMidnight(y int, m time.Month, d int) float64 {
	return float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix())
}

func devDiff(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := got[k]; !ok {
			t.Errorf("missing %s %v", k, want[k])
		} else if v != want[k] {
			t.Errorf("%s = %v, want %v", k, v, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s %v", k, got[k])
		}
	}
}

const (
	devFeatureOK      = `hikvision_feature_supported{feature="device_info"}`
	devCVE2017        = `hikvision_firmware_advisory{cve="CVE-2017-7921"}`
	devCVE2021        = `hikvision_firmware_advisory{cve="CVE-2021-36260"}`
	devBelowMinimum   = `hikvision_firmware_below_minimum`
	devBuildTimestamp = `hikvision_firmware_build_timestamp_seconds`
)

// Every capture profile, through the simulator, with the exact series.
func TestDeviceCollectorCaptureProfiles(t *testing.T) {
	cases := map[string]map[string]float64{
		"DS-2CD2146G2-ISU": {
			devInfoKey("DS-2CD2146G2-ISU", "DS-2CD2146G2-ISU00000000AAWRG00000000", "V5.7.17", "240606", "IPCamera", "IP CAMERA", "cb:6e:4f:d0:7b:1f"): 1,
			devBuildTimestamp: devMidnight(2024, time.June, 6), devCVE2021: 0, devBelowMinimum: 0,
		},
		"DS-2CD2346G2-ISU": {
			devInfoKey("DS-2CD2346G2-ISU/SL", "DS-2CD2346G2-ISU/SL00000000AAWRJ00000000", "V5.7.18", "240826", "IPCamera", "CAMERA 1", "e0:2c:37:93:d9:54"): 1,
			devBuildTimestamp: devMidnight(2024, time.August, 26), devCVE2021: 0, devBelowMinimum: 0,
		},
		"DS-2CD2443G0-IW": { // build 200316 predates the CVE-2021-36260 fixed builds
			devInfoKey("DS-2CD2443G0-IW", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.6.5", "200316", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
			devBuildTimestamp: devMidnight(2020, time.March, 16), devCVE2021: 1, devBelowMinimum: 1,
		},
		"DS-2CD2T46G2-ISU": { // DS-2CD2T* asks for V5.7.20: first match wins
			devInfoKey("DS-2CD2T46G2-ISU/SL", "DS-2CD2T46G2-ISU/SL00000000AAWRG00000000", "V5.7.18", "240826", "IPCamera", "CAMERA 2", "4f:e4:2f:81:cd:1b"): 1,
			devBuildTimestamp: devMidnight(2024, time.August, 26), devCVE2021: 0, devBelowMinimum: 1,
		},
		"DS-2CD2T86G2-ISU": {
			devInfoKey("DS-2CD2T86G2-ISU/SL", "DS-2CD2T86G2-ISU/SL00000000AAWRAE0000000", "V5.7.18", "240826", "IPCamera", "CAMERA 3", "1e:70:fe:e0:b2:be"): 1,
			devBuildTimestamp: devMidnight(2024, time.August, 26), devCVE2021: 0, devBelowMinimum: 1,
		},
		"DS-2SE4C425MWG-E-26": { // no minimum matches a DS-2SE
			devInfoKey("DS-2SE4C425MWG-E-26", "DS-2SE4C425MWG-E/0000000000AAWRFC0000000", "V5.8.1", "240929", "IPDome", "IP DOME", "46:c0:7b:b4:78:f6"): 1,
			devBuildTimestamp: devMidnight(2024, time.September, 29), devCVE2021: 0,
		},
		"DS-7608NXI-I2": { // NVRs: no advisory covers them; V4.62.210 < V4.70.0
			devInfoKey("DS-7608NXI-I2/8P/S", "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU", "V4.62.210", "230619", "NVR", "nvr", "e0:44:cf:0b:a7:98"): 1,
			devBuildTimestamp: devMidnight(2023, time.June, 19), devBelowMinimum: 1,
		},
		"DS-7616NI-K2": {
			devInfoKey("DS-7616NI-K2", "DS-7616NI-K20000000000CCRRG00000000WCVU", "V4.74.210", "240108", "NVR", "NVR", "87:02:30:0a:c5:06"): 1,
			devBuildTimestamp: devMidnight(2024, time.January, 8), devBelowMinimum: 0,
		},
		"DS-7616NI-Q2": {
			devInfoKey("DS-7616NI-Q2/16P", "DS-7616NI-Q2/00P0000000000CCRRE00000000WCVU", "V4.30.097", "240401", "NVR", "Network Video Recorder", "52:a7:c0:3b:a5:10"): 1,
			devBuildTimestamp: devMidnight(2024, time.April, 1), devBelowMinimum: 1,
		},
		"iDS-7208HQHI-M1": { // DVR: no advisory, no minimum
			devInfoKey("iDS-7208HQHI-M1(A)/S(C)", "iDS-7208HQHI-M0(A)/S(C)0000000000CCWRFD0000000WCVU", "V4.75.011", "240625", "DVR", "Embedded Net DVR", "e5:58:62:82:ed:41"): 1,
			devBuildTimestamp: devMidnight(2024, time.June, 25),
		},
		"ipc1-verbatim": {
			devInfoKey("DS-2CD2386G2-IU", "DS-2CD2386G2-IU00000000AAWRJ00000000", "V5.7.18", "240826", "IPCamera", "yard", "a6:63:9e:f8:01:09"): 1,
			devBuildTimestamp: devMidnight(2024, time.August, 26), devCVE2021: 0, devBelowMinimum: 0,
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
		t.Run(model, func(t *testing.T) {
			d, _ := devStart(t, simulator.CaptureProfile(model), devConfig(t, devConfigYAML))
			got, err := devCollect(t, d)
			if err != nil {
				t.Fatalf("collector failed: %v", err)
			}
			want = maps.Clone(want)
			if len(want) == 0 {
				want[devFeatureOK] = 0
			} else {
				want[devFeatureOK] = 1
			}
			devDiff(t, got, want)
		})
	}
	if len(models) != len(cases) {
		t.Errorf("%d profiles, %d cases", len(models), len(cases))
	}
}

// devVulnerableProfile is a real capture turned into an older device by
// editing its deviceInfo.
func devVulnerableProfile(base string, elements map[string]string) simulator.Profile {
	p := simulator.CaptureProfile(base)
	body := p.Endpoints["GET "+isapi.PathDeviceInfo].Body
	for _, k := range slices.Sorted(maps.Keys(elements)) {
		body = simulator.SetElement(body, k, elements[k])
	}
	p.Endpoints["GET "+isapi.PathDeviceInfo] = simulator.Endpoint{Body: body}
	return p
}

func TestDeviceCollectorVulnerableDevices(t *testing.T) {
	for _, tc := range []struct {
		name     string
		base     string
		elements map[string]string
		cfg      string
		want     map[string]float64
	}{
		{
			// isapi.md §1: the DS-2CD2532F-IWS fixture, V5.2.0 build 140721.
			name: "DS-2CD2532F-IWS V5.2.0 build 140721",
			base: "DS-2CD2443G0-IW",
			elements: map[string]string{"model": "DS-2CD2532F-IWS", "serialNumber": "DS-2CD2532F-IWS20140721AAWR000000000",
				"firmwareVersion": "V5.2.0", "firmwareReleasedDate": "build 140721"},
			cfg: devConfigYAML,
			want: map[string]float64{
				devInfoKey("DS-2CD2532F-IWS", "DS-2CD2532F-IWS20140721AAWR000000000", "V5.2.0", "140721", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
				devBuildTimestamp: devMidnight(2014, time.July, 21), devCVE2017: 1, devCVE2021: 1, devBelowMinimum: 1,
			},
		},
		{
			// The demo weak-cam: DS-2CD2132F-IS on V5.3.0 build 150410.
			name: "DS-2CD2132F-IS V5.3.0 build 150410",
			base: "DS-2CD2443G0-IW",
			elements: map[string]string{"model": "DS-2CD2132F-IS", "serialNumber": "DS-2CD2132F-IS20150410AAWR512345678",
				"firmwareVersion": "V5.3.0", "firmwareReleasedDate": "build 150410"},
			cfg: devConfigYAML,
			want: map[string]float64{
				devInfoKey("DS-2CD2132F-IS", "DS-2CD2132F-IS20150410AAWR512345678", "V5.3.0", "150410", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
				devBuildTimestamp: devMidnight(2015, time.April, 10), devCVE2017: 1, devCVE2021: 1, devBelowMinimum: 1,
			},
		},
		{
			// Same family after the 2017 fix, before the 2021 one.
			name:     "DS-2CD2132F-IS V5.4.5 build 170123",
			base:     "DS-2CD2443G0-IW",
			elements: map[string]string{"model": "DS-2CD2132F-IS", "firmwareVersion": "V5.4.5", "firmwareReleasedDate": "build 170123"},
			cfg:      devConfigYAML,
			want: map[string]float64{
				devInfoKey("DS-2CD2132F-IS", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.4.5", "170123", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
				devBuildTimestamp: devMidnight(2017, time.January, 23), devCVE2017: 0, devCVE2021: 1, devBelowMinimum: 1,
			},
		},
		{
			// A build that is not a date: no timestamp, no build-based
			// verdict; CVE-2017-7921 is judged on the version alone.
			name:     "DS-2CD2032F-I V5.3.0 unreadable build",
			base:     "DS-2CD2443G0-IW",
			elements: map[string]string{"model": "DS-2CD2032F-I", "firmwareVersion": "V5.3.0", "firmwareReleasedDate": "unknown"},
			cfg:      "modules:\n  default:\n    username: admin\n    password: password\n    scheme: http\n",
			want: map[string]float64{
				devInfoKey("DS-2CD2032F-I", "DS-2CD2443G0-IW00000000AAWRE00000000", "V5.3.0", "", "IPCamera", "Pietro", "c6:e6:61:0a:46:37"): 1,
				devCVE2017: 1,
			},
		},
		{
			// Config advisories add to and override the built-in table.
			name: "config advisories on an NVR capture",
			base: "DS-7608NXI-I2",
			cfg: devConfigYAML + `
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
				devInfoKey("DS-7608NXI-I2/8P/S", "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU", "V4.62.210", "230619", "NVR", "nvr", "e0:44:cf:0b:a7:98"): 1,
				devBuildTimestamp: devMidnight(2023, time.June, 19), devBelowMinimum: 1,
				`hikvision_firmware_advisory{cve="HSRC-TEST-01"}`: 1, devCVE2021: 0,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := devStart(t, devVulnerableProfile(tc.base, tc.elements), devConfig(t, tc.cfg))
			got, err := devCollect(t, d)
			if err != nil {
				t.Fatal(err)
			}
			want := maps.Clone(tc.want)
			want[devFeatureOK] = 1
			devDiff(t, got, want)
		})
	}
}
