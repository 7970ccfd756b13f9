package simulator

import (
	"bytes"
	"strconv"
)

// SNMPCommunity is a v1 or v2c block of SNMPXML.
type SNMPCommunity struct {
	Enabled     bool
	Read, Write string // readCommunity, writeCommunity ("" is sent as an empty element)
	// NoCommunities leaves readCommunity and writeCommunity out, as a v1
	// block that shares the v2c block's communities may.
	NoCommunities bool
	// Traps are the communityString of each trap receiver; none leaves the
	// receiver list out.
	Traps []string
}

// SNMPUser is one SNMPUser of the SNMPAdvanced (v3) block.
type SNMPUser struct {
	Name    string // "" is an unused slot
	Auth    string // snmpAuthenticationMethod: MD5, SHA, none
	Privacy string // snmpPrivacyMethod: DES, AES, none
}

// SNMPv3 is the SNMPAdvanced block of SNMPXML.
type SNMPv3 struct {
	Enabled bool
	// Users are listed in an SNMPUserList; none leaves the list out.
	Users []SNMPUser
}

// SNMP is what SNMPXML writes: each block is left out when nil.
type SNMP struct {
	V1, V2c    *SNMPCommunity
	V3         *SNMPv3
	ListenPort int // 0 leaves listenPort out
}

// SNMPXML builds GET /ISAPI/System/Network/SNMP (docs/isapi.md §5.16). Shape
// and element order of a configuration a client script writes back to
// cameras (each block and user restating version and namespace, trap
// receivers before the switch and the communities), with the elements
// Hikvision's web UI reads; no capture of a device's own answer.
func SNMPXML(ns string, s SNMP) []byte {
	return doc("SNMP", ns, func(b *bytes.Buffer) {
		block := func(name string, c *SNMPCommunity) {
			if c == nil {
				return
			}
			open(b, name, ns)
			el(b, "notificationEnabled", strconv.FormatBool(len(c.Traps) > 0))
			if len(c.Traps) > 0 {
				open(b, "SNMPTrapReceiverList", ns)
				for i, community := range c.Traps {
					open(b, "SNMPTrapReceiver", ns)
					el(b, "id", strconv.Itoa(i+1))
					b.WriteString("<ReceiverAddress>\n")
					el(b, "addressingFormatType", "ipaddress")
					el(b, "ipAddress", "192.0.2."+strconv.Itoa(10+i))
					el(b, "portNo", "162")
					b.WriteString("</ReceiverAddress>\n")
					el(b, "notificationType", "trap")
					el(b, "communityString", community)
					b.WriteString("</SNMPTrapReceiver>\n")
				}
				b.WriteString("</SNMPTrapReceiverList>\n")
			}
			el(b, "enabled", strconv.FormatBool(c.Enabled))
			if !c.NoCommunities {
				el(b, "writeCommunity", c.Write)
				el(b, "readCommunity", c.Read)
			}
			b.WriteString("</" + name + ">\n")
		}
		block("SNMPv1c", s.V1)
		block("SNMPv2c", s.V2c)
		if v3 := s.V3; v3 != nil {
			open(b, "SNMPAdvanced", ns)
			el(b, "localEngineID", "e0ca3cb6482a")
			if len(v3.Users) > 0 {
				b.WriteString("<SNMPUserList>\n")
				for i, u := range v3.Users {
					open(b, "SNMPUser", ns)
					el(b, "id", strconv.Itoa(i+1))
					el(b, "userName", u.Name)
					el(b, "remoteEngineID", "")
					el(b, "snmpAuthenticationMethod", u.Auth)
					el(b, "snmpPrivacyMethod", u.Privacy)
					b.WriteString("</SNMPUser>\n")
				}
				b.WriteString("</SNMPUserList>\n")
			}
			el(b, "enabled", strconv.FormatBool(v3.Enabled))
			b.WriteString("</SNMPAdvanced>\n")
		}
		if s.ListenPort > 0 {
			el(b, "listenPort", strconv.Itoa(s.ListenPort))
		}
	})
}
