package isapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html/charset"
)

// charsetReader decodes the charsets OEM firmware declares (ISO-8859-1,
// GB2312, ...): user-set fields such as deviceName may hold non-ASCII text.
// An unknown label is read as UTF-8 rather than failing the document. The
// decoded text is guarded again: in UTF-16 or ISO-2022-JP the raw bytes do
// not show where tags and attributes are.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	if cr, err := charset.NewReaderLabel(label, r); err == nil {
		r = cr
	}
	return &guardedReader{r: r}, nil
}

// Decode unmarshals an ISAPI XML document into v.
//
// Struct tags in this package carry no namespace, so encoding/xml matches
// elements by local name: real firmware answers in hikvision.com ver10/ver20,
// isapi.org ver20, std-cgi.com, urn:psialliance-org and more, sometimes mixed
// within one document. Non-UTF-8 declarations are read as UTF-8, since
// Hikvision declares UTF-8 but some OEM builds name other charsets for what is
// ASCII in every field we read.
//
// A device may send anything up to the size limit, so decoding is bounded
// (see maxXMLDepth and the limits after it): a document past a limit fails
// with an error wrapping ErrXMLTooComplex.
//
// A document type that names its element (DeviceInfo, Time, SecurityCap,
// ...) is read from the first element of that name at any depth, the
// root included, as DecodeFirst does, and from the root when the document
// holds none: firmware wraps some answers one level deeper than others.
// List types (UserList, EventTriggerList, the log search's matches) find
// their entries by name at any depth below the root.
func Decode(body []byte, v any) error {
	if n, ok := v.(namedDocument); ok {
		found, err := DecodeFirst(body, n.elementName(), v)
		if err != nil || found {
			return err
		}
	}
	return decodeRoot(body, v)
}

// namedDocument is a document type Decode finds by its element's local
// name wherever it sits.
type namedDocument interface{ elementName() string }

// newDecoder returns the bounded decoder of body: the outer decoder
// translates namespaces and checks nesting on the tokens the limiter let
// through, exactly as it would on raw tokens.
func newDecoder(body []byte) (*xml.Decoder, *limitReader) {
	raw := xml.NewDecoder(&guardedBody{b: body})
	raw.CharsetReader = charsetReader
	lim := &limitReader{raw: raw}
	return xml.NewTokenDecoder(lim), lim
}

// decodeRoot unmarshals the root element of body into v.
func decodeRoot(body []byte, v any) error {
	d, lim := newDecoder(body)
	if err := d.Decode(v); err != nil {
		return &DecodeError{Err: lim.locate(err), Snippet: snippet(body)}
	}
	return nil
}

// DecodeFirst unmarshals into v the first element whose local name is
// local, at any depth of the root element (the root itself included), in
// one pass. found is false, with no error, when the root holds no such
// element. The rest of the root is read too, without being decoded, so
// that a broken answer (a transfer cut short) fails as it does with
// Decode; the limits of Decode apply to all of it.
func DecodeFirst(body []byte, local string, v any) (found bool, err error) {
	d, lim := newDecoder(body)
	fail := func(err error) (bool, error) {
		return false, &DecodeError{Err: lim.locate(err), Snippet: snippet(body)}
	}
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			// EOF before any element is an empty answer, as for Decode;
			// inside the root the decoder reports it as a syntax error.
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == local {
				if err := d.DecodeElement(v, &t); err != nil {
					return fail(err)
				}
				for ; depth > 0; depth-- { // up to the end of the root
					if err := d.Skip(); err != nil {
						return fail(err)
					}
				}
				return true, nil
			}
			depth++
		case xml.EndElement:
			if depth--; depth == 0 {
				return false, nil // the end of the root: the document
			}
		}
	}
}

// decodeEvery reads the rest of the element whose start tag d has just
// returned, appending every element named name at any depth below it to
// *to: the list types whose entries sit at different depths on different
// firmware.
func decodeEvery[T any](d *xml.Decoder, name string, to *[]T) error {
	return walkElement(d, func(se *xml.StartElement, _ int) (bool, error) {
		if se.Name.Local != name {
			return false, nil
		}
		return decodeAppend(d, se, to)
	})
}

// decodeChild decodes se into children[its name] when it is a child
// (depth 1) named there, as a walkElement visit; any other element is left
// for walkElement to go into.
func decodeChild(d *xml.Decoder, se *xml.StartElement, depth int, children map[string]any) (bool, error) {
	field, ok := children[se.Name.Local]
	if depth > 1 || !ok {
		return false, nil
	}
	return true, d.DecodeElement(field, se)
}

// decodeAppend decodes the element se into a new T and appends it to *to,
// as a walkElement visit that has read the element.
func decodeAppend[T any](d *xml.Decoder, se *xml.StartElement, to *[]T) (bool, error) {
	var v T
	err := d.DecodeElement(&v, se)
	*to = append(*to, v)
	return true, err
}

// walkElement reads the rest of the element whose start tag d has just
// returned, up to its end tag, handing every element below it to visit
// with its depth (1 for a child). visit either reads that element whole
// (DecodeElement, Skip) and returns true, or returns false to have
// walkElement go on into it. It serves the UnmarshalXML methods of types
// whose entries sit at different depths on different firmware.
func walkElement(d *xml.Decoder, visit func(start *xml.StartElement, depth int) (bool, error)) error {
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			read, err := visit(&t, depth+1)
			if err != nil {
				return err
			}
			if !read {
				depth++
			}
		case xml.EndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

// ErrXMLTooComplex is wrapped in the *DecodeError for an XML answer nested
// deeper, or holding more elements, tokens or attributes, than Decode
// accepts.
var ErrXMLTooComplex = errors.New("XML answer too complex")

// Limits of one XML answer. The real answers in simulator/captures
// (the recorders' event triggers are the largest) nest at most 7 deep and
// hold at most 718 elements, 2,862 tokens, 254 attributes, and 3 attributes
// on one element. A log-search page is DefaultLogPageSize entries, and
// devices stop at RecorderLogCap (2,000 entries of about 7 elements). The
// element limit leaves room for twice that, and no more: elements decoded
// into a slice of structs cost up to 1 kB each (the slice grows by a
// quarter at a time), so these limits keep the worst 4 MiB answer under
// 64 MiB allocated (TestHostileAnswersStayWithinBudget).
const (
	maxXMLDepth        = 64
	maxXMLElements     = 32 << 10
	maxXMLTokens       = 8 * maxXMLElements // real answers: 4 per element
	maxXMLAttrs        = maxXMLElements     // in the whole document
	maxXMLElementAttrs = 32                 // enforced by attrGuard
)

// limitReader hands the raw tokens of one document to the decoder and
// fails once the document exceeds a limit, before the decoder has spent
// anything on the token past it.
type limitReader struct {
	raw                            *xml.Decoder
	depth, elements, tokens, attrs int
}

func (l *limitReader) Token() (xml.Token, error) {
	t, err := l.raw.RawToken()
	if t != nil {
		if lerr := l.count(t); lerr != nil {
			return nil, lerr
		}
	}
	return t, err
}

func (l *limitReader) count(t xml.Token) error {
	l.tokens++
	switch t := t.(type) {
	case xml.StartElement:
		l.depth++
		l.elements++
		l.attrs += len(t.Attr)
	case xml.EndElement:
		l.depth--
	}
	switch {
	case l.depth > maxXMLDepth:
		return l.tooComplex("nested more than %d deep", maxXMLDepth)
	case l.elements > maxXMLElements:
		return l.tooComplex("more than %d elements", maxXMLElements)
	case l.tokens > maxXMLTokens:
		return l.tooComplex("more than %d tokens", maxXMLTokens)
	case l.attrs > maxXMLAttrs:
		return l.tooComplex("more than %d attributes", maxXMLAttrs)
	}
	return nil
}

func (l *limitReader) tooComplex(format string, limit int) error {
	line, _ := l.raw.InputPos()
	return fmt.Errorf("%w: "+format+" (line %d)", ErrXMLTooComplex, limit, line)
}

// locate puts the line the raw decoder reached into a syntax error: the
// outer decoder reports nesting errors, and it never sees line breaks.
func (l *limitReader) locate(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		se.Line, _ = l.raw.InputPos()
	}
	return err
}

// attrGuard fails a document at the (maxXMLElementAttrs+1)th attribute of
// a start tag. encoding/xml collects every attribute of a tag before
// limitReader sees the tag, so one tag of a million attributes or
// namespace declarations would cost hundreds of megabytes first. A strict
// decoder needs an '=' outside quotes for each attribute and refuses '<'
// inside a tag, so counting those bytes from each '<' bounds what it can
// collect. Comments, CDATA, directives, processing instructions and end
// tags ('<' followed by '!', '?' or '/') are not counted.
type attrGuard struct {
	state byte // 0 outside tags, '<' just after one, 't' in a start tag, or the open quote
	attrs int
}

var errTooManyAttrs = fmt.Errorf("%w: a start tag holds more than %d attributes", ErrXMLTooComplex, maxXMLElementAttrs)

// scan advances the guard over p and returns how many bytes of it may
// pass: all, or those before the attribute one too many.
func (g *attrGuard) scan(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		if g.state == 0 {
			j := bytes.IndexByte(p[i:], '<')
			if j < 0 {
				break
			}
			i += j
		}
		if g.step(p[i]) {
			return i, errTooManyAttrs
		}
	}
	return len(p), nil
}

// step advances the guard over one byte and reports an attribute too many.
func (g *attrGuard) step(c byte) bool {
	switch {
	case c == '<':
		g.state, g.attrs = '<', 0
	case g.state == '<' && (c == '!' || c == '?' || c == '/'):
		g.state = 0
	case g.state == '<':
		g.state = 't'
		return g.step(c)
	case g.state == 't' && c == '>':
		g.state = 0
	case g.state == 't' && (c == '"' || c == '\''):
		g.state = c
	case g.state == 't' && c == '=':
		g.attrs++
		return g.attrs > maxXMLElementAttrs
	case (g.state == '"' || g.state == '\'') && c == g.state: // the closing quote
		g.state = 't'
	}
	return false
}

// guardedBody reads a whole answer through an attrGuard. It is an
// io.ByteReader, so encoding/xml reads it without a buffer of its own.
type guardedBody struct {
	b []byte
	g attrGuard
}

func (r *guardedBody) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	if (c == '<' || r.g.state != 0) && r.g.step(c) {
		return 0, errTooManyAttrs
	}
	r.b = r.b[1:]
	return c, nil
}

// Read serves a charset decoder, which reads the rest of the answer from
// here once the XML declaration names a charset.
func (r *guardedBody) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n, err := r.g.scan(p[:copy(p, r.b)])
	r.b = r.b[n:]
	return n, err
}

// guardedReader reads the output of a charset decoder through an attrGuard.
type guardedReader struct {
	r io.Reader
	g attrGuard
}

func (r *guardedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if m, gerr := r.g.scan(p[:n]); gerr != nil {
		return m, gerr
	}
	return n, err
}

// DecodeError reports a body that is not the XML document we asked for.
type DecodeError struct {
	Err     error
	Snippet string // the start of the body, printable characters only
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("malformed XML answer (%v), body starts %q", e.Err, e.Snippet)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// snippet returns a short printable prefix of a body for error messages.
func snippet(b []byte) string {
	const max = 64
	if len(b) > max {
		b = b[:max]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return ' '
		}
		return r
	}, string(b))
}

// OptionalBool is a boolean element the device may leave out. Set is false when the element was
// absent or held something other than a boolean, so a collector can leave
// the metric out instead of inventing false.
type OptionalBool struct {
	V   bool
	Set bool
}

// UnmarshalText accepts the spellings seen on firmware; anything else leaves
// the value unset rather than failing the whole document.
func (b *OptionalBool) UnmarshalText(t []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(t))) {
	case "true", "1", "yes", "on", "enable", "enabled":
		*b = OptionalBool{V: true, Set: true}
	case "false", "0", "no", "off", "disable", "disabled":
		*b = OptionalBool{V: false, Set: true}
	default:
		*b = OptionalBool{}
	}
	return nil
}

// OptionalInt is an integer element the device may leave out; Set is false when absent or not a number.
type OptionalInt struct {
	V   int64
	Set bool
}

// UnmarshalText parses a decimal integer, leaving the value unset on garbage.
func (i *OptionalInt) UnmarshalText(t []byte) error {
	n, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	if err != nil {
		*i = OptionalInt{}
		return nil //nolint:nilerr // garbage leaves the value unset instead of failing the document
	}
	*i = OptionalInt{V: n, Set: true}
	return nil
}
