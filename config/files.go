package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	promconfig "github.com/prometheus/common/config"
)

// resolvePaths makes the module's relative file paths relative to dir, the
// configuration file's directory, as Prometheus does: the files then travel
// with the configuration, whatever directory the exporter is started from.
func (c *Config) resolvePaths(dir string) {
	for _, m := range c.Modules {
		if m == nil {
			continue
		}
		m.PasswordFile = promconfig.JoinDir(dir, m.PasswordFile)
		m.TLSConfig.SetDirectory(dir)
	}
}

// checkFiles reads the files the module names, each error naming its key.
// Without it a missing CA or password file is only found when every probe
// of the module fails. The password file is still read at every probe (so a
// rotated password needs no reload): here its content is only checked to be
// non-empty, then dropped, and never put in an error.
func (m *Module) checkFiles() []error {
	var errs []error
	if m.PasswordFile != "" {
		if err := checkPasswordFile(m.PasswordFile); err != nil {
			errs = append(errs, fieldErr("password_file", err))
		}
	}
	tlsFiles := []struct{ key, path string }{
		{"ca_file", m.TLSConfig.CAFile},
		{"cert_file", m.TLSConfig.CertFile},
		{"key_file", m.TLSConfig.KeyFile},
	}
	var tlsErrs []error
	for _, f := range tlsFiles {
		if f.path == "" {
			continue
		}
		if err := checkReadable(f.path); err != nil {
			tlsErrs = append(tlsErrs, fieldErr("tls_config."+f.key, err))
		}
	}
	// Readable files can still be no certificate, or a key that does not
	// match its certificate: build the TLS configuration a probe would. An
	// invalid tls_config is already reported by validateLogin.
	if len(tlsErrs) == 0 && m.TLSConfig.Validate() == nil {
		if _, err := promconfig.NewTLSConfig(&m.TLSConfig); err != nil {
			tlsErrs = append(tlsErrs, fieldErr("tls_config", err))
		}
	}
	return append(errs, tlsErrs...)
}

// checkPasswordFile applies ReadPassword's rule (trailing newlines do not
// count) without keeping the content.
func checkPasswordFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read: %w", err)
	}
	empty := len(bytes.TrimRight(b, "\r\n")) == 0
	clear(b)
	if empty {
		return fmt.Errorf("%s is empty", path)
	}
	return nil
}

// checkReadable opens the file and reads its first byte: a directory or a
// file without read permission fails here, not at the first probe.
func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read: %w", err)
	}
	defer f.Close()
	_, err = f.Read(make([]byte, 1))
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s is empty", path)
	case err != nil:
		return fmt.Errorf("cannot read: %w", err)
	}
	return nil
}
