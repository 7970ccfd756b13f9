package isapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PathSNMP is the device's SNMP agent configuration (docs/isapi.md §5.16). Some
// firmware spells it /ISAPI/System/network/SNMP; Hikvision's web UI and
// the real answer in docs/isapi.md use this one.
const PathSNMP = "/ISAPI/System/Network/SNMP"

// SNMP is what the exporter keeps of GET /ISAPI/System/Network/SNMP: the
// switches of each protocol version, whether each community is a factory
// default, and how many v3 users authenticate with nothing.
//
// Communities (read, write and trap) are passwords (§5.16). DecodeSNMP
// compares each community as it reads it and keeps only the verdict, so
// that no community reaches the cache, a metric, a log line or an error;
// SNMP therefore holds no text at all (TestSNMPHoldsNoText).
type SNMP struct {
	V1  SNMPCommunities // SNMPv1c
	V2c SNMPCommunities // SNMPv2c
	V3  SNMPv3          // SNMPAdvanced
	// ListenPort is listenPort, the agent's UDP port (161).
	ListenPort OptionalInt
}

// SNMPCommunities is one v1 or v2c block: its switch and, for each
// community, whether it is a well-known default (`public`, `private`) or
// empty (DefaultCommunity). A community the block does not carry is unset.
type SNMPCommunities struct {
	Enabled OptionalBool
	Read    OptionalBool // readCommunity is a default or empty
	Write   OptionalBool // writeCommunity is a default or empty
	// Trap: the communityString of a trap receiver is a default or empty
	// (true when any receiver's is).
	Trap OptionalBool
}

// SNMPv3 is the SNMPAdvanced block.
type SNMPv3 struct {
	Enabled OptionalBool
	// UsersWithoutAuth counts the SNMPUser entries with a userName whose
	// snmpAuthenticationMethod is "none". Firmware lists fixed user slots
	// (a read and a write user) and sends an unused one with an empty
	// userName and "none": that is not a user, and is not counted. Unset
	// when the block lists no user at all.
	UsersWithoutAuth OptionalInt
}

// SNMPEndpoint reads the SNMP configuration, cached. Its decoder keeps no
// community (see SNMP), and its errors never quote the answer.
var SNMPEndpoint = Derived(PathSNMP, true, DecodeSNMP)

// DefaultCommunity reports whether an SNMP community is one that anybody
// would try first: empty (after trimming white space), or exactly
// "public" or "private", the factory values (docs/isapi.md §5.16).
func DefaultCommunity(c []byte) bool {
	switch string(trimSpaceBytes(c)) {
	case "", "public", "private":
		return true
	}
	return false
}

// DecodeSNMP reads an SNMP answer. Elements are matched by local name in
// any namespace, wherever they sit inside their version block:
//
//   - SNMPv1c and SNMPv2c (SNMPv1, SNMPv2 accepted too) with enabled as a
//     direct child, readCommunity and writeCommunity, and communityString
//     in SNMPTrapReceiverList/SNMPTrapReceiver;
//   - SNMPAdvanced (or SNMPv3) with enabled and SNMPUserList/SNMPUser/
//     {userName, snmpAuthenticationMethod};
//   - listenPort outside the blocks.
//
// Every element is optional. A v1 block without readCommunity or
// writeCommunity (or trap receiver community) takes the v2c block's
// verdict: Hikvision's web UI shows and edits one set of communities, read
// from SNMPv2c, and writes it into both blocks. An answer whose root is
// not SNMP is refused.
//
// An error never quotes the answer: it says what went wrong and where
// (a line number), not with what text.
func DecodeSNMP(b []byte) (SNMP, error) {
	var d snmpDoc
	if err := Decode(b, &d); err != nil {
		return SNMP{}, redactDecodeError(err)
	}
	if !d.root {
		return SNMP{}, errors.New("answer is not an SNMP document")
	}
	s := d.out
	if d.v1 {
		for _, c := range [][2]*OptionalBool{{&s.V1.Read, &s.V2c.Read}, {&s.V1.Write, &s.V2c.Write}, {&s.V1.Trap, &s.V2c.Trap}} {
			if !c[0].Set {
				*c[0] = *c[1]
			}
		}
	}
	return s, nil
}

// SecretAnswerError is a malformed answer of an endpoint whose answer
// holds secrets: unlike DecodeError it carries no part of the body, and
// only the kind and line of the fault.
type SecretAnswerError struct {
	What string // "XML syntax error on line 3", "XML answer too complex", ...
	Err  error  // ErrXMLTooComplex when that was the fault, else nil
}

func (e *SecretAnswerError) Error() string {
	return "malformed XML answer (" + e.What + "); the answer is not quoted: it holds secrets"
}

func (e *SecretAnswerError) Unwrap() error { return e.Err }

// redactDecodeError turns an error of Decode into a SecretAnswerError. A
// syntax error's message may quote the document (an element name, an
// entity, the text around a bad character), so only its line is kept; a
// decoding limit is named without its details.
func redactDecodeError(err error) error {
	var se *xml.SyntaxError
	switch {
	case errors.Is(err, ErrXMLTooComplex):
		return &SecretAnswerError{What: ErrXMLTooComplex.Error(), Err: ErrXMLTooComplex}
	case errors.As(err, &se):
		return &SecretAnswerError{What: fmt.Sprintf("XML syntax error on line %d", se.Line)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &SecretAnswerError{What: "the answer ends early"}
	}
	return &SecretAnswerError{What: "not a well-formed XML document"}
}

// snmpDoc walks an SNMP answer token by token (see DecodeSNMP).
type snmpDoc struct {
	out  SNMP
	root bool // the root element is SNMP
	v1   bool // the document has a v1 block

	stack []string  // local names of the open elements, the root first
	block snmpBlock // the version block the walk is in
	depth int       // len(stack) when that block opened
	text  []byte    // text of the element being read, when it is one of ours
	user  *snmpUser // the SNMPUser being read

	usersListed bool  // SNMPAdvanced lists users (SNMPUserList or SNMPUser)
	withoutAuth int64 // named users with snmpAuthenticationMethod none
}

type snmpBlock uint8

const (
	noBlock snmpBlock = iota
	blockV1
	blockV2c
	blockV3
)

type snmpUser struct{ named, noAuth bool }

func blockOf(local string) snmpBlock {
	switch strings.ToLower(local) {
	case "snmpv1c", "snmpv1":
		return blockV1
	case "snmpv2c", "snmpv2":
		return blockV2c
	case "snmpadvanced", "snmpv3":
		return blockV3
	}
	return noBlock
}

// UnmarshalXML reads the whole document through Decode's limits.
func (d *snmpDoc) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	d.root = strings.EqualFold(start.Name.Local, "SNMP")
	d.stack = append(d.stack[:0], start.Name.Local)
	defer d.forget()
	for len(d.stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			d.open(t.Name.Local)
		case xml.CharData:
			if d.text != nil {
				d.text = append(d.text, t...)
			}
		case xml.EndElement:
			d.close()
		}
	}
	if d.usersListed {
		d.out.V3.UsersWithoutAuth = OptionalInt{V: d.withoutAuth, Set: true}
	}
	return nil
}

// forget wipes the last text read, which may be a community.
func (d *snmpDoc) forget() {
	clear(d.text[:cap(d.text)])
	d.text = nil
}

// collected reports whether the element local, at the current depth,
// is one whose text the walk reads.
func (d *snmpDoc) collected(local string) bool {
	switch d.block {
	case noBlock:
		return local == "listenPort"
	case blockV1, blockV2c:
		switch local {
		case "readCommunity", "writeCommunity", "communityString":
			return true
		case "enabled":
			return len(d.stack) == d.depth+1
		}
	case blockV3:
		switch local {
		case "enabled":
			return len(d.stack) == d.depth+1
		case "userName", "snmpAuthenticationMethod":
			return d.user != nil
		}
	}
	return false
}

func (d *snmpDoc) open(local string) {
	d.stack = append(d.stack, local)
	if d.block == noBlock {
		if b := blockOf(local); b != noBlock {
			d.block, d.depth = b, len(d.stack)
			d.v1 = d.v1 || b == blockV1
			d.forget()
			return
		}
	}
	if d.block == blockV3 {
		switch {
		case local == "SNMPUserList":
			d.usersListed = true
		case local == "SNMPUser" && d.user == nil:
			d.usersListed = true
			d.user = &snmpUser{}
		}
	}
	if d.collected(local) {
		d.text = d.text[:0]
		if d.text == nil {
			d.text = make([]byte, 0, 64)
		}
	} else {
		d.forget()
	}
}

func (d *snmpDoc) close() {
	local := d.stack[len(d.stack)-1]
	if d.text != nil && d.collected(local) {
		d.read(local, d.text)
	}
	d.forget()
	switch {
	case d.block != noBlock && len(d.stack) == d.depth:
		d.block = noBlock
	case d.block == blockV3 && local == "SNMPUser" && d.user != nil:
		if d.user.named && d.user.noAuth {
			d.withoutAuth++
		}
		d.user = nil
	}
	d.stack = d.stack[:len(d.stack)-1]
}

// read takes the verdict of one element's text; the text itself is not
// kept.
func (d *snmpDoc) read(local string, text []byte) {
	var c *SNMPCommunities
	switch d.block {
	case noBlock:
		if local == "listenPort" && !d.out.ListenPort.Set {
			_ = d.out.ListenPort.UnmarshalText(text)
		}
		return
	case blockV1:
		c = &d.out.V1
	case blockV2c:
		c = &d.out.V2c
	case blockV3:
		switch local {
		case "enabled":
			setFirst(&d.out.V3.Enabled, text)
		case "userName":
			d.user.named = len(trimSpaceBytes(text)) > 0
		case "snmpAuthenticationMethod":
			d.user.noAuth = strings.EqualFold(string(trimSpaceBytes(text)), "none")
		}
		return
	}
	switch local {
	case "enabled":
		setFirst(&c.Enabled, text)
	case "readCommunity":
		orDefault(&c.Read, text)
	case "writeCommunity":
		orDefault(&c.Write, text)
	case "communityString":
		orDefault(&c.Trap, text)
	}
}

// setFirst sets b from text unless an earlier element set it.
func setFirst(b *OptionalBool, text []byte) {
	if !b.Set {
		_ = b.UnmarshalText(text)
	}
}

// orDefault records whether a community is a default; a block that lists
// several (two trap receivers, a block sent twice) is a default when any
// of them is.
func orDefault(b *OptionalBool, community []byte) {
	b.V = b.V || DefaultCommunity(community)
	b.Set = true
}

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isXMLSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
