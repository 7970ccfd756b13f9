package probe

import (
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// TestProbeOfEachKindOfDevice: a whole probe of a camera, a recorder and
// an access terminal without deviceInfo, whose credential check falls back
// and whose device area reports the feature missing instead of failing.
func TestProbeOfEachKindOfDevice(t *testing.T) {
	for _, tc := range []struct {
		model   string
		feature string
	}{
		{"k1a340fwx", "0"},
		{"DS-2CD2443G0-IW", "1"},
		{"DS-7616NI-K2", "1"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			dev := hDevice(t, simulator.CaptureProfile(tc.model))
			p := dev.Profile()
			e := hStart(t, hYAMLUser(p.Username, p.Password, map[string]*simulator.Device{"sim": dev}, "    collectors: [device]\n"), nil)
			_, body := e.probe("target=sim")
			for _, line := range []string{
				"hikvision_up 1",
				`hikvision_scrape_collector_success{collector="device"} 1`,
				`hikvision_feature_supported{feature="device_info"} ` + tc.feature,
			} {
				if !hasLine(body, line) {
					t.Errorf("missing %q:\n%s", line, body)
				}
			}
			if hasLine(body, "hikvision_firmware_build_timestamp_seconds ") != (tc.feature == "1") {
				t.Errorf("build timestamp present without deviceInfo, or absent with it:\n%s", body)
			}
		})
	}
}

// TestCollectorRegistryIsTheOnlyList: configuration is checked against the
// registry, and a name the registry lacks fails its probe area instead of
// being skipped.
func TestCollectorRegistryIsTheOnlyList(t *testing.T) {
	bad := "modules:\n  default:\n    username: admin\n    password: p\n    scheme: http\n    collectors: [device, bogus]\n"
	_, err := config.Parse([]byte(bad), config.WithCollectors(collector.Names()))
	if err == nil || !strings.Contains(err.Error(), `unknown collector "bogus"`) {
		t.Fatalf("err = %v, want an unknown collector", err)
	}
	dev := hDevice(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	e := hStart(t, hYAML("password", map[string]*simulator.Device{"cam": dev}, "    collectors: [device, bogus]\n"), nil)
	_, body := e.probe("target=cam")
	for _, line := range []string{
		`hikvision_scrape_collector_success{collector="device"} 1`,
		`hikvision_scrape_collector_success{collector="bogus"} 0`,
	} {
		if !hasLine(body, line) {
			t.Errorf("missing %q:\n%s", line, body)
		}
	}
}
