package config

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Duration is a duration in the config file, written as Prometheus writes
// them (30s, 5m, 1h30m, 1d). It differs from model.Duration in two ways
// that matter to an operator: a value that is not a duration is reported
// with its line, together with every other such error in the file, instead
// of stopping the decoding with no line; and a negative value decodes, so
// that validation names the field that must not be negative.
type Duration model.Duration

// UnmarshalYAML parses an optionally signed Prometheus duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, neg := strings.CutPrefix(n.Value, "-")
	v, err := model.ParseDuration(s)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: %q is not a duration (such as 30s, 5m or 1h30m)", n.Line, n.Value),
		}}
	}
	if neg {
		v = -v
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as Prometheus writes it.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string {
	if d < 0 {
		return "-" + model.Duration(-d).String()
	}
	return model.Duration(d).String()
}
