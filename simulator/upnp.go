package simulator

import (
	"bytes"
	"strconv"
)

// UPnPPort is one entry of a UPnP port mapping's portList.
type UPnPPort struct {
	ID       int
	Enabled  bool
	Internal string // internalPort: the service, http, https, rtsp, admin, ...
	External int    // externalPort on the router
}

// UPnPPortMapping is the ports block of UPnPPortsXML and UPnPWithPortsXML.
type UPnPPortMapping struct {
	Enabled bool
	MapMode string // "auto" or "manual"; "" leaves mapmode out
	// Ports are the portList entries; NoList leaves portList out.
	Ports  []UPnPPort
	NoList bool
}

// UPnPPortsXML builds GET /ISAPI/System/Network/UPnP/ports (docs/isapi.md §5.5):
// ports/{enabled, mapmode, portList/port/{id, enabled, internalPort,
// externalPort}}. Synthetic, from client code and Hikvision's changelog.
func UPnPPortsXML(ns string, m UPnPPortMapping) []byte {
	return doc("ports", ns, func(b *bytes.Buffer) { portMapping(b, m) })
}

// UPnPWithPortsXML builds GET /ISAPI/System/Network/UPnP with the port
// mapping nested in it, as a client's test fixture has it (§5.5):
// UPnP/{enabled, name, ports/{...}}. Synthetic.
func UPnPWithPortsXML(ns string, enabled bool, name string, m UPnPPortMapping) []byte {
	return doc("UPnP", ns, func(b *bytes.Buffer) {
		el(b, "enabled", strconv.FormatBool(enabled))
		el(b, "name", name)
		b.WriteString("<ports>\n")
		portMapping(b, m)
		b.WriteString("</ports>\n")
	})
}

func portMapping(b *bytes.Buffer, m UPnPPortMapping) {
	el(b, "enabled", strconv.FormatBool(m.Enabled))
	if m.MapMode != "" {
		el(b, "mapmode", m.MapMode)
	}
	if m.NoList {
		return
	}
	b.WriteString("<portList>\n")
	for _, p := range m.Ports {
		b.WriteString("<port>\n")
		el(b, "id", strconv.Itoa(p.ID))
		el(b, "enabled", strconv.FormatBool(p.Enabled))
		el(b, "internalPort", p.Internal)
		el(b, "externalPort", strconv.Itoa(p.External))
		b.WriteString("</port>\n")
	}
	b.WriteString("</portList>\n")
}
