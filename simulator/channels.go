package simulator

import (
	"bytes"
	"encoding/xml"
	"maps"
	"strconv"
)

// The IP channels of a recorder: GET /ISAPI/ContentMgmt/InputProxy/channels
// and .../channels/status (docs/isapi.md §5.17).

// Endpoint keys of a recorder's IP channels.
const (
	KeyInputProxyChannels      = "GET /ISAPI/ContentMgmt/InputProxy/channels"
	KeyInputProxyChannelStatus = "GET /ISAPI/ContentMgmt/InputProxy/channels/status"
)

// CaptureProfile serves the recorders' real channel lists
// (captures/inputProxyChannels__*): DS-7608NXI-I2, DS-7616NI-K2,
// DS-7616NI-Q2 and the iDS-7208HQHI-M1 DVR, whose list is empty. No status
// capture exists, so their status endpoint answers 404 unless a test
// serves InputProxyChannelStatusXML.
func init() { captureFiles[KeyInputProxyChannels] = "inputProxyChannels" }

// RecorderChannel is one IP channel of InputProxyChannelsXML and
// InputProxyChannelStatusXML. A zero field leaves its element out, as
// recorders do for ONVIF cameras and empty channels.
type RecorderChannel struct {
	ID        int    // id; 0 = no id element
	Name      string // user-set channel name
	Protocol  string // proxyProtocol: HIKVISION, ONVIF, ...
	IPAddress string
	UserName  string // the camera account the recorder logs in with
	// Password, when set, is written as a password element of the
	// descriptor, as some firmware does; the exporter must never read it.
	Password                             string
	Model, SerialNumber, FirmwareVersion string // firmwareVersion joined: "V5.7.15 build 240201"
	CertificateValidation                *bool  // certificateValidationEnabled; nil = not sent
	Offline                              bool   // status: online false, chanDetectResult offline
}

// InputProxyChannelsXML builds GET /ISAPI/ContentMgmt/InputProxy/channels.
// Real shape: the inputProxyChannels captures (§5.17); size is the number
// of channels (real recorders send a wrong one).
func InputProxyChannelsXML(ns string, channels ...RecorderChannel) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	b.WriteString(`<InputProxyChannelList version="2.0" size="` + strconv.Itoa(len(channels)) + `" xmlns="`)
	xml.EscapeText(&b, []byte(ns))
	b.WriteString("\">\n")
	for _, c := range channels {
		b.WriteString("<InputProxyChannel>\n")
		optional(&b, "id", c.ID)
		text(&b, "name", c.Name)
		b.WriteString("<sourceInputPortDescriptor>\n")
		text(&b, "proxyProtocol", c.Protocol)
		el(&b, "addressingFormatType", "ipaddress")
		text(&b, "ipAddress", c.IPAddress)
		el(&b, "managePortNo", "8000")
		el(&b, "srcInputPort", "1")
		text(&b, "userName", c.UserName)
		text(&b, "password", c.Password)
		el(&b, "streamType", "auto")
		text(&b, "model", c.Model)
		text(&b, "serialNumber", c.SerialNumber)
		text(&b, "firmwareVersion", c.FirmwareVersion)
		b.WriteString("</sourceInputPortDescriptor>\n")
		if c.CertificateValidation != nil {
			el(&b, "certificateValidationEnabled", strconv.FormatBool(*c.CertificateValidation))
		}
		el(&b, "enableTiming", "true")
		b.WriteString("</InputProxyChannel>\n")
	}
	b.WriteString("</InputProxyChannelList>\n")
	return b.Bytes()
}

// InputProxyChannelStatusXML builds GET
// /ISAPI/ContentMgmt/InputProxy/channels/status. Synthetic, from client
// code (§5.17): id, online, chanDetectResult (connect or offline), the
// address and the channel's stream ids.
func InputProxyChannelStatusXML(ns string, channels ...RecorderChannel) []byte {
	return doc("InputProxyChannelStatusList", ns, func(b *bytes.Buffer) {
		for _, c := range channels {
			b.WriteString("<InputProxyChannelStatus>\n")
			optional(b, "id", c.ID)
			b.WriteString("<sourceInputPortDescriptor>\n")
			text(b, "proxyProtocol", c.Protocol)
			text(b, "ipAddress", c.IPAddress)
			b.WriteString("</sourceInputPortDescriptor>\n")
			el(b, "online", strconv.FormatBool(!c.Offline))
			result := "connect"
			if c.Offline {
				result = "offline"
			}
			el(b, "chanDetectResult", result)
			if c.ID > 0 {
				b.WriteString("<streamingProxyChannelIdList>\n")
				el(b, "streamingProxyChannelId", strconv.Itoa(c.ID*100+1))
				el(b, "streamingProxyChannelId", strconv.Itoa(c.ID*100+2))
				b.WriteString("</streamingProxyChannelIdList>\n")
			}
			b.WriteString("</InputProxyChannelStatus>\n")
		}
	})
}

// WithRecorderChannels returns p serving channels as a recorder's IP
// channel list and their status, in p's namespace (the default when
// unset). p's Endpoints map is copied, not changed.
func (p Profile) WithRecorderChannels(channels ...RecorderChannel) Profile {
	ns := p.Namespace
	if ns == "" {
		ns = NamespaceHikvision20
	}
	eps := make(map[string]Endpoint, len(p.Endpoints)+2)
	maps.Copy(eps, p.Endpoints)
	eps[KeyInputProxyChannels] = Endpoint{Body: InputProxyChannelsXML(ns, channels...)}
	eps[KeyInputProxyChannelStatus] = Endpoint{Body: InputProxyChannelStatusXML(ns, channels...)}
	p.Endpoints = eps
	return p
}

// Bool returns a pointer to v, for RecorderChannel.CertificateValidation
// literals.
func Bool(v bool) *bool { return &v }

// text writes an element when value is not empty.
func text(b *bytes.Buffer, name, value string) {
	if value != "" {
		el(b, name, value)
	}
}

// optional writes an integer element when n is positive.
func optional(b *bytes.Buffer, name string, n int) {
	if n > 0 {
		el(b, name, strconv.Itoa(n))
	}
}
