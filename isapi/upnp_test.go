package isapi

import (
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// showMapping prints the UPnP switch, the mapping switch and MappedPorts.
func showMapping(u *UPnP, p *UPnPPorts) string {
	mapping := "-"
	if p != nil {
		mapping = showBool(p.Enabled)
	}
	return showBool(u.Enabled) + " " + mapping + " " + showInt(MappedPorts(u.Enabled, p))
}

func TestUPnPPortMappingShapes(t *testing.T) {
	const list = "<portList><port><id>1</id><enabled>true</enabled><internalPort>http</internalPort><externalPort>8080</externalPort></port>" +
		"<port><id>2</id><enabled>false</enabled><internalPort>rtsp</internalPort><externalPort>554</externalPort></port>" +
		"<port><id>3</id><internalPort>admin</internalPort><externalPort>8000</externalPort></port></portList>"
	nested := func(inner string, want string) shownDoc {
		return showDoc("UPnP", inner, func(u *UPnP) string { return showMapping(u, u.Ports) }, want)
	}
	ports := func(upnp OptionalBool, inner string, want string) shownDoc {
		return showDoc("ports", inner, func(p *UPnPPorts) string { return showMapping(&UPnP{Enabled: upnp}, p) }, want)
	}
	on := OptionalBool{V: true, Set: true}
	checkShownDocs(t, map[string]shownDoc{
		"no mapping":                      nested("<enabled>true</enabled><name>cam</name>", "true - -"),
		"UPnP off, no mapping":            nested("<enabled>false</enabled>", "false - 0"),
		"nested, an entry without switch": nested("<enabled>true</enabled><ports><enabled>true</enabled><mapmode>auto</mapmode>"+list+"</ports>", "true true 2"),
		"nested, mapping off":             nested("<enabled>true</enabled><ports><enabled>false</enabled>"+list+"</ports>", "true false 0"),
		"nested, UPnP off":                nested("<enabled>false</enabled><ports><enabled>true</enabled>"+list+"</ports>", "false true 0"),
		"nested, no list":                 nested("<enabled>true</enabled><ports><enabled>true</enabled></ports>", "true true -"),
		"nested, no switches":             nested("<ports>"+list+"</ports>", "- - 2"),
		"/ports":                          ports(on, "<enabled>true</enabled><mapmode>manual</mapmode>"+list, "true true 2"),
		"/ports, empty list":              ports(on, "<enabled>true</enabled><portList/>", "true true 0"),
		"/ports, mapping off":             ports(on, "<enabled>false</enabled>"+list, "true false 0"),
		"/ports, no switch":               ports(on, list, "true - 2"),
	})
}

// The simulator's UPnP documents read as built, in every namespace.
func TestUPnPSimulatorShapes(t *testing.T) {
	m := simulator.UPnPPortMapping{Enabled: true, MapMode: "auto", Ports: []simulator.UPnPPort{
		{ID: 1, Enabled: true, Internal: "http", External: 80}, {ID: 2, Enabled: false, Internal: "https", External: 443}}}
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		var up, upPorts UPnP
		var p UPnPPorts
		for _, d := range []struct {
			b []byte
			v any
		}{
			{simulator.UPnPXML(ns, true, "cam"), &up},
			{simulator.UPnPWithPortsXML(ns, true, "cam", m), &upPorts},
			{simulator.UPnPPortsXML(ns, m), &p},
		} {
			if err := Decode(d.b, d.v); err != nil {
				t.Fatalf("ns %q: %T: %v", ns, d.v, err)
			}
		}
		got := showMapping(&up, up.Ports) + " | " + showMapping(&upPorts, upPorts.Ports) + " | " + showMapping(&UPnP{Enabled: up.Enabled}, &p) +
			" | " + p.MapMode + " " + p.List.Ports[1].InternalPort + " " + showInt(p.List.Ports[1].ExternalPort)
		if want := "true - - | true true 1 | true true 1 | auto https 443"; got != want {
			t.Errorf("ns %q\n got %s\nwant %s", ns, got, want)
		}
	}
}
