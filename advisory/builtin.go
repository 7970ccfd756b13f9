package advisory

import "slices"

// builtinAdvisories is the table shipped with the exporter. Sources are the
// ones listed in docs/isapi.md §4; every range is inclusive at both ends.
//
// Model patterns are shell globs matched case-insensitively against the
// whole deviceInfo model (MatchModel, where "*" also spans "/"). In
// Hikvision's family names an "x" stands for one model character: the
// DS-2CD2 families use digits there ([0-9]), while the DS-2CD4 line also
// has letters (DS-2CD4A26FWD-IZS), hence [0-9A-Z]. A trailing "*" takes the
// variant suffixes (-I, -IS, -IW, -IWS, -I5, -IZ, -A, "(B)", "/SL", ...).
var builtinAdvisories = []Advisory{
	// CVE-2017-7921 (ICSA-17-124-01, CISA KEV): authentication bypass via
	// ?auth=YWRtaW46MTEK. Per-family ranges from the NVD description of the
	// Hikvision advisory "update-on-privilege-escalating-vulnerability-notice-hq"
	// (docs/isapi.md §4).
	cve20177921("DS-2CD2xx2F-I: DS-2CD2032F-I, DS-2CD2132F-IS, DS-2CD2432F-IW, DS-2CD2532F-IWS, ...", []string{"DS-2CD2[0-9][0-9]2F-I*"}, "V5.2.0", "140721", "V5.4.0", "160530"),
	cve20177921("DS-2CD2xx0F-I: DS-2CD2010F-I, DS-2CD2120F-IWS, ...", []string{"DS-2CD2[0-9][0-9]0F-I*"}, "V5.2.0", "140721", "V5.4.0", "160401"),
	cve20177921("DS-2CD2xx2FWD: DS-2CD2142FWD-IS, DS-2CD2342FWD-I, ...", []string{"DS-2CD2[0-9][0-9]2FWD*"}, "V5.3.1", "150410", "V5.4.4", "161125"),
	cve20177921("DS-2CD4x2xFWD: DS-2CD4026FWD-A, DS-2CD4A26FWD-IZS, ...", []string{"DS-2CD4[0-9A-Z]2[0-9A-Z]FWD*"}, "V5.2.0", "140721", "V5.4.0", "160414"),
	cve20177921("DS-2CD4xx5: DS-2CD4025FWD-A, DS-2CD4135F-IZ, ...", []string{"DS-2CD4[0-9A-Z][0-9A-Z]5*"}, "V5.2.0", "140721", "V5.4.0", "160421"),
	cve20177921("DS-2DFx: PTZ domes DS-2DF5286-AEL, DS-2DF8236IX-AEL, ...", []string{"DS-2DF*"}, "V5.2.0", "140805", "V5.4.5", "160928"),
	cve20177921("DS-2CD63xx: fisheye DS-2CD6332FWD-IV, DS-2CD6362F-IV, ...", []string{"DS-2CD63[0-9][0-9]*"}, "V5.0.9", "140305", "V5.3.5", "160106"),

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

func cve20177921(family string, models []string, minV, minB, maxV, maxB string) Advisory {
	return Advisory{
		ID: "CVE-2017-7921", Models: models,
		MinVersion: minV, MinBuild: minB, MaxVersion: maxV, MaxBuild: maxB,
		URL:  "https://www.hikvision.com/ca-fr/support/cybersecurity/security-advisory/update-on-privilege-escalating-vulnerability-notice-hq/",
		Note: family,
	}
}

// Builtin returns a copy of the built-in table.
func Builtin() []Advisory {
	out := slices.Clone(builtinAdvisories)
	for i := range out {
		out[i].Models = slices.Clone(out[i].Models)
		out[i].DeviceTypes = slices.Clone(out[i].DeviceTypes)
	}
	return out
}

// Merge returns the built-in table with the configured entries added;
// configured entries whose id appears in the built-in table replace every
// built-in entry of that id. The built-in table itself is left unchanged,
// but the result shares its entries' Models and DeviceTypes: read it only.
func Merge(configured []Advisory) []Advisory {
	return merge(builtinAdvisories, configured)
}

func merge(builtin, configured []Advisory) []Advisory {
	override := make(map[string]bool, len(configured))
	for _, a := range configured {
		override[a.ID] = true
	}
	out := make([]Advisory, 0, len(builtin)+len(configured))
	for _, a := range builtin {
		if !override[a.ID] {
			out = append(out, a)
		}
	}
	return append(out, configured...)
}
