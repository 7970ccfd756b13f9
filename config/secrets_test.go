package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errorTexts returns the text of err and of every error it wraps, so that a
// test can check that no unwrapping leads back to a secret.
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	texts := []string{err.Error()}
	switch u := err.(type) { //nolint:errorlint // walks the wrapped errors itself
	case interface{ Unwrap() error }:
		texts = append(texts, errorTexts(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			texts = append(texts, errorTexts(e)...)
		}
	}
	return texts
}

func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, text := range errorTexts(err) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("error text leaks %q:\n%s", s, text)
			}
		}
	}
}

func TestParseErrorsNeverShowSecrets(t *testing.T) {
	const head = "modules:\n  default:\n    username: u\n"
	cases := []struct {
		name, yaml string
		want       string   // the line, or more of the message
		secrets    []string // each must be absent from the error
	}{
		{"alias", head + "    password: *Secr3t-pw\n", "line 4", []string{"Secr3t-pw"}},
		{"alias in a flow mapping", "modules:\n  default: {username: u, password: *Secr3t-pw}\n", "line 2", []string{"Secr3t-pw"}},
		{"tag the value cannot have", head + "    password: !!int Secr3t-pw\n", "line 4", []string{"Secr3t-pw"}},
		{"escaped value", head + "    password: !!int \"Secr3t\\x2Dpw\"\n", "line 4", []string{"Secr3t-pw", "Secr3t\\x2Dpw"}},
		{"unterminated double quote", head + "    password: \"Secr3t-pw\n    scheme: http\n", "line 4", []string{"Secr3t-pw"}},
		{"unterminated single quote", head + "    password: 'Secr3t-pw\n", "line 4", []string{"Secr3t-pw"}},
		{"tab after the value", head + "    password: Secr3t-pw\t\n\tscheme: http\n", "line 4", []string{"Secr3t-pw"}},
		{"tab before the key", head + "\tpassword: Secr3t-pw\n", "line 3", []string{"Secr3t-pw"}},
		{"unterminated quote in a flow mapping", "modules:\n  default: {username: u, password: \"Secr3t-pw}\n", "line 2", []string{"Secr3t-pw"}},
		{"unclosed flow sequence", head + "    password: [Secr3t-pw\n", "line 3", []string{"Secr3t-pw"}},
		{"backticks", head + "    password: `Secr3t-pw`\n", "line 4", []string{"Secr3t-pw"}},
		{"future SNMP key", head + "    password: p\nsnmp:\n  v2:\n    read_community: *C0mmunity-x\n", "line 7", []string{"C0mmunity-x"}},
		{"token key", "token: *T0ken-value\n" + head, "line 1", []string{"T0ken-value"}},
		{"quoted key", head + "    \"password\": *Secr3t-pw\n", "line 4", []string{"Secr3t-pw"}},
		{"multi-line quoted value", head + "    password: !!int \"Secr3t\n      -pw\"\n", "line 4", []string{"Secr3t -pw", "Secr3t"}},
		{"duplicate key keeps its name", head + "    password: Secr3t-pw\n    password: Other-pw\n", `line 5: mapping key "password" already defined at line 4`, []string{"Secr3t-pw", "Other-pw"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			assertNoSecret(t, err, tc.secrets...)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// Loading through a file and reloading a Store give the same scrubbed error
// that --config.check, the log and the /-/reload answer show.
func TestLoadAndReloadErrorsNeverShowSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.yml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("modules:\n  m: {username: u, password: p}\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, nil)
	write("modules:\n  m:\n    username: u\n    password: *Secr3t-pw\n")
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 4: unknown anchor '<secret>'") {
		t.Errorf("Load error = %v", err)
	}
	assertNoSecret(t, err, "Secr3t-pw")
	err = s.Reload()
	if err == nil {
		t.Fatal("Reload succeeded")
	}
	assertNoSecret(t, err, "Secr3t-pw")
}

// A secret is hidden in validation errors too, should a value equal it, but
// a short password does not eat parts of words.
func TestValidationErrorsHideSecretValues(t *testing.T) {
	_, err := Parse([]byte("modules:\n  default: {username: u, password: Hunter2-pw}\ndevices:\n  - {name: Hunter2-pw, address: http://x}\n"))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	assertNoSecret(t, err, "Hunter2-pw")
	if !strings.Contains(err.Error(), "devices[0] (<secret>): address: must be host or host:port") {
		t.Errorf("error = %q", err)
	}
	_, err = Parse([]byte("modules:\n  m:\n    username: u\n    password: p\n    password_file: /x\n"))
	if err == nil || !strings.Contains(err.Error(), "modules.m.password: set either password or password_file") {
		t.Errorf("short password mangles the error: %v", err)
	}
}

// Unwrapping a scrubbed error must not lead back to yaml's original text.
func TestScrubbedErrorDoesNotWrapTheOriginal(t *testing.T) {
	_, err := Parse([]byte("modules:\n  m:\n    username: u\n    password: *Secr3t-pw\n"))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "Secr3t") {
			t.Fatalf("wrapped error leaks: %q", e)
		}
	}
}
