package collector

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// Firmware advisories: which known vulnerabilities a device's firmware falls
// into, judged from deviceInfo alone (model, deviceType, firmwareVersion and
// the build date of firmwareReleasedDate). Nothing here sends an attack
// probe. See ADVISORIES.md for the table, the reasoning behind each model
// pattern and how to extend it from the config file.

var (
	firmwareAdvisoryDesc = newDesc("firmware_advisory",
		"1 when model, firmware version and build fall inside an affected range of the advisory, 0 when the advisory covers the model but the firmware is outside every affected range. "+
			"Absent for advisories that do not cover the model, or when the firmware version and build are both unreadable. "+
			"CVE-2021-36260 is a heuristic (any IP camera or PTZ with a firmware build date before 210628), not Hikvision's per-platform table.",
		"cve")
	firmwareBelowMinimumDesc = newDesc("firmware_below_minimum",
		"1 when the firmware version is lower than the version of the first firmware_minimums entry whose models match the device, else 0. Absent when no entry matches.")
)

// builtinAdvisories is the table shipped with the exporter. Sources are the
// ones listed in docs/isapi.md §4; every range is inclusive at both ends.
//
// Model patterns are shell globs matched case-insensitively against the
// whole deviceInfo model (config.MatchModel, where "*" also spans "/"). In
// Hikvision's family names an "x" stands for one model character: the
// DS-2CD2 families use digits there ([0-9]), while the DS-2CD4 line also
// has letters (DS-2CD4A26FWD-IZS), hence [0-9A-Z]. A trailing "*" takes the
// variant suffixes (-I, -IS, -IW, -IWS, -I5, -IZ, -A, "(B)", "/SL", ...).
var builtinAdvisories = []config.Advisory{
	// CVE-2017-7921 (ICSA-17-124-01, CISA KEV): authentication bypass via
	// ?auth=YWRtaW46MTEK. Per-family ranges from the NVD description of the
	// Hikvision advisory "update-on-privilege-escalating-vulnerability-notice-hq"
	// (isapi.md §4).
	cve20177921("DS-2CD2xx2F-I: DS-2CD2032F-I, DS-2CD2132F-IS, DS-2CD2432F-IW, DS-2CD2532F-IWS, ...",
		[]string{"DS-2CD2[0-9][0-9]2F-I*"}, "V5.2.0", "140721", "V5.4.0", "160530"),
	cve20177921("DS-2CD2xx0F-I: DS-2CD2010F-I, DS-2CD2120F-IWS, ...",
		[]string{"DS-2CD2[0-9][0-9]0F-I*"}, "V5.2.0", "140721", "V5.4.0", "160401"),
	cve20177921("DS-2CD2xx2FWD: DS-2CD2142FWD-IS, DS-2CD2342FWD-I, ...",
		[]string{"DS-2CD2[0-9][0-9]2FWD*"}, "V5.3.1", "150410", "V5.4.4", "161125"),
	cve20177921("DS-2CD4x2xFWD: DS-2CD4026FWD-A, DS-2CD4A26FWD-IZS, ...",
		[]string{"DS-2CD4[0-9A-Z]2[0-9A-Z]FWD*"}, "V5.2.0", "140721", "V5.4.0", "160414"),
	cve20177921("DS-2CD4xx5: DS-2CD4025FWD-A, DS-2CD4135F-IZ, ...",
		[]string{"DS-2CD4[0-9A-Z][0-9A-Z]5*"}, "V5.2.0", "140721", "V5.4.0", "160421"),
	cve20177921("DS-2DFx: PTZ domes DS-2DF5286-AEL, DS-2DF8236IX-AEL, ...",
		[]string{"DS-2DF*"}, "V5.2.0", "140805", "V5.4.5", "160928"),
	cve20177921("DS-2CD63xx: fisheye DS-2CD6332FWD-IV, DS-2CD6362F-IV, ...",
		[]string{"DS-2CD63[0-9][0-9]*"}, "V5.0.9", "140305", "V5.3.5", "160106"),

	// CVE-2021-36260 (HSRC-202109-01, CISA KEV): unauthenticated command
	// injection through PUT /SDK/webLanguage. HEURISTIC: Hikvision's
	// per-platform table was not available; third-party scanners flag any
	// IP camera or PTZ whose build predates the fixed builds of 210628
	// (V5.5.800 build 210628 for IPC_G3/IPC_H5 and PTZ H7), hence the
	// inclusive bound 210627. Covered: deviceType IPCamera or IPDome, or a
	// camera/PTZ/thermal model prefix (NVRs, DVRs and other products are not).
	{
		ID:          "CVE-2021-36260",
		Models:      []string{"DS-2CD*", "DS-2DE*", "DS-2DF*", "DS-2DY*", "DS-2SE*", "DS-2TD*", "iDS-2CD*", "iDS-2DE*", "iDS-2DF*"},
		DeviceTypes: []string{"IPCamera", "IPDome"},
		MaxBuild:    "210627",
		URL:         "https://www.hikvision.com/us-en/support/cybersecurity/security-advisory/security-notification-command-injection-vulnerability-in-some-hikvision-products/faqs-command-injection-vulnerability/",
		Note:        "Heuristic: IP cameras and PTZ with a firmware build date before 210628 (fixed builds: V5.5.800 build 210628).",
	},
}

func cve20177921(family string, models []string, minV, minB, maxV, maxB string) config.Advisory {
	return config.Advisory{
		ID: "CVE-2017-7921", Models: models,
		MinVersion: minV, MinBuild: minB, MaxVersion: maxV, MaxBuild: maxB,
		URL:  "https://www.hikvision.com/ca-fr/support/cybersecurity/security-advisory/update-on-privilege-escalating-vulnerability-notice-hq/",
		Note: family,
	}
}

// mergeAdvisories returns the built-in table with the configured entries
// added; configured entries whose id appears in the built-in table replace
// every built-in entry of that id.
func mergeAdvisories(builtin, configured []config.Advisory) []config.Advisory {
	override := make(map[string]bool, len(configured))
	for _, a := range configured {
		override[a.ID] = true
	}
	out := make([]config.Advisory, 0, len(builtin)+len(configured))
	for _, a := range builtin {
		if !override[a.ID] {
			out = append(out, a)
		}
	}
	return append(out, configured...)
}

// advisoryResult is the verdict on one advisory id for one device.
type advisoryResult struct {
	ID         string
	Vulnerable bool
}

// evaluateAdvisories judges a device against every advisory entry and
// returns one verdict per id that covers the device and could be checked,
// sorted by id: vulnerable when any covering entry's range contains the
// firmware.
func evaluateAdvisories(advs []config.Advisory, info *isapi.DeviceInfo) []advisoryResult {
	build := firmwareBuildKnown(info)
	verdict := map[string]bool{}
	for i := range advs {
		a := &advs[i]
		if !a.Applies(info.Model, info.DeviceType) {
			continue
		}
		in, checked := inAdvisoryRange(a, info.FirmwareVersion, build)
		if !checked {
			continue
		}
		verdict[a.ID] = verdict[a.ID] || in
	}
	out := make([]advisoryResult, 0, len(verdict))
	for id, v := range verdict {
		out = append(out, advisoryResult{ID: id, Vulnerable: v})
	}
	slices.SortFunc(out, func(a, b advisoryResult) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// firmwareBuildKnown returns the YYMMDD build when it is a real date, else "".
func firmwareBuildKnown(info *isapi.DeviceInfo) string {
	if _, ok := info.FirmwareBuildTime(); !ok {
		return ""
	}
	return info.FirmwareBuild()
}

// inAdvisoryRange compares a firmware against an advisory's bounds. The
// version (when the advisory bounds it and the device's is readable) and the
// build (likewise) must both be inside; a side the device does not report is
// left out, so an unknown build is judged on the version alone. checked is
// false when neither side could be compared.
func inAdvisoryRange(a *config.Advisory, version, build string) (in, checked bool) {
	in = true
	if a.MinVersion != "" || a.MaxVersion != "" {
		if v, ok := parseFirmwareVersion(version); ok {
			checked = true
			if lo, ok := parseFirmwareVersion(a.MinVersion); ok && compareVersionParts(v, lo) < 0 {
				in = false
			}
			if hi, ok := parseFirmwareVersion(a.MaxVersion); ok && compareVersionParts(v, hi) > 0 {
				in = false
			}
		}
	}
	if (a.MinBuild != "" || a.MaxBuild != "") && build != "" {
		checked = true
		// YYMMDD of the same century compares as a string.
		if a.MinBuild != "" && build < a.MinBuild {
			in = false
		}
		if a.MaxBuild != "" && build > a.MaxBuild {
			in = false
		}
	}
	return in && checked, checked
}

// belowMinimum finds the first firmware_minimums entry matching the model
// and reports whether the firmware version is lower. found is false when no
// entry matches or the device's version is unreadable.
func belowMinimum(mins []config.FirmwareMinimum, model, version string) (below, found bool) {
	for _, m := range mins {
		if !config.MatchModel(m.Models, model) {
			continue
		}
		c, ok := compareVersions(version, m.Version)
		if !ok {
			return false, false
		}
		return c < 0, true
	}
	return false, false
}

// firmwareAdvisories emits the advisory and minimum-version metrics for a
// device's deviceInfo.
func firmwareAdvisories(m *Metrics, cfg *config.Config, info *isapi.DeviceInfo) {
	var configured []config.Advisory
	var mins []config.FirmwareMinimum
	if cfg != nil {
		configured, mins = cfg.FirmwareAdvisories, cfg.FirmwareMinimums
	}
	for _, r := range evaluateAdvisories(mergeAdvisories(builtinAdvisories, configured), info) {
		v := 0.0
		if r.Vulnerable {
			v = 1
		}
		m.Gauge(firmwareAdvisoryDesc, v, r.ID)
	}
	if below, ok := belowMinimum(mins, info.Model, info.FirmwareVersion); ok {
		v := 0.0
		if below {
			v = 1
		}
		m.Gauge(firmwareBelowMinimumDesc, v)
	}
}

// firmwareVersionRE takes the numeric head of a firmware version: "V5.4.0",
// "v5.5.800", "5.3.0 build 150410", "V4.0.1_170123".
var firmwareVersionRE = regexp.MustCompile(`^[Vv]?(\d+(?:\.\d+)*)`)

// parseFirmwareVersion splits a firmware version into its numeric components.
func parseFirmwareVersion(s string) ([]int, bool) {
	m := firmwareVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, false
	}
	parts := strings.Split(m[1], ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil { // more digits than an int holds
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// compareVersionParts compares component-wise, missing components counting as 0
// (V5.4 == V5.4.0).
func compareVersionParts(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// compareVersions compares two firmware versions numerically, component by
// component (V5.4.0 < V5.10.1; V4.62.210 < V5.03.020), returning -1, 0 or 1.
// ok is false when either is not a version.
func compareVersions(a, b string) (c int, ok bool) {
	x, ok1 := parseFirmwareVersion(a)
	y, ok2 := parseFirmwareVersion(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return compareVersionParts(x, y), true
}
