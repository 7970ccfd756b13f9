package simulator

import (
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The site devices serve what their alerts need: site-nvr four IP channels
// and their status (one camera in the advisories, an ONVIF one without
// model or firmware, one offline, three recorded as admin), snmp-cam an
// SNMP agent with public communities and UPnP forwarding three ports; both
// are otherwise locked down like hardened-cam, which they leave unchanged.
func TestSiteDemoDevices(t *testing.T) {
	f, cfg := startFleet(t)
	users := map[string]int{} // password -> modules using it
	for _, m := range cfg.Modules {
		users[m.Password]++
	}
	for _, name := range []string{"site-nvr", "snmp-cam"} {
		if pw := cfg.Modules[name].Password; pw == "" || users[pw] != 1 {
			t.Errorf("%s: password %q, used by %d modules; want its own", name, pw, users[pw])
		}
	}

	nvr, snmp := f.Device("site-nvr"), f.Device("snmp-cam")
	if nvr == nil || snmp == nil {
		t.Fatal("the fleet lacks site-nvr or snmp-cam")
	}
	for _, d := range []*FleetDevice{nvr, snmp} {
		if d.Description == "" || d.Module != d.Name || d.Username != demoUser {
			t.Errorf("%s: %+v", d.Name, d)
		}
	}

	c := digestClient(t, demoUser, nvr.Password, false)
	for path, wants := range map[string][]string{
		"/ISAPI/System/deviceInfo": {"<deviceName>site-nvr</deviceName>", "<deviceType>NVR</deviceType>"},
		"/ISAPI/ContentMgmt/InputProxy/channels": {
			"<name>lobby</name>", "<model>DS-2CD2032F-I</model>", "<firmwareVersion>V5.3.0 build 150410</firmwareVersion>",
			"<proxyProtocol>ONVIF</proxyProtocol>", "<userName>nvr-link</userName>",
		},
		"/ISAPI/ContentMgmt/InputProxy/channels/status": {"<online>false</online>", "<chanDetectResult>offline</chanDetectResult>"},
		"/ISAPI/System/Network/telnetd":                 {"<enabled>false</enabled>"},
		"/ISAPI/System/Network/UPnP":                    {"<enabled>false</enabled>"},
	} {
		a := get(t, c, nvr.Device.URL()+path)
		for _, want := range wants {
			if a.status != 200 || !strings.Contains(a.body, want) {
				t.Errorf("site-nvr %s: %d, want %q in\n%s", path, a.status, want, a.body)
			}
		}
	}
	channels := get(t, c, nvr.Device.URL()+"/ISAPI/ContentMgmt/InputProxy/channels").body
	if n := strings.Count(channels, "<userName>admin</userName>"); n != 3 {
		t.Errorf("site-nvr logs into %d cameras as admin, want 3", n)
	}
	if strings.Contains(channels, "<password>") {
		t.Error("site-nvr's channel list carries a password element")
	}

	c = digestClient(t, demoUser, snmp.Password, false)
	a := get(t, c, snmp.Device.URL()+"/ISAPI/System/Network/SNMP")
	s, err := isapi.DecodeSNMP([]byte(a.body))
	if a.status != 200 || err != nil {
		t.Fatalf("snmp-cam SNMP: %d %v\n%s", a.status, err, a.body)
	}
	if !s.V2c.Enabled.V || !s.V2c.Read.V || !s.V2c.Write.V || !s.V1.Enabled.Set || s.V1.Enabled.V || s.V3.Enabled.V || s.ListenPort.V != 161 {
		t.Errorf("snmp-cam SNMP: %+v", s)
	}
	var upnp isapi.UPnP
	var ports isapi.UPnPPorts
	for path, v := range map[string]any{"/ISAPI/System/Network/UPnP": &upnp, "/ISAPI/System/Network/UPnP/ports": &ports} {
		a := get(t, c, snmp.Device.URL()+path)
		if err := isapi.Decode([]byte(a.body), v); a.status != 200 || err != nil {
			t.Fatalf("snmp-cam %s: %d %v\n%s", path, a.status, err, a.body)
		}
	}
	if n := isapi.MappedPorts(upnp.Enabled, &ports); !n.Set || n.V != 3 || upnp.Ports != nil {
		t.Errorf("snmp-cam maps %+v ports (UPnP %+v), want 3", n, upnp)
	}

	// hardened-cam, whose profile both start from, is unchanged.
	h := f.Device("hardened-cam")
	c = digestClient(t, demoUser, h.Password, false)
	if a := get(t, c, h.Device.URL()+"/ISAPI/System/deviceInfo"); strings.Contains(a.body, "snmp-cam") || strings.Contains(a.body, "site-nvr") {
		t.Errorf("hardened-cam's deviceInfo changed:\n%s", a.body)
	}
	for _, path := range []string{"/ISAPI/System/Network/SNMP", "/ISAPI/ContentMgmt/InputProxy/channels"} {
		if a := get(t, c, h.Device.URL()+path); a.status != 404 {
			t.Errorf("hardened-cam %s: %d, want 404", path, a.status)
		}
	}
}
