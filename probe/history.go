package probe

import (
	"container/list"
	"html/template"
	"io"
	"net/url"
	"sync"
	"time"
)

// The landing page lists the last probes of each device with a link to
// its debug report, so that an operator sees at a glance which device
// fails and how. Any /probe caller can name new targets, so the memory is
// bounded: the last historyProbes probes of the historyTargets most
// recently probed targets, the least recently probed going first.
const (
	historyTargets = 1000
	historyProbes  = 5
)

// Record is one probe as the landing page lists it.
type Record struct {
	Time     time.Time
	Outcome  string // as in hikvision_exporter_probes_total
	Duration time.Duration
}

// TargetProbes is the last probes of one target and module, newest first.
type TargetProbes struct {
	Target, Module string
	Probes         []Record
}

// DebugURL is the link that probes the target again with debug=true.
func (tp TargetProbes) DebugURL() string {
	q := url.Values{"target": {tp.Target}, "debug": {"true"}}
	if tp.Module != "" {
		q.Set("module", tp.Module)
	}
	return "/probe?" + q.Encode()
}

type historyKey struct{ target, module string }

// historyEntry is a ring of a target's last probes: recording one
// allocates nothing once the target has an entry.
type historyEntry struct {
	key    historyKey
	probes [historyProbes]Record
	n      int // probes recorded, at most historyProbes count
	next   int // where the next probe goes
}

// history keeps the last probes per target, most recently probed first.
type history struct {
	mu    sync.Mutex
	index map[historyKey]*list.Element // of *historyEntry
	order list.List                    // front: most recently probed
}

func (h *history) add(target, module string, r Record) {
	k := historyKey{target, module}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.index == nil {
		h.index = map[historyKey]*list.Element{}
	}
	el, ok := h.index[k]
	if ok {
		h.order.MoveToFront(el)
	} else {
		el = h.order.PushFront(&historyEntry{key: k})
		h.index[k] = el
		if h.order.Len() > historyTargets {
			oldest := h.order.Back()
			delete(h.index, oldest.Value.(*historyEntry).key)
			h.order.Remove(oldest)
		}
	}
	e := el.Value.(*historyEntry)
	e.probes[e.next] = r
	e.next = (e.next + 1) % historyProbes
	e.n = min(e.n+1, historyProbes)
}

// recent returns the targets, most recently probed first, each with its
// probes newest first.
func (h *history) recent() []TargetProbes {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]TargetProbes, 0, h.order.Len())
	for el := h.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*historyEntry)
		tp := TargetProbes{Target: e.key.target, Module: e.key.module, Probes: make([]Record, e.n)}
		for i := range e.n {
			tp.Probes[i] = e.probes[(e.next-1-i+2*historyProbes)%historyProbes]
		}
		out = append(out, tp)
	}
	return out
}

// RecentProbes returns the last probes per target, most recently probed
// target first, each target's probes newest first.
func (h *Handler) RecentProbes() []TargetProbes { return h.history.recent() }

// recentTemplate is the landing page's list. html/template escapes every
// value: targets and modules come from whoever called /probe.
var recentTemplate = template.Must(template.New("recent").Funcs(template.FuncMap{
	"ms": short,
	"ts": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
}).Parse(`<div id="recent-probes">
<h3>Recent probes</h3>
{{- if not . }}
<p>No probes yet.</p>
{{- else }}
<table>
<tr><th>target</th><th>module</th><th>time</th><th>outcome</th><th>duration</th><th></th></tr>
{{- range . }}{{ $tp := . }}
{{- range $i, $p := .Probes }}
<tr>{{ if eq $i 0 }}<td>{{ $tp.Target }}</td><td>{{ $tp.Module }}</td>{{ else }}<td></td><td></td>{{ end }}<td>{{ ts $p.Time }}</td><td>{{ $p.Outcome }}</td><td>{{ ms $p.Duration }}</td><td>{{ if eq $i 0 }}<a href="{{ $tp.DebugURL }}">debug report</a>{{ end }}</td></tr>
{{- end }}
{{- end }}
</table>
<p>A debug report probes the device again and shows each request, each collector, the lockout state and the metrics.</p>
{{- end }}
</div>
`))

// WriteRecentProbes writes the landing page's list of recent probes as
// an HTML fragment.
func (h *Handler) WriteRecentProbes(w io.Writer) error {
	return recentTemplate.Execute(w, h.RecentProbes())
}
