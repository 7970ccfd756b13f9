package config

// Secret values must never reach an error text: load errors are printed by
// --config.check, logged, and sent back in the /-/reload answer. yaml.v3
// quotes scalar values in some messages ("unknown anchor 'x' referenced",
// "cannot decode !!str `x`"), so a badly written password can show up there.
// The decoded config cannot help (a file that fails to parse has none), so
// the raw text is scanned for secret keys and every error is scrubbed of
// what follows them.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// secretWords are keys (or the last "_" part of keys, as in priv_password)
// whose values are secret, now or in future fields such as SNMP's.
var secretWords = []string{"password", "passphrase", "community", "secret", "token"}

// isSecretKey also counts "key": tls_config.key holds a private key inline.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	if k == "key" {
		return true
	}
	for _, w := range secretWords {
		if k == w || strings.HasSuffix(k, "_"+w) {
			return true
		}
	}
	return false
}

var (
	// secretKeyRE finds "key:" in block and flow mappings, quoted or not.
	secretKeyRE = regexp.MustCompile(`(?:^|[\s{,\[])["']?([A-Za-z0-9_.-]+)["']?[ \t]*:(?:[ \t]|$)`)
	lineRefRE   = regexp.MustCompile(`\bline (\d+)\b`)
	quotedRE    = regexp.MustCompile("'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
)

// placeholder stands for a redacted value until the end of scrubbing, so that
// "<secret>" itself is never matched by a later, shorter value.
const placeholder = "\x00"

// shortSecret is the length under which a value is only replaced as a whole
// word: a password "p" must not eat the "p" of "password" in a message.
const shortSecret = 6

type secretValue struct {
	text string
	line int // of the key, 1-based
}

// secretScan is what the raw document says about secrets.
type secretScan struct {
	values []secretValue // longest first, so a value goes before its parts
	lines  map[int]bool  // lines holding a secret key or the rest of its value
}

func scanSecrets(b []byte) *secretScan {
	s := &secretScan{lines: map[int]bool{}}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		for _, m := range secretKeyRE.FindAllStringSubmatchIndex(l, -1) {
			if isSecretKey(l[m[2]:m[3]]) {
				s.addValue(lines, i, m[2], l[m[1]:])
			}
		}
	}
	slices.SortStableFunc(s.values, func(a, b secretValue) int { return len(b.text) - len(a.text) })
	return s
}

// addValue records the value after the key at lines[i], column col: the rest
// of the line plus any more indented lines below (block scalars, folded
// plain scalars, a value on the next line).
func (s *secretScan) addValue(lines []string, i, col int, rest string) {
	s.lines[i+1] = true
	raw := []string{rest}
	for j := i + 1; j < len(lines) && continuesValue(lines[j], col); j++ {
		s.lines[j+1] = true
		raw = append(raw, lines[j])
	}
	if len(raw) > 1 {
		raw = append(raw, strings.Join(strings.Fields(strings.Join(raw, " ")), " "))
	}
	for _, r := range raw {
		for _, c := range valueForms(r) {
			s.values = append(s.values, secretValue{text: c, line: i + 1})
		}
	}
}

func continuesValue(line string, col int) bool {
	trimmed := strings.TrimLeft(line, " \t")
	return strings.TrimSpace(trimmed) == "" || len(line)-len(trimmed) > col
}

// valueForms lists what of a raw value may appear in a message: as written,
// without a comment, without its first character (the "*" of an alias, an
// opening quote), without anchors and tags, unquoted, as YAML decodes it,
// and each of these cut where a flow mapping would end it.
func valueForms(raw string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if worthRedacting(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	v := strings.TrimSpace(raw)
	for _, w := range []string{v, withoutComment(v)} {
		add(w)
		_, size := utf8.DecodeRuneInString(w)
		add(w[size:])
		rest, names := withoutProperties(w)
		add(rest)
		for _, n := range names {
			add(n)
		}
		add(unquote(rest))
		add(decodeScalar(w))
		add(decodeScalar(rest)) // `!!int "a\x41"` fails to decode as a whole
	}
	for _, f := range slices.Clone(out) {
		add(cutFlow(f))
	}
	return out
}

// worthRedacting skips forms too short and plain to be told from the
// punctuation of a message, such as a lone quote.
func worthRedacting(s string) bool {
	if s == "" || strings.Contains(s, placeholder) {
		return false
	}
	return len(s) >= 4 || strings.IndexFunc(s, isWordRune) >= 0
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func withoutComment(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	if strings.HasPrefix(v, "#") {
		return ""
	}
	return v
}

// withoutProperties drops leading anchors (&a) and tags (!t), returning the
// rest and the anchor and local tag names: "&Secr3t pw" was likely meant as
// one password.
func withoutProperties(v string) (string, []string) {
	var names []string
	for strings.HasPrefix(v, "&") || strings.HasPrefix(v, "!") {
		tok, rest, _ := strings.Cut(v, " ")
		if !strings.HasPrefix(tok, "!!") {
			names = append(names, tok[1:])
		}
		v = strings.TrimSpace(rest)
	}
	return v, names
}

func unquote(v string) string {
	if v == "" || !strings.ContainsRune(`"'`+"`", rune(v[0])) {
		return v
	}
	q := v[:1]
	return strings.TrimSuffix(v[1:], q)
}

func cutFlow(v string) string {
	if i := strings.IndexAny(v, ",}]"); i >= 0 {
		return v[:i]
	}
	return v
}

// decodeScalar returns the value as YAML reads it (escapes resolved), or "".
func decodeScalar(v string) string {
	var x any
	if yaml.Unmarshal([]byte(v), &x) != nil {
		return ""
	}
	switch x := x.(type) {
	case string:
		return x
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x)
	}
	return ""
}

// decodeError is an error from the YAML decoder. Its messages may quote
// values in forms no scan foresaw, so quoted text in them is scrubbed too;
// the validator's own messages never quote a secret field.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "parsing config: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// scrub returns err with every secret value replaced by <secret>. A changed
// error is a new one that does not wrap the original: unwrapping must not
// lead back to the secret. Joined errors are scrubbed one by one.
func (s *secretScan) scrub(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts := j.Unwrap()
		out := make([]error, len(parts))
		for i, e := range parts {
			out[i] = s.scrub(e)
		}
		return errors.Join(out...)
	}
	var de *decodeError
	msg := err.Error()
	if red := s.redact(msg, errors.As(err, &de)); red != msg {
		return errors.New(red)
	}
	return err
}

func (s *secretScan) scrubAll(texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = s.redact(t, false)
	}
	return out
}

// redact replaces secret values (and, for decoder messages, quoted text on
// secret lines). When a value was found in a message that names no line
// (yaml's unknown anchor error, for one), it adds the key's line so the
// operator still knows where to look.
func (s *secretScan) redact(msg string, decoder bool) string {
	line := 0
	for _, v := range s.values {
		var hit bool
		if msg, hit = replaceWord(msg, v.text); hit && line == 0 {
			line = v.line
		}
	}
	if decoder {
		msg = s.redactQuoted(msg)
	}
	if line > 0 && !lineRefRE.MatchString(msg) {
		at := "line " + strconv.Itoa(line) + ": "
		if i := strings.Index(msg, "yaml: "); i >= 0 {
			msg = msg[:i+len("yaml: ")] + at + msg[i+len("yaml: "):]
		} else {
			msg = at + msg
		}
	}
	return strings.ReplaceAll(msg, placeholder, "<secret>")
}

// replaceWord replaces every occurrence of old by the placeholder; a short
// old only where it is not part of a longer word.
func replaceWord(text, old string) (string, bool) {
	var b strings.Builder
	hit := false
	for {
		i := indexWord(text, old)
		if i < 0 {
			break
		}
		b.WriteString(text[:i])
		b.WriteString(placeholder)
		text = text[i+len(old):]
		hit = true
	}
	if !hit {
		return text, false
	}
	b.WriteString(text)
	return b.String(), true
}

func indexWord(text, old string) int {
	for off := 0; ; {
		i := strings.Index(text[off:], old)
		if i < 0 {
			return -1
		}
		i += off
		if len(old) >= shortSecret || wordBounded(text, i, i+len(old)) {
			return i
		}
		off = i + 1
	}
}

func wordBounded(text string, start, end int) bool {
	before, _ := utf8.DecodeLastRuneInString(text[:start])
	after, _ := utf8.DecodeRuneInString(text[end:])
	first, _ := utf8.DecodeRuneInString(text[start:end])
	last, _ := utf8.DecodeLastRuneInString(text[start:end])
	return !(isWordRune(first) && start > 0 && isWordRune(before)) &&
		!(isWordRune(last) && end < len(text) && isWordRune(after))
}

// redactQuoted hides any quoted text in a message line that names a line
// holding a secret: the value may be quoted in a form no scan foresaw.
// yaml.v3 numbers parser errors from 0 but scanner errors from 1, so line N
// may mean N or N+1. Key names and one-character tokens (',' or ']') stay.
func (s *secretScan) redactQuoted(msg string) string {
	parts := strings.Split(msg, "\n")
	for i, p := range parts {
		if s.namesSecretLine(p) {
			parts[i] = quotedRE.ReplaceAllStringFunc(p, func(q string) string {
				inner := q[1 : len(q)-1]
				if isSecretKey(inner) || utf8.RuneCountInString(inner) == 1 && !isWordRune([]rune(inner)[0]) {
					return q
				}
				return q[:1] + placeholder + q[len(q)-1:]
			})
		}
	}
	return strings.Join(parts, "\n")
}

func (s *secretScan) namesSecretLine(msgLine string) bool {
	for _, m := range lineRefRE.FindAllStringSubmatch(msgLine, -1) {
		n, _ := strconv.Atoi(m[1])
		if s.lines[n] || s.lines[n+1] {
			return true
		}
	}
	return false
}
