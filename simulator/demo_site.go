package simulator

import "time"

// siteDemoDevices are the demo's site devices: a recorder with cameras
// behind it and a camera with SNMP open.
//
//   - site-nvr: a DS-7616NI-K2 NVR, itself locked down like hardened-cam,
//     recording four IP cameras: lobby, a DS-2CD2032F-I on V5.3.0 build
//     150410 (CVE-2017-7921, and the CVE-2021-36260 heuristic); car-park,
//     an ONVIF camera that reports no model or firmware; loading-dock,
//     offline; reception, current firmware. It logs into the first three
//     as admin and into reception with an account of its own.
//   - snmp-cam: a camera locked down like hardened-cam except for SNMPv2c
//     on with `public` as read and write community, and UPnP on, asking
//     the router to forward three ports.
func siteDemoDevices(now time.Time) []demoDevice {
	return []demoDevice{siteNVR(now), snmpCam(now)}
}

// The site recorder's IP channels. The addresses are the recorder's PoE
// network, out of the exporter's reach.
var siteNVRChannels = []RecorderChannel{
	{ID: 1, Name: "lobby", Protocol: "HIKVISION", IPAddress: "192.168.254.2", UserName: "admin",
		Model: "DS-2CD2032F-I", SerialNumber: "DS-2CD2032F-I20150410AAWR512340001", FirmwareVersion: "V5.3.0 build 150410",
		CertificateValidation: Bool(false)},
	{ID: 2, Name: "car-park", Protocol: "ONVIF", IPAddress: "192.168.254.3", UserName: "admin"},
	{ID: 3, Name: "loading-dock", Protocol: "HIKVISION", IPAddress: "192.168.254.4", UserName: "admin",
		Model: "DS-2CD2346G2-ISU/SL", SerialNumber: "DS-2CD2346G2-ISU/SL20240826AAWRJ00000003", FirmwareVersion: "V5.7.18 build 240826",
		CertificateValidation: Bool(false), Offline: true},
	{ID: 4, Name: "reception", Protocol: "HIKVISION", IPAddress: "192.168.254.5", UserName: "nvr-link",
		Model: "DS-2CD2T86G2-ISU/SL", SerialNumber: "DS-2CD2T86G2-ISU/SL20240826AAWRJ00000004", FirmwareVersion: "V5.7.18 build 240826",
		CertificateValidation: Bool(true)},
}

// siteNVR is a recorder whose own posture passes every check (hardened-cam's
// services, account, lockout and log, with the DS-7616NI-K2's identity and
// current firmware) and whose cameras do not.
func siteNVR(now time.Time) demoDevice {
	p := hardenedCam(now).profile
	nvr := CaptureProfile("DS-7616NI-K2")
	p.Name, p.Password = "site-nvr", "Nvr-S1te-Rec0rder!"
	p.Namespace = nvr.Namespace
	info := nvr.Endpoints["GET /ISAPI/System/deviceInfo"].Body
	for _, kv := range [][2]string{
		{"deviceName", "site-nvr"},
		{"serialNumber", "DS-7616NI-K20000000000CCRRG00000000SITE"},
		{"firmwareReleasedDate", "build " + now.AddDate(0, 0, -90).UTC().Format("060102")},
	} {
		info = SetElement(info, kv[0], kv[1])
	}
	p.Endpoints["GET /ISAPI/System/deviceInfo"] = Endpoint{Body: info}
	for _, key := range []string{"GET /ISAPI/System/capabilities", "GET /ISAPI/Streaming/channels/101"} {
		if e, ok := nvr.Endpoints[key]; ok {
			p.Endpoints[key] = e
		} else {
			delete(p.Endpoints, key)
		}
	}
	p.Endpoints["GET /ISAPI/System/Network/UPnP"] = Endpoint{Body: UPnPXML(p.Namespace, false, "site-nvr")}
	return demoDevice{name: "site-nvr", configPassword: p.Password, profile: p.WithRecorderChannels(siteNVRChannels...),
		description: "NVR locked down itself, recording 4 cameras: a DS-2CD2032F-I on 2015 firmware (CVE-2017-7921, CVE-2021-36260), " +
			"an ONVIF camera without model or firmware, one offline; logs into 3 of them as admin"}
}

// snmpCam is hardened-cam with an SNMP agent left at its factory
// communities and UPnP forwarding ports on the router. The SNMP and UPnP
// answers follow docs/isapi.md §5.16 and §5.5 (no capture of either exists).
func snmpCam(now time.Time) demoDevice {
	p := hardenedCam(now).profile
	p.Name, p.Password = "snmp-cam", "Snmp-C4m-Strong#Pw"
	info := p.Endpoints["GET /ISAPI/System/deviceInfo"].Body
	for _, kv := range [][2]string{
		{"deviceName", "snmp-cam"},
		{"serialNumber", "DS-2CD2T86G2-ISU/SL00000000AAWRAE0000042"},
		{"macAddress", "1e:70:fe:e0:b2:42"},
	} {
		info = SetElement(info, kv[0], kv[1])
	}
	p.Endpoints["GET /ISAPI/System/deviceInfo"] = Endpoint{Body: info}
	ns := p.Namespace
	p.Endpoints["GET /ISAPI/System/Network/SNMP"] = Endpoint{Body: SNMPXML(ns, SNMP{
		V1:         &SNMPCommunity{Read: "public", Write: "private"},
		V2c:        &SNMPCommunity{Enabled: true, Read: "public", Write: "public"},
		V3:         &SNMPv3{},
		ListenPort: 161,
	})}
	p.Endpoints["GET /ISAPI/System/Network/UPnP"] = Endpoint{Body: UPnPXML(ns, true, "snmp-cam")}
	// Three ports forwarded, HTTPS listed but switched off.
	p.Endpoints["GET /ISAPI/System/Network/UPnP/ports"] = Endpoint{Body: UPnPPortsXML(ns, UPnPPortMapping{
		Enabled: true, MapMode: "auto", Ports: []UPnPPort{
			{ID: 1, Enabled: true, Internal: "http", External: 8080},
			{ID: 2, Enabled: false, Internal: "https", External: 8443},
			{ID: 3, Enabled: true, Internal: "rtsp", External: 10554},
			{ID: 4, Enabled: true, Internal: "admin", External: 18000},
		},
	})}
	return demoDevice{name: "snmp-cam", configPassword: p.Password, profile: p,
		description: "camera locked down like hardened-cam, except SNMPv2c on with public as read and write community, " +
			"and UPnP asking the router to forward 3 ports"}
}
