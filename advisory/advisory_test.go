// An external test package: the configuration cases parse YAML with
// config.Parse, and config imports advisory.
package advisory_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

func TestVersionCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
		ok   bool
	}{
		{"V5.4.0", "V5.4.0", 0, true},
		{"V5.4.0", "V5.10.1", -1, true}, // numeric, not lexical
		{"V5.10.1", "V5.4.0", 1, true},
		{"V5.4", "V5.4.0", 0, true}, // missing components count as 0
		{"V5.4.0.0", "V5.4", 0, true},
		{"V5.4.1", "V5.4", 1, true},
		{"V5.2.0", "V5.3.1", -1, true},
		{"V5.5.800", "V5.5.80", 1, true},
		{"V4.62.210", "V4.7.0", 1, true},
		{"V4.62.210", "V4.70.0", -1, true},
		{"V5.03.020", "V5.3.20", 0, true}, // leading zeros are numbers
		{"V4.30.097", "V4.30.97", 0, true},
		{"v5.7.18", "V5.7.18", 0, true},
		{"5.7.18", "V5.7.17", 1, true},
		{" V5.7.18 ", "V5.7.18", 0, true},
		{"V5.3.0 build 150410", "V5.3.0", 0, true}, // the numeric head is the version
		{"V4.0.1_170123", "V4.0.1", 0, true},
		{"V5.4.0.", "V5.4.0", 0, true},
		{"V6", "V5.99.99", 1, true},
		{"", "V5.4.0", 0, false},
		{"V5.4.0", "", 0, false},
		{"latest", "V5.4.0", 0, false},
		{"V", "V1", 0, false},
		{"V.5.4", "V5.4", 0, false},
		{"V99999999999999999999999.1", "V1", 0, false}, // overflows an int
	} {
		got, ok := advisory.CompareVersions(tc.a, tc.b)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d, %v", tc.a, tc.b, got, ok, tc.want, tc.ok)
		}
		if ok {
			if rev, _ := advisory.CompareVersions(tc.b, tc.a); rev != -got {
				t.Errorf("CompareVersions(%q, %q) = %d is not the reverse of %d", tc.b, tc.a, rev, got)
			}
		}
	}
}

func FuzzVersionCompare(f *testing.F) {
	f.Add("V5.4.0", "V5.10.1")
	f.Add("V4.62.210", "V5.03.020")
	f.Add("5.3.0 build", "v")
	f.Fuzz(func(t *testing.T, a, b string) {
		x, okx := advisory.CompareVersions(a, b)
		y, oky := advisory.CompareVersions(b, a)
		if okx != oky || x != -y {
			t.Fatalf("CompareVersions not antisymmetric: (%q,%q)=%d,%v (%q,%q)=%d,%v", a, b, x, okx, b, a, y, oky)
		}
		if s, ok := advisory.CompareVersions(a, a); okx && (!ok || s != 0) {
			t.Fatalf("CompareVersions(%q, %q) = %d, %v", a, a, s, ok)
		}
	})
}

// advInfo is a synthetic deviceInfo.
func advInfo(model, deviceType, version, released string) *isapi.DeviceInfo {
	return &isapi.DeviceInfo{Model: model, DeviceType: deviceType, FirmwareVersion: version, FirmwareReleasedDate: released}
}

// advDevice is what the device collector passes on of a deviceInfo: the
// build only when it is a real date.
func advDevice(info *isapi.DeviceInfo) advisory.Device {
	d := advisory.Device{Model: info.Model, DeviceType: info.DeviceType, FirmwareVersion: info.FirmwareVersion}
	if _, ok := info.FirmwareBuildTime(); ok {
		d.Build = info.FirmwareBuild()
	}
	return d
}

// advVerdicts evaluates the built-in table plus configured advisories and
// returns "ID=0|1" strings, sorted.
func advVerdicts(configured []advisory.Advisory, info *isapi.DeviceInfo) []string {
	var out []string
	for _, r := range advisory.Evaluate(advisory.Merge(configured), advDevice(info)) {
		v := "0"
		if r.Vulnerable {
			v = "1"
		}
		out = append(out, r.ID+"="+v)
	}
	return out
}

// The built-in table: one case per family at each end of its range, just
// outside it, and with the build unknown.
func TestAdvisoryBuiltinCVE20177921(t *testing.T) {
	type fam struct {
		models             []string // examples of the family
		minV, minB         string
		maxV, maxB         string
		beyondV, beforeMin string // a version above max; a version below min
	}
	families := map[string]fam{
		"DS-2CD2xx2F-I": {[]string{"DS-2CD2032F-I", "DS-2CD2132F-IS", "DS-2CD2432F-IW", "DS-2CD2532F-IWS", "DS-2CD2612F-I(B)", "ds-2cd2232f-i5"},
			"V5.2.0", "140721", "V5.4.0", "160530", "V5.4.1", "V5.1.9"},
		"DS-2CD2xx0F-I": {[]string{"DS-2CD2010F-I", "DS-2CD2120F-IWS", "DS-2CD2520F-IS"},
			"V5.2.0", "140721", "V5.4.0", "160401", "V5.4.41", "V5.1.0"},
		"DS-2CD2xx2FWD": {[]string{"DS-2CD2142FWD-IS", "DS-2CD2342FWD-I", "DS-2CD2542FWD-IWS"},
			"V5.3.1", "150410", "V5.4.4", "161125", "V5.4.5", "V5.3.0"},
		"DS-2CD4x2xFWD": {[]string{"DS-2CD4026FWD-A", "DS-2CD4A26FWD-IZS", "DS-2CD4124FWD-IZ"},
			"V5.2.0", "140721", "V5.4.0", "160414", "V5.10.0", "V5.1.99"},
		"DS-2CD4xx5": {[]string{"DS-2CD4135F-IZ", "DS-2CD4065F-A", "DS-2CD4185F-IZ"},
			"V5.2.0", "140721", "V5.4.0", "160421", "V5.4.71", "V4.9.0"},
		"DS-2DFx": {[]string{"DS-2DF5286-AEL", "DS-2DF8236IX-AEL", "DS-2DF7286-A"},
			"V5.2.0", "140805", "V5.4.5", "160928", "V5.4.6", "V5.1.0"},
		"DS-2CD63xx": {[]string{"DS-2CD6332FWD-IV", "DS-2CD6362F-IV"},
			"V5.0.9", "140305", "V5.3.5", "160106", "V5.3.6", "V5.0.8"},
	}
	for name, f := range families {
		for _, model := range f.models {
			// DS-2DF PTZ and every DS-2CD model are also covered by the
			// CVE-2021-36260 heuristic; only look at CVE-2017-7921 here.
			check := func(version, released, want string) {
				t.Helper()
				got := advVerdicts(nil, advInfo(model, "IPCamera", version, released))
				i := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "CVE-2017-7921=") })
				if want == "" {
					if i >= 0 {
						t.Errorf("%s %s %s %q: got %s, want no CVE-2017-7921 verdict", name, model, version, released, got[i])
					}
					return
				}
				if i < 0 || got[i] != "CVE-2017-7921="+want {
					t.Errorf("%s %s %s %q: verdicts %q, want CVE-2017-7921=%s", name, model, version, released, got, want)
				}
			}
			check(f.minV, "build "+f.minB, "1") // lower end, inclusive
			check(f.maxV, "build "+f.maxB, "1") // upper end, inclusive
			check(f.minV, "build "+f.maxB, "1")
			check(f.maxV, "build "+advDayAfter(f.maxB), "0") // build past the range
			check(f.minV, "build "+advDayBefore(f.minB), "0")
			check(f.beyondV, "build "+f.maxB, "0") // version past the range
			check(f.beforeMin, "build "+f.minB, "0")
			check(f.maxV, "", "1") // build unknown: the version alone decides
			check(f.maxV, "build 9999", "1")
			check(f.beyondV, "", "0")
			check("unknown", "build "+f.maxB, "1") // version unreadable: the build alone decides
			check("unknown", "build "+advDayAfter(f.maxB), "0")
			check("unknown", "", "") // nothing to compare: not checked
		}
	}
}

func advDayAfter(b string) string  { return advShiftDay(b, 1) }
func advDayBefore(b string) string { return advShiftDay(b, -1) }

func advShiftDay(b string, days int) string {
	d := isapi.DeviceInfo{FirmwareReleasedDate: b}
	t, ok := d.FirmwareBuildTime()
	if !ok {
		panic(b)
	}
	return t.AddDate(0, 0, days).Format("060102")
}

// Family patterns must not cover neighbouring lines or modern models.
func TestAdvisoryModelPatterns(t *testing.T) {
	var cve7921 []advisory.Advisory
	for _, a := range advisory.Builtin() {
		if a.ID == "CVE-2017-7921" {
			cve7921 = append(cve7921, a)
		}
	}
	covered := func(model string) bool {
		for _, a := range cve7921 {
			if a.Applies(model, "IPCamera") {
				return true
			}
		}
		return false
	}
	for _, model := range []string{"DS-2CD2532F-IWS", "DS-2CD2132F-IS", "DS-2CD2032F-I", "DS-2CD2120F-IWS", "DS-2CD2142FWD-IS",
		"DS-2CD4026FWD-A", "DS-2CD4A26FWD-IZS", "DS-2CD4135F-IZ", "DS-2DF8236IX-AEL", "DS-2CD6362F-IV", "DS-2CD2432F-IW/UK"} {
		if !covered(model) {
			t.Errorf("%s is not covered by any CVE-2017-7921 family", model)
		}
	}
	for _, model := range []string{
		// The real captures: none is in a 2017 family.
		"DS-2CD2146G2-ISU", "DS-2CD2346G2-ISU/SL", "DS-2CD2443G0-IW", "DS-2CD2T46G2-ISU/SL", "DS-2CD2T86G2-ISU/SL",
		"DS-2SE4C425MWG-E-26", "DS-7608NXI-I2/8P/S", "DS-7616NI-K2", "DS-7616NI-Q2/16P", "iDS-7208HQHI-M1(A)/S(C)", "DS-2CD2386G2-IU",
		// Neighbours of the families.
		"DS-2CD2T32-I5", "DS-2CD2032-I", "DS-2CD2D14WD", "DS-2DE4425IW-DE", "DS-2CD3132F-IS", "XDS-2CD2532F-IWS",
		"DS-2CD2532F", "DS-2CD25322F-I", "DS-2CD6232F", "iDS-2CD2532F-IWS",
	} {
		if covered(model) {
			t.Errorf("%s is covered by a CVE-2017-7921 family", model)
		}
	}
}

// docs/isapi.md §1: the DS-2CD2532F-IWS fixture (V5.2.0 build 140721) sits at
// the lower end of the DS-2CD2xx2F-I range.
func TestAdvisoryDS2CD2532FIWS(t *testing.T) {
	got := advVerdicts(nil, advInfo("DS-2CD2532F-IWS", "IPCamera", "V5.2.0", "build 140721"))
	want := []string{"CVE-2017-7921=1", "CVE-2021-36260=1"}
	if !slices.Equal(got, want) {
		t.Errorf("verdicts %q, want %q", got, want)
	}
}

func TestAdvisoryCVE202136260Heuristic(t *testing.T) {
	for _, tc := range []struct {
		model, deviceType, released string
		want                        string // "" = no verdict
	}{
		{"DS-2CD2443G0-IW", "IPCamera", "build 200316", "1"},
		{"DS-2CD2443G0-IW", "IPCamera", "build 210627", "1"},
		{"DS-2CD2443G0-IW", "IPCamera", "build 210628", "0"}, // the fixed build date
		{"DS-2CD2146G2-ISU", "IPCamera", "build 240606", "0"},
		{"DS-2SE4C425MWG-E-26", "IPDome", "build 240929", "0"},
		{"DS-2DE4425IW-DE", "", "build 200101", "1"},      // PTZ by model, no deviceType
		{"DS-2TD1228-2/QA", "", "build 240726", "0"},      // thermal by model
		{"iDS-2CD7146G0-IZS", "", "build 190101", "1"},    // iDS camera by model
		{"OEM-CAM-1", "IPCamera", "build 190101", "1"},    // OEM model by deviceType
		{"OEM-PTZ-1", "ipdome", "build 220101", "0"},      // deviceType case-insensitive
		{"DS-7608NXI-I2/8P/S", "NVR", "build 200101", ""}, // NVRs are not covered
		{"iDS-7208HQHI-M1(A)/S(C)", "DVR", "build 200101", ""},
		{"DS-K1A340FWX", "ACS", "build 200101", ""},
		{"DS-2CD2443G0-IW", "IPCamera", "", ""},             // build unknown: not checked
		{"DS-2CD2443G0-IW", "IPCamera", "build 201340", ""}, // not a date: not checked
	} {
		got := advVerdicts(nil, advInfo(tc.model, tc.deviceType, "V5.6.5", tc.released))
		i := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "CVE-2021-36260=") })
		switch {
		case tc.want == "" && i >= 0:
			t.Errorf("%s %s %q: got %s, want none", tc.model, tc.deviceType, tc.released, got[i])
		case tc.want != "" && (i < 0 || got[i] != "CVE-2021-36260="+tc.want):
			t.Errorf("%s %s %q: verdicts %q, want CVE-2021-36260=%s", tc.model, tc.deviceType, tc.released, got, tc.want)
		}
	}
}

// EvaluateAll, which the device collector reports: a verdict for every
// id, 0 when the model is outside every family of an advisory, absent
// only when the firmware cannot be read (or the device cannot be placed).
func TestAdvisoryEvaluateAll(t *testing.T) {
	site := []advisory.Advisory{
		{ID: "SITE-TYPES", DeviceTypes: []string{"NVR"}, MaxVersion: "V4.70.0"},
		{ID: "SITE-MODELS", Models: []string{"DS-76*"}, MaxBuild: "230101"},
	}
	all := advisory.Merge(site)
	for _, tc := range []struct {
		name                              string
		model, deviceType, version, build string
		want                              string // "ID=0|1" sorted, space-separated
	}{
		{"camera outside both CVE-2017-7921 families and site families", "DS-2CD2146G2-ISU", "IPCamera", "V5.7.17", "240606", "CVE-2017-7921=0 CVE-2021-36260=0 SITE-MODELS=0 SITE-TYPES=0"},
		{"the DS-2CD2532F-IWS", "DS-2CD2532F-IWS", "IPCamera", "V5.2.0", "140721", "CVE-2017-7921=1 CVE-2021-36260=1 SITE-MODELS=0 SITE-TYPES=0"},
		{"NVR: outside both built-in advisories", "DS-7608NXI-I2/8P/S", "NVR", "V4.62.210", "230619", "CVE-2017-7921=0 CVE-2021-36260=0 SITE-MODELS=0 SITE-TYPES=1"},
		{"DVR", "iDS-7208HQHI-M1(A)/S(C)", "DVR", "V4.75.011", "240625", "CVE-2017-7921=0 CVE-2021-36260=0 SITE-MODELS=0 SITE-TYPES=0"},
		// A covering entry that bounds only the side the device does not
		// report cannot judge it: that id is absent; the others stand.
		{"build unreadable", "DS-2CD2032F-I", "IPCamera", "V5.3.0", "", "CVE-2017-7921=1 SITE-MODELS=0 SITE-TYPES=0"},
		{"version unreadable", "DS-7616NI-K2", "NVR", "unknown", "221201", "CVE-2017-7921=0 CVE-2021-36260=0 SITE-MODELS=1"},
		{"firmware unreadable", "DS-2CD2146G2-ISU", "IPCamera", "unknown", "", ""},
		{"firmware missing", "DS-7608NXI-I2", "NVR", "", "", ""},
		// Without a model, families cannot exclude the device; device
		// types still can, for entries of device types alone.
		{"no model, a camera", "", "IPCamera", "V5.7.17", "240606", "CVE-2021-36260=0 SITE-TYPES=0"},
		{"no model, an NVR", "", "NVR", "V4.62.210", "230619", "SITE-TYPES=1"},
		{"no model, no type", "", "", "V4.62.210", "230619", ""},
	} {
		var got []string
		for _, v := range advisory.EvaluateAll(all, advisory.Device{Model: tc.model, DeviceType: tc.deviceType, FirmwareVersion: tc.version, Build: tc.build}) {
			n := "0"
			if v.Vulnerable {
				n = "1"
			}
			got = append(got, v.ID+"="+n)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, strings.Join(got, " "), tc.want)
		}
	}
	// Evaluate, which the channels report, keeps to the advisories that
	// cover the device.
	if got := advisory.Evaluate(all, advisory.Device{Model: "DS-2CD2146G2-ISU", DeviceType: "IPCamera", FirmwareVersion: "V5.7.17", Build: "240606"}); len(got) != 1 || got[0] != (advisory.Verdict{ID: "CVE-2021-36260"}) {
		t.Errorf("Evaluate: %+v", got)
	}
}

// advConfig parses a config with the given extra YAML after one module.
func advConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("modules:\n  default:\n    username: admin\n    password: password\n    scheme: http\n" + extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAdvisoryConfigAddsAndOverrides(t *testing.T) {
	cfg := advConfig(t, `
firmware_advisories:
  - id: CVE-2021-36260
    models: ["DS-2CD2443*"]
    max_build: "200101"
    note: narrower than the built-in heuristic
  - id: CVE-2099-0001
    models: ["DS-76*"]
    min_version: V4.0.0
    max_version: V4.70.0
    url: https://example.com/advisory
  - id: CVE-2099-0001
    device_types: [DVR]
    max_build: "231231"
  - id: CVE-2017-7921
    models: ["DS-2CD2443G0-*"]
    min_version: V5.6.0
    max_version: V5.6.5
`)
	for _, tc := range []struct {
		info *isapi.DeviceInfo
		want []string
	}{
		// The override replaces every built-in entry of the id: the
		// DS-2CD2xx2F-I family is no longer checked, the 2443G0 is.
		{advInfo("DS-2CD2443G0-IW", "IPCamera", "V5.6.5", "build 200316"), []string{"CVE-2017-7921=1", "CVE-2021-36260=0"}},
		{advInfo("DS-2CD2532F-IWS", "IPCamera", "V5.2.0", "build 140721"), nil},
		{advInfo("DS-2CD2146G2-ISU", "IPCamera", "V5.7.17", "build 240606"), nil},
		{advInfo("DS-7608NXI-I2/8P/S", "NVR", "V4.62.210", "build 230619"), []string{"CVE-2099-0001=1"}},
		{advInfo("DS-7616NI-K2", "NVR", "V4.74.210", "build 240108"), []string{"CVE-2099-0001=0"}},
		// Two entries of one id: vulnerable when either range holds.
		{advInfo("iDS-7208HQHI-M1(A)/S(C)", "DVR", "V4.75.011", "build 230625"), []string{"CVE-2099-0001=1"}},
		{advInfo("iDS-7208HQHI-M1(A)/S(C)", "DVR", "V4.75.011", "build 240625"), []string{"CVE-2099-0001=0"}},
	} {
		if got := advVerdicts(cfg.FirmwareAdvisories, tc.info); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s %s: verdicts %q, want %q", tc.info.Model, tc.info.FirmwareVersion, tc.info.FirmwareReleasedDate, got, tc.want)
		}
	}
	// The built-in table itself is untouched by merging.
	if got := advVerdicts(nil, advInfo("DS-2CD2532F-IWS", "IPCamera", "V5.2.0", "build 140721")); len(got) != 2 {
		t.Errorf("built-in table changed by a merge: %q", got)
	}
}

func TestAdvisoryConfigValidation(t *testing.T) {
	base := "modules:\n  default:\n    username: admin\n    password: password\n"
	for _, tc := range []struct{ yaml, err string }{
		{"firmware_advisories:\n  - id: X-1\n    device_types: [IPCamera]\n    max_build: \"210627\"\n", ""},
		{"firmware_advisories:\n  - id: X-1\n    max_build: \"210627\"\n", "firmware_advisories[0]: X-1: models: at least one model pattern is required"},
		{"firmware_advisories:\n  - id: X-1\n    device_types: [\" \"]\n    max_build: \"210627\"\n", "firmware_advisories[0]: X-1: device_types: empty entry"},
		{"firmware_advisories:\n  - id: X-1\n    models: [\"DS-[\"]\n    max_build: \"210627\"\n", `firmware_advisories[0]: X-1: models: bad pattern "DS-["`},
		{"firmware_minimums:\n  - models: [\"DS-2CD*\"]\n    version: V5.7.18\n", ""},
	} {
		_, err := config.Parse([]byte(base + tc.yaml))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.err)
		}
	}
}

// MatchModel: "*" spans the "/" of models such as DS-2CD2346G2-ISU/SL.
func TestAdvisoryMatchModel(t *testing.T) {
	for _, tc := range []struct {
		pattern, model string
		want           bool
	}{
		{"DS-2CD*", "DS-2CD2346G2-ISU/SL", true},
		{"DS-76*", "DS-7608NXI-I2/8P/S", true},
		{"DS-7608NXI-I2/*", "DS-7608NXI-I2/8P/S", true},
		{"DS-7608NXI-I2/8P/S", "DS-7608NXI-I2/8P/S", true},
		{"DS-7608NXI-I2", "DS-7608NXI-I2/8P/S", false},
		{"ds-2cd2??2f-i*", "DS-2CD2532F-IWS", true},
		{"DS-2CD2[0-9][0-9]2F-I*", "DS-2CD2T32F-I", false},
		{"iDS-72*", "iDS-7208HQHI-M1(A)/S(C)", true},
		{"DS-72*", "iDS-7208HQHI-M1(A)/S(C)", false},
		{"DS-2CD2386G2-IU", " DS-2CD2386G2-IU ", true},
		{"DS-2CD2?46G2-ISU?SL", "DS-2CD2346G2-ISU/SL", true},
	} {
		if got := advisory.MatchModel([]string{tc.pattern}, tc.model); got != tc.want {
			t.Errorf("MatchModel(%q, %q) = %v, want %v", tc.pattern, tc.model, got, tc.want)
		}
	}
}

func TestAdvisoryFirmwareMinimum(t *testing.T) {
	cfg := advConfig(t, `
firmware_minimums:
  - models: ["DS-2CD2T*"]
    version: V5.7.20
  - models: ["DS-2CD2*"]
    version: V5.7.15
  - models: ["DS-76*"]
    version: V4.70
`)
	for _, tc := range []struct {
		model, version string
		below, found   bool
	}{
		{"DS-2CD2146G2-ISU", "V5.7.17", false, true},
		{"DS-2CD2146G2-ISU", "V5.7.15", false, true}, // equal is not below
		{"DS-2CD2443G0-IW", "V5.6.5", true, true},
		{"DS-2CD2T46G2-ISU/SL", "V5.7.18", true, true}, // first match wins (T-series)
		{"DS-2CD2346G2-ISU/SL", "V5.7.18", false, true},
		{"DS-7608NXI-I2/8P/S", "V4.62.210", true, true},
		{"DS-7616NI-K2", "V4.74.210", false, true},
		{"DS-7616NI-Q2/16P", "V4.30.097", true, true},
		{"DS-2CD2146G2-ISU", "V5.10.0", false, true},
		{"iDS-7208HQHI-M1(A)/S(C)", "V4.75.011", false, false}, // no entry
		{"DS-2SE4C425MWG-E-26", "V5.8.1", false, false},
		{"DS-2CD2146G2-ISU", "", false, false}, // version unreadable
	} {
		below, found := advisory.BelowMinimum(cfg.FirmwareMinimums, tc.model, tc.version)
		if below != tc.below || found != tc.found {
			t.Errorf("BelowMinimum(%s, %s) = %v, %v; want %v, %v", tc.model, tc.version, below, found, tc.below, tc.found)
		}
	}
}

// Every built-in entry passes the same validation as a configured one.
func TestAdvisoryBuiltinTableValid(t *testing.T) {
	builtin := advisory.Builtin()
	var b strings.Builder
	b.WriteString("modules:\n  default:\n    username: admin\n    password: password\nfirmware_advisories:\n")
	for _, a := range builtin {
		b.WriteString("  - id: " + a.ID + "\n")
		if len(a.Models) > 0 {
			b.WriteString("    models: [\"" + strings.Join(a.Models, "\", \"") + "\"]\n")
		}
		if len(a.DeviceTypes) > 0 {
			b.WriteString("    device_types: [" + strings.Join(a.DeviceTypes, ", ") + "]\n")
		}
		for _, kv := range [][2]string{{"min_version", a.MinVersion}, {"max_version", a.MaxVersion}, {"min_build", a.MinBuild}, {"max_build", a.MaxBuild}} {
			if kv[1] != "" {
				b.WriteString("    " + kv[0] + ": \"" + kv[1] + "\"\n")
			}
		}
		if a.URL == "" || a.Note == "" {
			t.Errorf("%s %v: built-in entries need a url and a note", a.ID, a.Models)
		}
		if a.MinVersion != "" && a.MaxVersion != "" {
			if c, ok := advisory.CompareVersions(a.MinVersion, a.MaxVersion); !ok || c > 0 {
				t.Errorf("%s %v: version range %s..%s is inverted", a.ID, a.Models, a.MinVersion, a.MaxVersion)
			}
		}
		if a.MinBuild != "" && a.MaxBuild != "" && a.MinBuild > a.MaxBuild {
			t.Errorf("%s %v: build range %s..%s is inverted", a.ID, a.Models, a.MinBuild, a.MaxBuild)
		}
	}
	cfg, err := config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(cfg.FirmwareAdvisories) != len(builtin) {
		t.Errorf("%d entries parsed, want %d", len(cfg.FirmwareAdvisories), len(builtin))
	}
	// The table as written in ADVISORIES.md: 7 CVE-2017-7921 families and the heuristic.
	ids := map[string]int{}
	for _, a := range builtin {
		ids[a.ID]++
	}
	if ids["CVE-2017-7921"] != 7 || ids["CVE-2021-36260"] != 1 || len(ids) != 2 {
		t.Errorf("built-in ids %v", ids)
	}
}

// Builtin hands out a copy: changing it changes no verdict.
func TestAdvisoryBuiltinIsACopy(t *testing.T) {
	b := advisory.Builtin()
	for i := range b {
		b[i].ID = "changed"
		for j := range b[i].Models {
			b[i].Models[j] = "NONE"
		}
	}
	got := advVerdicts(nil, advInfo("DS-2CD2532F-IWS", "IPCamera", "V5.2.0", "build 140721"))
	if want := []string{"CVE-2017-7921=1", "CVE-2021-36260=1"}; !slices.Equal(got, want) {
		t.Errorf("verdicts %q after changing Builtin()'s result, want %q", got, want)
	}
}
