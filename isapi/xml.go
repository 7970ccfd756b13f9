package isapi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html/charset"
)

// charsetReader decodes the charsets OEM firmware declares (ISO-8859-1,
// GB2312, ...): user-set fields such as deviceName may hold non-ASCII text.
// An unknown label is read as UTF-8 rather than failing the document.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	if cr, err := charset.NewReaderLabel(label, r); err == nil {
		return cr, nil
	}
	return r, nil
}

// Decode unmarshals an ISAPI XML document into v.
//
// Struct tags in this package carry no namespace, so encoding/xml matches
// elements by local name: real firmware answers in hikvision.com ver10/ver20,
// isapi.org ver20, std-cgi.com, urn:psialliance-org and more, sometimes mixed
// within one document. Non-UTF-8 declarations are read as UTF-8, since
// Hikvision declares UTF-8 but some OEM builds name other charsets for what is
// ASCII in every field we read.
func Decode(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	if err := d.Decode(v); err != nil {
		return &DecodeError{Err: err, Snippet: snippet(body)}
	}
	return nil
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

// Bool is an optional boolean element. Set is false when the element was
// absent or held something other than a boolean, so a collector can leave
// the metric out instead of inventing false.
type Bool struct {
	V   bool
	Set bool
}

// UnmarshalText accepts the spellings seen on firmware; anything else leaves
// the value unset rather than failing the whole document.
func (b *Bool) UnmarshalText(t []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(t))) {
	case "true", "1", "yes", "on", "enable", "enabled":
		*b = Bool{V: true, Set: true}
	case "false", "0", "no", "off", "disable", "disabled":
		*b = Bool{V: false, Set: true}
	default:
		*b = Bool{}
	}
	return nil
}

// Float returns 1 or 0 for a set value.
func (b Bool) Float() float64 {
	if b.V {
		return 1
	}
	return 0
}

// Int is an optional integer element; Set is false when absent or not a number.
type Int struct {
	V   int64
	Set bool
}

// UnmarshalText parses a decimal integer, leaving the value unset on garbage.
func (i *Int) UnmarshalText(t []byte) error {
	n, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	if err != nil {
		*i = Int{}
		return nil
	}
	*i = Int{V: n, Set: true}
	return nil
}
