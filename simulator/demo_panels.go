package simulator

import (
	"strings"
	"time"
)

// panelDemoDevices are demo devices that give every dashboard panel
// something to show, each locked down like hardened-cam so that they fire
// no alert:
//
//   - https-cam: a DS-2CD2346G2-ISU served over HTTPS with a certificate
//     that expires in 45 days (yellow on the dashboards, which warn under
//     60 days; no alert, whose threshold is 30), a password validity
//     policy with 30 days left (hikvision_password_age_seconds once its
//     module declares the policy period with password_max_age), and
//     password recovery set up by security questions and e-mail.
//   - verified-dvr: an iDS-7208HQHI-M1 DVR with double verification on
//     (hikvision_two_factor_enabled), security questions set and no
//     recovery e-mail, SNMP v3 only with an authenticated user, and no IP
//     camera in its channel list.
//
// The exporter's account is locked on no demo device: a locked device
// would answer hikvision_up 0, which the end-to-end alert test allows only
// for wrong-password. TestDashboardPanelsShowDemoData locks verified-dvr
// itself, after its other checks, to prove the unlock-time panel.
func panelDemoDevices(now time.Time) []demoDevice {
	return []demoDevice{httpsCam(now), verifiedDVR(now)}
}

// Certificate and password policy of https-cam.
const (
	httpsCamCertificateValidity = 45 * 24 * time.Hour
	httpsCamPasswordDaysLeft    = 30
)

// httpsCam is hardened-cam as a DS-2CD2346G2-ISU over HTTPS, with a
// password policy and password recovery.
func httpsCam(now time.Time) demoDevice {
	p := hardenedCam(now).profile
	model := CaptureProfile("DS-2CD2346G2-ISU")
	p.Name, p.Password = "https-cam", "Tls-C4m-Expiring!9"
	p.CertificateValidity = httpsCamCertificateValidity
	p.Account = Account{ResidualValidity: Days(httpsCamPasswordDaysLeft)}
	p = withIdentity(p, model, now, [][2]string{
		{"deviceName", "https-cam"},
		{"serialNumber", "DS-2CD2346G2-ISU/SL20240826AAWRJ00000046"},
		{"macAddress", "1e:70:fe:e0:b2:46"},
	})
	caps := SetElement(model.Endpoints["GET /ISAPI/System/capabilities"].Body, "isSupportSecurityQuestionConfig", "true")
	caps = addToSecurityCap(caps, "<isSupportSecurityEmail>true</isSupportSecurityEmail>")
	p.Endpoints["GET /ISAPI/System/capabilities"] = Endpoint{Body: caps}
	p.Endpoints["GET /ISAPI/Security/questionConfiguration"] = Endpoint{Body: SecurityQuestionXML(p.Namespace, 1, 4, 7)}
	p.Endpoints["GET /ISAPI/Security/email/parameter"] = Endpoint{ContentType: "application/json",
		Body: SecurityEmailJSON("security@example.com")}
	return demoDevice{name: "https-cam", configPassword: p.Password, profile: p,
		description: "camera locked down like hardened-cam, over HTTPS with a certificate expiring in 45 days, " +
			"a password policy with 30 days left, password recovery by security questions and e-mail"}
}

// verifiedDVR is hardened-cam as an iDS-7208HQHI-M1 DVR with double
// verification on.
func verifiedDVR(now time.Time) demoDevice {
	p := hardenedCam(now).profile
	model := CaptureProfile("iDS-7208HQHI-M1")
	p.Name, p.Password = "verified-dvr", "Dvr-D0uble-Check#2"
	p = withIdentity(p, model, now, [][2]string{
		{"deviceName", "verified-dvr"},
		{"serialNumber", "iDS-7208HQHI-M10000000000CCRRG00000000DVR"},
	})
	caps := addToSecurityCap(model.Endpoints["GET /ISAPI/System/capabilities"].Body,
		"<DoubleVerificationCap><isSupportUsersConfig>true</isSupportUsersConfig></DoubleVerificationCap>")
	p.Endpoints["GET /ISAPI/System/capabilities"] = Endpoint{Body: caps}
	p.Endpoints["GET /ISAPI/Security/doubleVerification"] = Endpoint{Body: DoubleVerificationXML(p.Namespace, true)}
	p.Endpoints["GET /ISAPI/Security/questionConfiguration"] = Endpoint{Body: SecurityQuestionXML(p.Namespace, 2, 5, 8)}
	p.Endpoints["GET /ISAPI/Security/email/parameter"] = Endpoint{ContentType: "application/json", Body: SecurityEmailJSON("")}
	// SNMP done right: v1 and v2c off, v3 on, its one user authenticated
	// (the second slot is unused).
	p.Endpoints["GET /ISAPI/System/Network/SNMP"] = Endpoint{Body: SNMPXML(p.Namespace, SNMP{
		V1:         &SNMPCommunity{Read: "Vr7-ro-community", Write: "Vr7-rw-community"},
		V2c:        &SNMPCommunity{Read: "Vr7-ro-community", Write: "Vr7-rw-community"},
		V3:         &SNMPv3{Enabled: true, Users: []SNMPUser{{Name: "nms", Auth: "SHA", Privacy: "AES"}, {Auth: "none", Privacy: "none"}}},
		ListenPort: 161,
	})}
	return demoDevice{name: "verified-dvr", configPassword: p.Password, profile: p,
		description: "DVR locked down like hardened-cam, double verification on, security questions set, no recovery e-mail, " +
			"SNMP v3 only, no IP camera"}
}

// withIdentity returns p with the model's deviceInfo (with the values set,
// and a firmware build 90 days before now, as hardened-cam's),
// capabilities, channel 101 and channel list, and the model's namespace.
// p's Endpoints map is changed.
func withIdentity(p, model Profile, now time.Time, values [][2]string) Profile {
	p.Namespace = model.Namespace
	info := model.Endpoints["GET /ISAPI/System/deviceInfo"].Body
	for _, kv := range append(values, [2]string{"firmwareReleasedDate", "build " + now.AddDate(0, 0, -90).UTC().Format("060102")}) {
		info = SetElement(info, kv[0], kv[1])
	}
	p.Endpoints["GET /ISAPI/System/deviceInfo"] = Endpoint{Body: info}
	for _, key := range []string{"GET /ISAPI/System/capabilities", "GET /ISAPI/Streaming/channels/101", KeyInputProxyChannels} {
		if e, ok := model.Endpoints[key]; ok {
			p.Endpoints[key] = e
		} else {
			delete(p.Endpoints, key)
		}
	}
	return p
}

// addToSecurityCap appends elements to the SecurityCap of a capabilities
// document.
func addToSecurityCap(caps []byte, elements string) []byte {
	return []byte(strings.Replace(string(caps), "</SecurityCap>", elements+"\n  </SecurityCap>", 1))
}
