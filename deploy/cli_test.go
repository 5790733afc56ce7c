package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/contrail-atm/contrail/internal/cli"
)

// The CLI model: what `contrail ... --help` says each command accepts, read
// from the real CLI in-process, so the manifests are checked against the code
// as it is, not against a list kept here.

// flagInfo is one setting of a command as its help lists it:
//
//	--flush-interval  (CONTRAIL_FLUSH_INTERVAL, default 1s)
//	    flush a non-empty batch at least this often
type flagInfo struct {
	name, env, def string
	required       bool // its usage says "(required)"
	boolean        bool // default true or false: takes no separate value
}

// command is a leaf subcommand (sink, ingest listen, ...).
type command struct {
	path  []string
	flags map[string]flagInfo
	byEnv map[string]flagInfo
}

func (c *command) String() string { return "contrail " + strings.Join(c.path, " ") }

// hasListen says whether the command serves /metrics, /healthz, /readyz, i.e.
// is a long-running stage rather than a one-shot.
func (c *command) hasListen() bool { _, ok := c.flags["listen"]; return ok }

// Environment variables every command may be given although they are no
// flag of it: the ClickHouse password is read from the environment only, and
// CONTRAIL_CONFIG names the settings file.
var alwaysAllowedEnv = map[string]bool{
	"CONTRAIL_CLICKHOUSE_PASSWORD": true,
	"CONTRAIL_CONFIG":              true,
}

// secretEnv maps the other environment variables that carry secrets (never
// flags) to the setting naming a file with the same secret: a command may be
// given the variable only if it has that setting.
var secretEnv = map[string]string{
	"CONTRAIL_KAFKA_SASL_PASSWORD": "kafka-sasl-password-file",
	"CONTRAIL_HTTP_TOKEN":          "http-token-file",
}

// cliModel caches help output per command path. Safe for concurrent use.
type cliModel struct {
	mu    sync.Mutex
	top   []string
	help  map[string]string
	leafs map[string]*command
}

func newCLIModel() *cliModel {
	return &cliModel{help: map[string]string{}, leafs: map[string]*command{}}
}

// runCLI runs the CLI in-process with an empty environment.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func (m *cliModel) helpOf(path []string) (string, error) {
	key := strings.Join(path, " ")
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.help[key]; ok {
		return h, nil
	}
	code, out, errOut := runCLI(append(slices.Clone(path), "--help")...)
	if code != cli.ExitOK {
		return "", fmt.Errorf("contrail %s --help: exit %d: %s", key, code, strings.TrimSpace(errOut))
	}
	m.help[key] = out
	return out, nil
}

var (
	topCommandLine = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s{2,}\S`)
	flagLine       = regexp.MustCompile(`^  --([a-z0-9][a-z0-9-]*)  \((CONTRAIL_[A-Z0-9_]+), default (.*)\)$`)
)

// commands lists the top-level commands of `contrail --help`.
func (m *cliModel) commands() ([]string, error) {
	h, err := m.helpOf(nil)
	if err != nil {
		return nil, err
	}
	var names []string
	in := false
	for _, l := range strings.Split(h, "\n") {
		switch {
		case strings.HasPrefix(l, "Commands:"):
			in = true
		case in && l == "":
			in = false
		case in:
			if g := topCommandLine.FindStringSubmatch(l); g != nil {
				names = append(names, g[1])
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("contrail --help lists no commands:\n%s", h)
	}
	return names, nil
}

// resolve finds the leaf command an argument list starts with and returns
// it with the remaining arguments. Group commands (ingest) list their
// subcommands as "contrail ingest <name> ..." lines in their help.
func (m *cliModel) resolve(args []string) (*command, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, nil, fmt.Errorf("no contrail subcommand in %q", args)
	}
	top, err := m.commands()
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(top, args[0]) {
		return nil, nil, fmt.Errorf("unknown contrail command %q (commands: %s)", args[0], strings.Join(top, ", "))
	}
	path := []string{args[0]}
	for {
		h, err := m.helpOf(path)
		if err != nil {
			return nil, nil, err
		}
		if strings.Contains(h, "\nSettings (") {
			c, err := m.leaf(path, h)
			return c, args[len(path):], err
		}
		subs := subcommandsIn(h, path)
		if len(subs) == 0 {
			return nil, nil, fmt.Errorf("contrail %s --help lists neither settings nor subcommands", strings.Join(path, " "))
		}
		if len(args) <= len(path) || !slices.Contains(subs, args[len(path)]) {
			next := ""
			if len(args) > len(path) {
				next = args[len(path)]
			}
			return nil, nil, fmt.Errorf("contrail %s: unknown subcommand %q (want one of %s)", strings.Join(path, " "), next, strings.Join(subs, ", "))
		}
		path = append(path, args[len(path)])
	}
}

func subcommandsIn(help string, path []string) []string {
	re := regexp.MustCompile(`^\s+contrail ` + regexp.QuoteMeta(strings.Join(path, " ")) + ` ([a-z][a-z0-9-]*)\b`)
	var subs []string
	for _, l := range strings.Split(help, "\n") {
		if g := re.FindStringSubmatch(l); g != nil && !slices.Contains(subs, g[1]) {
			subs = append(subs, g[1])
		}
	}
	return subs
}

func (m *cliModel) leaf(path []string, help string) (*command, error) {
	key := strings.Join(path, " ")
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.leafs[key]; ok {
		return c, nil
	}
	c := &command{path: path, flags: map[string]flagInfo{}, byEnv: map[string]flagInfo{}}
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		g := flagLine.FindStringSubmatch(l)
		if g == nil {
			continue
		}
		f := flagInfo{name: g[1], env: g[2], def: g[3]}
		if f.def == `""` {
			f.def = ""
		}
		f.boolean = f.def == "true" || f.def == "false"
		if i+1 < len(lines) {
			f.required = strings.Contains(lines[i+1], "(required)")
		}
		c.flags[f.name] = f
		c.byEnv[f.env] = f
	}
	if len(c.flags) == 0 {
		return nil, fmt.Errorf("contrail %s --help lists no settings", key)
	}
	m.leafs[key] = c
	return c, nil
}

// parsedArgs are the settings given on a command line, parsed the way Go's
// flag package does: flags until the first non-flag argument or "--".
type parsedArgs struct {
	flags      map[string]string
	order      []string
	positional []string
}

func parseArgs(c *command, args []string) (parsedArgs, []string) {
	p := parsedArgs{flags: map[string]string{}}
	var problems []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		f, ok := c.flags[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s has no flag --%s%s", c, name, suggest(c, name)))
			continue
		}
		if !hasValue {
			if f.boolean {
				value = "true"
			} else {
				if i+1 >= len(args) {
					problems = append(problems, fmt.Sprintf("%s: flag --%s needs a value", c, name))
					break
				}
				i++
				value = args[i]
			}
		}
		p.flags[name] = value
		p.order = append(p.order, name)
	}
	p.positional = args[i:]
	for _, a := range p.positional {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			problems = append(problems, fmt.Sprintf("%s: %q comes after the positional argument %q, so it is not parsed as a flag (flags go first)", c, a, p.positional[0]))
		}
	}
	return p, problems
}

// suggest names flags of c that look like name, for messages.
func suggest(c *command, name string) string {
	var close []string
	for n := range c.flags {
		if strings.Contains(n, name) || strings.Contains(name, n) || levenshtein(n, name) <= 2 {
			close = append(close, "--"+n)
		}
	}
	if len(close) == 0 {
		return ""
	}
	sort.Strings(close)
	return " (did you mean " + strings.Join(close, ", ") + "?)"
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// validateValues makes the real CLI parse the given settings as flags,
// followed by --help: it exits 0 only if every flag exists and every value
// is acceptable to the flag (a duration, a host:port, a choice, ...), and
// stops at --help before connecting to anything.
func validateValues(c *command, settings [][2]string) []string {
	args := slices.Clone(c.path)
	for _, s := range settings {
		args = append(args, "--"+s[0]+"="+s[1])
	}
	args = append(args, "--help")
	code, _, errOut := runCLI(args...)
	if code == cli.ExitOK {
		return nil
	}
	return []string{fmt.Sprintf("%s rejects the settings: %s", c, strings.TrimSpace(errOut))}
}
