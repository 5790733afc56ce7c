package deploy_test

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/telemetry"
	"github.com/contrail-atm/contrail/processors/runtime"
	chsink "github.com/contrail-atm/contrail/sinks/clickhouse"
)

// The metric catalog: every metric name the stages can export, with its
// labels, taken from the code (the same constructors the stages call), so
// that alerts and dashboard panels are checked against real names.

// kafkaRoles are the roles the CLI builds Kafka clients for with metrics;
// each gets kprom metrics under contrail_kafka_<role>_*. The processor steps'
// transactional sessions are process_<step> (internal/cli/cmd_process.go);
// their restore readers have no metrics.
var kafkaRoles = []string{"ingest", "sink", "admin", "process_track", "process_flight"}

// targetLabels are added by Prometheus (and the scrape configs here) to
// every series.
var targetLabels = []string{"job", "instance", "service", "namespace", "pod"}

// descRecorder is a prometheus.Registerer that remembers the descriptions
// of what is registered on it.
type descRecorder struct {
	mu    sync.Mutex
	descs []*prometheus.Desc
}

func (r *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		r.descs = append(r.descs, d)
	}
	return nil
}

func (r *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *descRecorder) Unregister(prometheus.Collector) bool { return true }

var descString = regexp.MustCompile(`fqName: "([^"]+)".*constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}`)

// metricCatalog maps metric names to their label names.
type metricCatalog map[string]map[string]bool

func buildMetricCatalog() (metricCatalog, error) {
	rec := &descRecorder{}
	ingest.NewMetrics(rec)
	chsink.NewMetrics(rec)
	runtime.NewMetrics(rec)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, role := range kafkaRoles {
		// franz-go dials lazily: building the client registers its kprom
		// metrics without connecting anywhere.
		cl, err := kafka.NewClient(kafka.Config{Brokers: []string{"127.0.0.1:1"}}, role, log, rec)
		if err != nil {
			return nil, err
		}
		cl.Close()
	}
	cat := metricCatalog{}
	for _, d := range rec.descs {
		g := descString.FindStringSubmatch(d.String())
		if g == nil {
			return nil, fmt.Errorf("cannot read %s", d)
		}
		labels := map[string]bool{}
		for _, cl := range strings.Split(g[2], ",") {
			if name, _, ok := strings.Cut(cl, "="); ok {
				labels[name] = true
			}
		}
		for _, vl := range strings.Split(g[3], ",") {
			if vl = strings.TrimSuffix(strings.TrimPrefix(vl, "c("), ")"); vl != "" {
				labels[vl] = true
			}
		}
		cat[g[1]] = labels
	}
	// Go runtime and process collectors: gathered, as they always export.
	mfs, err := telemetry.NewRegistry().Gather()
	if err != nil {
		return nil, err
	}
	for _, mf := range mfs {
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		cat[mf.GetName()] = labels
	}
	cat["up"] = map[string]bool{}
	for _, labels := range cat {
		for _, l := range targetLabels {
			labels[l] = true
		}
	}
	return cat, nil
}

// lookup finds a metric, allowing the _bucket, _sum and _count series of
// histograms and summaries.
func (c metricCatalog) lookup(name string) (map[string]bool, bool) {
	if l, ok := c[name]; ok {
		return l, true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if l, ok := c[base]; ok {
				if suf == "_bucket" {
					l2 := map[string]bool{"le": true}
					for k := range l {
						l2[k] = true
					}
					return l2, true
				}
				return l, true
			}
		}
	}
	return nil, false
}

func (c metricCatalog) names(prefix string) []string {
	var out []string
	for n := range c {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// The PromQL-ish scanner: not a parser, but enough to find every metric a
// query selects, with its label matchers, every function it calls, and
// unbalanced brackets.

type selector struct {
	metric   string
	matchers []string // label names
}

var promFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`sum min max avg count stddev stdvar topk bottomk quantile count_values group limitk limit_ratio
		rate irate increase delta idelta deriv predict_linear histogram_quantile histogram_fraction histogram_count histogram_sum histogram_avg
		abs absent absent_over_time ceil floor round clamp clamp_min clamp_max changes resets vector scalar time timestamp
		label_replace label_join sort sort_desc sort_by_label sort_by_label_desc avg_over_time min_over_time max_over_time sum_over_time
		count_over_time last_over_time quantile_over_time present_over_time stddev_over_time stdvar_over_time mad_over_time
		exp ln log2 log10 sqrt sgn day_of_week day_of_year hour minute month year days_in_month day_of_month`) {
		promFunctions[f] = true
	}
}

var promAggregations = map[string]bool{"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true, "limitk": true, "limit_ratio": true}

var promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true, "atan2": true}

// promLabelLists are modifiers followed by a parenthesized label list.
var promLabelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

func scanPromQL(expr string) ([]selector, []string, error) {
	var sels []selector
	var funcs []string
	depth := 0
	s := expr
	i := 0
	skipSpace := func() {
		for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
			i++
		}
	}
	readString := func() error {
		q := s[i]
		i++
		for i < len(s) && s[i] != q {
			if s[i] == '\\' && q != '`' {
				i++
			}
			i++
		}
		if i >= len(s) {
			return fmt.Errorf("unterminated string in %q", expr)
		}
		i++
		return nil
	}
	isIdent := func(b byte, first bool) bool {
		return b == '_' || b == ':' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (!first && b >= '0' && b <= '9')
	}
	readIdent := func() string {
		j := i
		for i < len(s) && isIdent(s[i], i == j) {
			i++
		}
		return s[j:i]
	}
	readMatchers := func() ([]string, error) {
		i++ // {
		var names []string
		for {
			skipSpace()
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated { in %q", expr)
			}
			if s[i] == '}' {
				i++
				return names, nil
			}
			if s[i] == ',' {
				i++
				continue
			}
			name := readIdent()
			if name == "" {
				return nil, fmt.Errorf("bad label matcher at %q in %q", s[i:], expr)
			}
			skipSpace()
			op := ""
			for _, o := range []string{"=~", "!~", "!=", "="} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("label %s without operator in %q", name, expr)
			}
			i += len(op)
			skipSpace()
			if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
				return nil, fmt.Errorf("label %s%s without a quoted value in %q", name, op, expr)
			}
			if err := readString(); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
	}
	for i < len(s) {
		b := s[i]
		switch {
		case strings.ContainsRune(" \t\r\n+-*/%^=!<>,", rune(b)):
			i++
		case b == '"' || b == '\'' || b == '`':
			if err := readString(); err != nil {
				return nil, nil, err
			}
		case b == '(':
			depth++
			i++
		case b == ')':
			depth--
			if depth < 0 {
				return nil, nil, fmt.Errorf("unbalanced ) in %q", expr)
			}
			i++
		case b == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, nil, fmt.Errorf("unterminated [ in %q", expr)
			}
			i += j + 1
		case b == '{':
			names, err := readMatchers()
			if err != nil {
				return nil, nil, err
			}
			sels = append(sels, selector{matchers: names})
		case b == '$':
			i++
			readIdent()
		case b >= '0' && b <= '9' || b == '.':
			for i < len(s) && (isIdent(s[i], false) || s[i] == '.') {
				i++ // numbers, and durations after offset
			}
		case isIdent(b, true):
			id := readIdent()
			skipSpace()
			next := byte(0)
			if i < len(s) {
				next = s[i]
			}
			switch {
			case promLabelLists[id]:
				if next == '(' {
					j := strings.IndexByte(s[i:], ')')
					if j < 0 {
						return nil, nil, fmt.Errorf("unterminated %s( in %q", id, expr)
					}
					i += j + 1
				}
			case promKeywords[strings.ToLower(id)]:
			case next == '(':
				funcs = append(funcs, id)
			case promAggregations[id] && (strings.HasPrefix(s[i:], "by") || strings.HasPrefix(s[i:], "without")):
				funcs = append(funcs, id) // sum by (x) (...)
			default:
				sel := selector{metric: id}
				if next == '{' {
					names, err := readMatchers()
					if err != nil {
						return nil, nil, err
					}
					sel.matchers = names
				}
				sels = append(sels, sel)
			}
		default:
			return nil, nil, fmt.Errorf("unexpected %q in %q", b, expr)
		}
	}
	if depth != 0 {
		return nil, nil, fmt.Errorf("unbalanced ( in %q", expr)
	}
	return sels, funcs, nil
}

// checkPromQL checks an expression against the catalog.
func checkPromQL(cat metricCatalog, where, expr string) []string {
	if strings.TrimSpace(expr) == "" {
		return []string{where + ": empty expression"}
	}
	sels, funcs, err := scanPromQL(expr)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", where, err)}
	}
	var problems []string
	for _, f := range funcs {
		if !promFunctions[f] {
			problems = append(problems, fmt.Sprintf("%s: unknown function %s", where, f))
		}
	}
	if len(sels) == 0 {
		problems = append(problems, fmt.Sprintf("%s: selects no metric: %s", where, expr))
	}
	for _, sel := range sels {
		if sel.metric == "" {
			problems = append(problems, fmt.Sprintf("%s: a selector without a metric name", where))
			continue
		}
		labels, ok := cat.lookup(sel.metric)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: metric %s is exported by no stage", where, sel.metric))
			continue
		}
		for _, l := range sel.matchers {
			if !labels[l] {
				problems = append(problems, fmt.Sprintf("%s: metric %s has no label %s", where, sel.metric, l))
			}
		}
	}
	return problems
}
