// Package storage keeps what the exporter must not forget across restarts
// in one small JSON file: the lockout hold-offs of device accounts (a
// restart must not cost a failed login) and the collectors' cursors (a
// restart must not count the device log again).
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// FileName is the state file inside the storage directory.
const FileName = "hikvision_exporter.state.json"

// version changes when the file's shape does; another version is ignored.
const version = 1

// State is the file's content.
type State struct {
	Version  int             `json:"version"`
	HoldOffs []isapi.HoldOff `json:"hold_offs"`
	// Values are the collectors' persisted values, by device account and key.
	Values map[string]map[string]json.RawMessage `json:"values,omitempty"`
}

// Load reads the state file in dir. A missing file is an empty state; a
// corrupt one, or one of another version, is an error the caller logs
// before going on without it.
func Load(dir string) (State, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: version}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("reading state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("state file %s is corrupt: %w", filepath.Join(dir, FileName), err)
	}
	if s.Version != version {
		return State{}, fmt.Errorf("state file %s has version %d, want %d", filepath.Join(dir, FileName), s.Version, version)
	}
	return s, nil
}

// Save writes the state atomically: a crash leaves the old file or the new
// one, never half of one.
func Save(dir string, s State) error {
	s.Version = version
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, FileName+".tmp*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

// Writable checks that dir exists (creating it) and takes files.
func Writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("storage path: %w", err)
	}
	f, err := os.CreateTemp(dir, ".probe*")
	if err != nil {
		return fmt.Errorf("storage path %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
