package collector

import (
	"encoding/json"
	"sync"
)

// Values is what collectors keep about one device between probes, such as
// the log cursor. A value that implements json.Marshaler and
// json.Unmarshaler survives restarts (see Persisted and NewValues).
type Values struct {
	mu      sync.Mutex
	values  map[string]any
	restore map[string]json.RawMessage
}

// NewValues returns an empty store whose values start from restore, the
// form Persisted returned before a restart (nil for none).
func NewValues(restore map[string]json.RawMessage) *Values {
	return &Values{restore: restore}
}

// Load returns the value kept under key, creating it with init on first
// use. Values must be safe for concurrent use themselves.
func (v *Values) Load(key string, init func() any) any {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.values == nil {
		v.values = map[string]any{}
	}
	val, ok := v.values[key]
	if !ok {
		val = init()
		if u, ok := val.(json.Unmarshaler); ok && v.restore[key] != nil {
			_ = u.UnmarshalJSON(v.restore[key]) // a stale shape starts afresh
		}
		v.values[key] = val
	}
	return val
}

// Persisted returns the values that can be saved across restarts.
func (v *Values) Persisted() map[string]json.RawMessage {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string]json.RawMessage{}
	for k, val := range v.values {
		if m, ok := val.(json.Marshaler); ok {
			if b, err := m.MarshalJSON(); err == nil {
				out[k] = b
			}
		}
	}
	return out
}
