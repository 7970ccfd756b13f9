package isapi

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// snmpCanary stands for a community the operator chose: no error, value or
// cached answer may hold it.
const snmpCanary = "Snmp-Canary-4e1b"

// showSNMP prints a decoded SNMP answer as
// "v1=E/R/W/T v2c=E/R/W/T v3=E/N port=P": E the switch, R, W, T whether the
// read, write and trap communities are defaults, N the v3 users without
// authentication; 1, 0, or - when not sent.
func showSNMP(s *SNMP) string {
	b := func(v OptionalBool) string {
		switch {
		case !v.Set:
			return "-"
		case v.V:
			return "1"
		}
		return "0"
	}
	c := func(c SNMPCommunities) string {
		return b(c.Enabled) + "/" + b(c.Read) + "/" + b(c.Write) + "/" + b(c.Trap)
	}
	return fmt.Sprintf("v1=%s v2c=%s v3=%s/%s port=%s", c(s.V1), c(s.V2c), b(s.V3.Enabled), showInt(s.V3.UsersWithoutAuth), showInt(s.ListenPort))
}

// snmpClientPayload is the configuration a client script writes back to
// cameras (docs/isapi.md §5.16): every block and user restating version and
// namespace, factory communities, two unused v3 user slots.
const snmpClientPayload = `<SNMPv1c version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <notificationEnabled>true</notificationEnabled> <SNMPTrapReceiverList version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <SNMPTrapReceiver version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <id>1</id> <ReceiverAddress> <addressingFormatType>ipaddress</addressingFormatType> <ipAddress>172.31.88.107</ipAddress> <portNo>162</portNo> </ReceiverAddress> <notificationType>trap</notificationType> <communityString>public</communityString> </SNMPTrapReceiver> </SNMPTrapReceiverList> <enabled>false</enabled> <writeCommunity>private</writeCommunity> <readCommunity>public</readCommunity> </SNMPv1c>` +
	` <SNMPv2c version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <notificationEnabled>true</notificationEnabled> <SNMPTrapReceiverList version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <SNMPTrapReceiver version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <id>1</id> <ReceiverAddress> <addressingFormatType>ipaddress</addressingFormatType> <ipAddress>192.0.2.7</ipAddress> <portNo>162</portNo> </ReceiverAddress> <notificationType>trap</notificationType> <communityString>public</communityString> </SNMPTrapReceiver> </SNMPTrapReceiverList> <enabled>true</enabled> <writeCommunity>private</writeCommunity> <readCommunity>public</readCommunity> </SNMPv2c>` +
	` <SNMPAdvanced version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <localEngineID>e0ca3cb6482a</localEngineID> <SNMPUserList> <SNMPUser version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <id>1</id> <userName></userName> <remoteEngineID></remoteEngineID> <snmpAuthenticationMethod>none</snmpAuthenticationMethod> <snmpPrivacyMethod>none</snmpPrivacyMethod> </SNMPUser> <SNMPUser version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema"> <id>2</id> <userName></userName> <remoteEngineID></remoteEngineID> <snmpAuthenticationMethod>none</snmpAuthenticationMethod> <snmpPrivacyMethod>none</snmpPrivacyMethod> </SNMPUser> </SNMPUserList> <enabled>false</enabled> </SNMPAdvanced> <listenPort>161</listenPort>`

func TestSNMPDecodeShapes(t *testing.T) {
	v2c := func(inner string) string { return "<SNMPv2c><enabled>true</enabled>" + inner + "</SNMPv2c>" }
	user := func(name, auth string) string {
		return "<SNMPUser><id>1</id><userName>" + name + "</userName><snmpAuthenticationMethod>" + auth + "</snmpAuthenticationMethod><snmpAuthenticationKey>" + snmpCanary + "</snmpAuthenticationKey></SNMPUser>"
	}
	for name, c := range map[string]struct{ inner, want string }{
		"client payload: factory communities, unused v3 slots": {snmpClientPayload,
			"v1=0/1/1/1 v2c=1/1/1/1 v3=0/0 port=161"},
		"custom communities": {v2c("<readCommunity>" + snmpCanary + "</readCommunity><writeCommunity>" + snmpCanary + "-w</writeCommunity>" +
			"<SNMPTrapReceiverList><SNMPTrapReceiver><communityString>" + snmpCanary + "-t</communityString></SNMPTrapReceiver></SNMPTrapReceiverList>"),
			"v1=-/-/-/- v2c=1/0/0/0 v3=-/- port=-"},
		"empty communities, three spellings": {v2c("<readCommunity/><writeCommunity></writeCommunity>" +
			"<SNMPTrapReceiverList><SNMPTrapReceiver><communityString>\n  </communityString></SNMPTrapReceiver></SNMPTrapReceiverList>"),
			"v1=-/-/-/- v2c=1/1/1/1 v3=-/- port=-"},
		"defaults are exact, white space aside": {v2c("<readCommunity> public </readCommunity><writeCommunity>Private</writeCommunity>"),
			"v1=-/-/-/- v2c=1/1/0/- v3=-/- port=-"},
		"text split by a comment": {v2c("<readCommunity>pub<!-- x -->lic</readCommunity><writeCommunity>pri<![CDATA[vate]]></writeCommunity>"),
			"v1=-/-/-/- v2c=1/1/1/- v3=-/- port=-"},
		"one default trap receiver of two": {v2c("<SNMPTrapReceiverList><SNMPTrapReceiver><communityString>" + snmpCanary +
			"</communityString></SNMPTrapReceiver><SNMPTrapReceiver><communityString>public</communityString></SNMPTrapReceiver></SNMPTrapReceiverList>"),
			"v1=-/-/-/- v2c=1/-/-/1 v3=-/- port=-"},
		"v1 without communities shares v2c's": {"<SNMPv1c><enabled>true</enabled></SNMPv1c>" +
			v2c("<readCommunity>"+snmpCanary+"</readCommunity><writeCommunity>private</writeCommunity>"),
			"v1=1/0/1/- v2c=1/0/1/- v3=-/- port=-"},
		"v1 keeps its own communities": {"<SNMPv1c><enabled>true</enabled><readCommunity>public</readCommunity></SNMPv1c>" +
			v2c("<readCommunity>"+snmpCanary+"</readCommunity><writeCommunity>"+snmpCanary+"</writeCommunity>"),
			"v1=1/1/0/- v2c=1/0/0/- v3=-/- port=-"},
		"enabled of a trap receiver is not the block's": {"<SNMPv2c><SNMPTrapReceiverList><SNMPTrapReceiver><enabled>true</enabled></SNMPTrapReceiver></SNMPTrapReceiverList></SNMPv2c>",
			"v1=-/-/-/- v2c=-/-/-/- v3=-/- port=-"},
		"v3 users": {"<SNMPAdvanced><enabled>true</enabled><SNMPUserList>" + user("reader", "none") + user("writer", "NONE") +
			user("admin", "SHA") + user("", "none") + user("noauth", "") + "</SNMPUserList></SNMPAdvanced>",
			"v1=-/-/-/- v2c=-/-/-/- v3=1/2 port=-"},
		"v3 block without a user list": {"<SNMPAdvanced><enabled>false</enabled><localEngineID>x</localEngineID></SNMPAdvanced>",
			"v1=-/-/-/- v2c=-/-/-/- v3=0/- port=-"},
		"v3 empty user list": {"<SNMPAdvanced><SNMPUserList/></SNMPAdvanced>",
			"v1=-/-/-/- v2c=-/-/-/- v3=-/0 port=-"},
		"other block spellings": {"<SNMPv1><enabled>1</enabled><readCommunity>private</readCommunity><writeCommunity>x</writeCommunity></SNMPv1><SNMPv3><enabled>true</enabled></SNMPv3>",
			"v1=1/1/0/- v2c=-/-/-/- v3=1/- port=-"},
		"blocks nested one level down": {"<SNMPConfig>" + v2c("<readCommunity>public</readCommunity>") + "</SNMPConfig><listenPort>1161</listenPort>",
			"v1=-/-/-/- v2c=1/1/-/- v3=-/- port=1161"},
		"nothing but the port": {"<listenPort>161</listenPort>", "v1=-/-/-/- v2c=-/-/-/- v3=-/- port=161"},
		"empty":                {"", "v1=-/-/-/- v2c=-/-/-/- v3=-/- port=-"},
		"garbage values":       {"<SNMPv2c><enabled>maybe</enabled></SNMPv2c><listenPort>udp</listenPort>", "v1=-/-/-/- v2c=-/-/-/- v3=-/- port=-"},
	} {
		for style := range rootOpenings {
			t.Run(name+"/"+style, func(t *testing.T) {
				s, err := DecodeSNMP(namespacedDoc(style, "SNMP", c.inner))
				if err != nil {
					t.Fatal(err)
				}
				if got := showSNMP(&s); got != c.want {
					t.Errorf("got  %s\nwant %s", got, c.want)
				}
			})
		}
	}
}

func TestSNMPRefusesAnotherDocument(t *testing.T) {
	for _, body := range [][]byte{
		simulator.ResponseStatusXML(simulator.NamespaceHikvision20, PathSNMP, 4, "Invalid Operation", "notSupport"),
		[]byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body><SNMPv2c><enabled>true</enabled></SNMPv2c></body></html>`),
		[]byte(`<` + snmpCanary + `><SNMPv2c/></` + snmpCanary + `>`),
	} {
		_, err := DecodeSNMP(body)
		if err == nil || strings.Contains(err.Error(), snmpCanary) {
			t.Errorf("%.40s...: err = %v, want a refusal that does not quote the answer", body, err)
		}
	}
}

// The simulator's SNMP documents read as built, in every namespace.
func TestSNMPSimulatorShapes(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		for want, s := range map[string]simulator.SNMP{
			"v1=1/1/1/1 v2c=1/0/0/0 v3=1/1 port=161": {
				V1:  &simulator.SNMPCommunity{Enabled: true, Read: "public", Write: "private", Traps: []string{""}},
				V2c: &simulator.SNMPCommunity{Enabled: true, Read: snmpCanary, Write: snmpCanary, Traps: []string{snmpCanary}},
				V3: &simulator.SNMPv3{Enabled: true, Users: []simulator.SNMPUser{
					{Name: "ro", Auth: "none", Privacy: "none"}, {Name: "rw", Auth: "SHA", Privacy: "AES"}, {Auth: "none", Privacy: "none"}}},
				ListenPort: 161,
			},
			"v1=0/1/0/- v2c=1/1/0/- v3=-/- port=-": {
				V1:  &simulator.SNMPCommunity{NoCommunities: true},
				V2c: &simulator.SNMPCommunity{Enabled: true, Read: "", Write: snmpCanary},
			},
			"v1=-/-/-/- v2c=-/-/-/- v3=0/- port=162": {V3: &simulator.SNMPv3{}, ListenPort: 162},
		} {
			s, err := DecodeSNMP(simulator.SNMPXML(ns, s))
			if err != nil {
				t.Fatalf("ns %q: %v", ns, err)
			}
			if got := showSNMP(&s); got != want {
				t.Errorf("ns %q: got %s, want %s", ns, got, want)
			}
		}
	}
}

// snmpErrorRE is every error DecodeSNMP may return: fixed text and line
// numbers, nothing taken from the answer.
var snmpErrorRE = regexp.MustCompile(`^(malformed XML answer \((XML syntax error on line \d+|XML answer too complex|the answer ends early|not a well-formed XML document)\); the answer is not quoted: it holds secrets|answer is not an SNMP document)$`)

// malformedSNMP are broken answers that carry the canary where a careless
// error message would quote it: in the first bytes (DecodeError's
// snippet), in an entity, a tag name, an attribute, around a bad
// character, past a decoding limit.
func malformedSNMP() map[string][]byte {
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<SNMP version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><SNMPv2c><readCommunity>`
	return map[string][]byte{
		"truncated after the community": []byte(head + snmpCanary + "</readCommunity><writeComm"),
		"truncated in the community":    []byte(head + snmpCanary),
		"community first":               []byte("<SNMP><readCommunity>" + snmpCanary + "</readCommunity>"),
		"entity in the community":       []byte(head + "x&" + snmpCanary + ";</readCommunity></SNMPv2c></SNMP>"),
		"entity without semicolon":      []byte(head + "x&" + snmpCanary + " </readCommunity></SNMPv2c></SNMP>"),
		"closed by the community":       []byte(head + "x</" + snmpCanary + "></SNMPv2c></SNMP>"),
		"attribute":                     []byte(head + `x</readCommunity><enabled v=` + snmpCanary + `>true</enabled></SNMPv2c></SNMP>`),
		"bad character":                 []byte(head + snmpCanary + "\x01\x02</readCommunity></SNMPv2c></SNMP>"),
		"bad UTF-8":                     []byte(head + snmpCanary + "\xff\xfe</readCommunity></SNMPv2c></SNMP>"),
		"not XML":                       []byte(snmpCanary + " public private"),
		"too deep": []byte(head + snmpCanary + "</readCommunity>" + strings.Repeat("<"+snmpCanary+">", maxXMLDepth+1) +
			strings.Repeat("</"+snmpCanary+">", maxXMLDepth+1) + "</SNMPv2c></SNMP>"),
		"too many attributes": []byte(head + snmpCanary + "</readCommunity><x" + strings.Repeat(` a`+snmpCanary+`=""`, 40) + "/></SNMPv2c></SNMP>"),
	}
}

func TestSNMPErrorsNeverQuoteTheAnswer(t *testing.T) {
	for name, body := range malformedSNMP() {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeSNMP(body)
			if err == nil {
				t.Fatal("decoded")
			}
			if !snmpErrorRE.MatchString(err.Error()) {
				t.Errorf("error %q is not one of the fixed messages", err)
			}
			var dummy *DecodeError
			if errors.As(err, &dummy) {
				t.Errorf("a DecodeError (it quotes the body): %v", err)
			}
		})
	}
	// The limits stay recognisable.
	if _, err := DecodeSNMP(malformedSNMP()["too deep"]); !errors.Is(err, ErrXMLTooComplex) {
		t.Errorf("too deep: %v, want ErrXMLTooComplex", err)
	}
}

// Through the client: the error a collector logs and the debug report
// shows names the path and holds no community.
func TestSNMPFetchErrorsAndCache(t *testing.T) {
	p := camProfile()
	p.Endpoints["GET "+PathSNMP] = simulator.Endpoint{Body: simulator.SNMPXML(simulator.NamespaceISAPIOrg20, simulator.SNMP{
		V2c: &simulator.SNMPCommunity{Enabled: true, Read: snmpCanary, Write: "private", Traps: []string{snmpCanary}}})}
	c, dev := startClient(t, p)
	ctx := context.Background()
	for i := range 2 {
		if i == 1 {
			dev.ResetStats()
		}
		s, err := Fetch(ctx, c, SNMPEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := showSNMP(&s), "v1=-/-/-/- v2c=1/0/1/0 v3=-/- port=-"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if strings.Contains(fmt.Sprintf("%#v", s), snmpCanary) {
			t.Errorf("decoded value holds the community: %#v", s)
		}
	}
	if n := dev.Stats().Requests; n != 0 {
		t.Errorf("second read sent %d requests, want 0 (cached)", n)
	}

	for name, body := range malformedSNMP() {
		t.Run(name, func(t *testing.T) {
			p := camProfile()
			p.Endpoints["GET "+PathSNMP] = simulator.Endpoint{Body: body}
			c, _ := startClient(t, p)
			_, err := Fetch(ctx, c, SNMPEndpoint)
			var ae *AnswerError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), PathSNMP) || strings.Contains(err.Error(), snmpCanary) {
				t.Errorf("err = %v, want an AnswerError naming %s and not the community", err, PathSNMP)
			}
		})
	}
}

// TestSNMPHoldsNoText: what the cache keeps of an SNMP answer is flags and
// numbers; there is no field a community could be put in.
func TestSNMPHoldsNoText(t *testing.T) {
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				check(path+"."+f.Name, f.Type)
			}
		case reflect.Bool, reflect.Int64:
		default:
			t.Errorf("%s is a %s; SNMP may hold only flags and numbers", path, typ)
		}
	}
	check("SNMP", reflect.TypeFor[SNMP]())
}

func TestSNMPDefaultCommunity(t *testing.T) {
	for in, want := range map[string]bool{
		"public": true, "private": true, "": true, " ": true, "\n\tpublic\n": true,
		"Public": false, "PRIVATE": false, "public1": false, "publicprivate": false, snmpCanary: false,
	} {
		if got := DefaultCommunity([]byte(in)); got != want {
			t.Errorf("DefaultCommunity(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzDecodeSNMP(f *testing.F) {
	f.Add(namespacedDoc("hikvision-ver20", "SNMP", snmpClientPayload))
	f.Add(namespacedDoc("prefixed", "SNMP", "<SNMPv2c><enabled>true</enabled><readCommunity>x</readCommunity></SNMPv2c><SNMPAdvanced><SNMPUserList><SNMPUser><userName>u</userName><snmpAuthenticationMethod>none</snmpAuthenticationMethod></SNMPUser></SNMPUserList></SNMPAdvanced>"))
	f.Add(simulator.SNMPXML("", simulator.SNMP{V1: &simulator.SNMPCommunity{NoCommunities: true}, V2c: &simulator.SNMPCommunity{Traps: []string{"a", "public"}}}))
	for _, b := range malformedSNMP() {
		if len(b) < 600 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSNMP(b)
		if err != nil {
			if !snmpErrorRE.MatchString(err.Error()) {
				t.Fatalf("error %q is not one of the fixed messages", err)
			}
			return
		}
		if n := s.V3.UsersWithoutAuth; n.Set && n.V < 0 {
			t.Fatalf("negative user count %d", n.V)
		}
	})
}
