package deploy_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/telemetry"
)

// The checks every contrail container gets, from compose or Kubernetes
// alike: its command line, environment and settings file against the CLI.

// envVar is one environment variable of a container.
type envVar struct {
	value  string
	known  bool   // value is known here (a literal, or a ConfigMap key we can read)
	raw    string // as written, before compose interpolation
	secret bool   // from a Kubernetes Secret
}

// contrailContainer is a container running the contrail image.
type contrailContainer struct {
	where string   // for messages: "compose service sink"
	args  []string // arguments to the image's /contrail entrypoint
	env   map[string]envVar
	// readFile returns the content of a file in the container's file system,
	// as far as the manifest mounts it (ok false when nothing is mounted there).
	readFile func(path string) (content string, ok bool)
}

// invocation is what a container runs, with its settings resolved the way
// the CLI resolves them: flag > environment > --config file > default.
type invocation struct {
	where     string
	cmd       *command
	args      parsedArgs
	effective map[string]string // flag name -> value, for values known here
	source    map[string]string // flag name -> flag, env, config, default, or env-unknown
}

// checkContrail checks one container and resolves its settings.
func checkContrail(m *cliModel, c contrailContainer) (*invocation, []string) {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, c.where+": "+fmt.Sprintf(format, args...))
	}
	cmd, rest, err := m.resolve(c.args)
	if err != nil {
		bad("%v", err)
		return nil, problems
	}
	pa, ps := parseArgs(cmd, rest)
	for _, p := range ps {
		bad("%s", p)
	}
	inv := &invocation{where: c.where, cmd: cmd, args: pa, effective: map[string]string{}, source: map[string]string{}}
	for name, f := range cmd.flags {
		inv.effective[name], inv.source[name] = f.def, "default"
	}

	var envNames []string
	for name := range c.env {
		envNames = append(envNames, name)
	}
	sort.Strings(envNames)
	for _, name := range envNames {
		if !strings.HasPrefix(name, "CONTRAIL_") || alwaysAllowedEnv[name] {
			continue
		}
		if file, ok := secretEnv[name]; ok {
			if _, has := cmd.flags[file]; !has {
				bad("%s is no setting of %s (it has no --%s)", name, cmd, file)
			}
			continue
		}
		if _, ok := cmd.byEnv[name]; !ok {
			bad("%s is no setting of %s%s", name, cmd, suggestEnv(cmd, name))
		}
	}

	// The settings file, from --config or CONTRAIL_CONFIG.
	var fromFile [][2]string
	cfgPath, cfgSet := pa.flags["config"]
	if !cfgSet {
		if v, ok := c.env["CONTRAIL_CONFIG"]; ok && v.known && v.value != "" {
			cfgPath, cfgSet = v.value, true
		}
	}
	if cfgSet && cfgPath != "" {
		content, ok := c.readFile(cfgPath)
		if !ok {
			bad("settings file %s is not mounted in the container", cfgPath)
		} else {
			kv, err := settingsFile(content)
			if err != nil {
				bad("settings file %s: %v", cfgPath, err)
			}
			for _, s := range kv {
				if f, ok := cmd.flags[s[0]]; !ok || f.name == "config" {
					bad("settings file %s: key %q is no setting of %s, which refuses the file at start-up%s", cfgPath, s[0], cmd, suggest(cmd, s[0]))
					continue
				}
				fromFile = append(fromFile, s)
				inv.effective[s[0]], inv.source[s[0]] = s[1], "config"
			}
		}
	}

	var fromEnv [][2]string
	for _, name := range envNames {
		f, ok := cmd.byEnv[name]
		if !ok || name == "CONTRAIL_CONFIG" {
			continue
		}
		v := c.env[name]
		switch {
		case !v.known:
			inv.source[f.name] = "env-unknown"
			delete(inv.effective, f.name)
		case v.value != "": // the CLI treats an empty variable as unset
			fromEnv = append(fromEnv, [2]string{f.name, v.value})
			inv.effective[f.name], inv.source[f.name] = v.value, "env"
		}
	}
	var fromFlags [][2]string
	for _, name := range pa.order {
		fromFlags = append(fromFlags, [2]string{name, pa.flags[name]})
		inv.effective[name], inv.source[name] = pa.flags[name], "flag"
	}

	for name, f := range cmd.flags {
		if f.required && inv.effective[name] == "" && inv.source[name] != "env-unknown" {
			bad("%s needs --%s (%s), which is not set", cmd, name, f.env)
		}
	}
	if len(ps) == 0 {
		problems = append(problems, prefix(c.where, validateValues(cmd, slices.Concat(fromFile, fromEnv, fromFlags)))...)
	}
	for _, name := range []string{"CONTRAIL_CLICKHOUSE_PASSWORD", "CONTRAIL_KAFKA_SASL_PASSWORD", "CONTRAIL_HTTP_TOKEN"} {
		if v, ok := c.env[name]; ok && v.known && !strings.Contains(v.raw, "${") {
			bad("%s is a literal in the manifest; take it from a variable or a Secret", name)
		}
	}
	return inv, problems
}

func prefix(where string, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = where + ": " + p
	}
	return out
}

func suggestEnv(c *command, name string) string {
	f := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "CONTRAIL_"), "_", "-"))
	return suggest(c, f)
}

// settingsFile reads a --config YAML file the way the CLI does: a mapping
// of flag names to scalars or lists (lists become comma-separated values).
func settingsFile(content string) ([][2]string, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(content), &m); err != nil {
		return nil, fmt.Errorf("not valid YAML: %v", err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][2]string
	var errs []string
	for _, k := range keys {
		v, err := cli.YAMLValue(m[k])
		if err != nil {
			errs = append(errs, fmt.Sprintf("key %s: %v", k, err))
			continue
		}
		out = append(out, [2]string{k, v})
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// listenPort checks that a long-running command listens on every interface
// (a container's loopback is unreachable for probes and Prometheus) and
// returns the port.
func (inv *invocation) listenPort() (string, []string) {
	v, ok := inv.effective["listen"]
	if !ok {
		return "", []string{fmt.Sprintf("%s: --listen of %s is set from somewhere this test cannot read; give it a literal value", inv.where, inv.cmd)}
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", []string{fmt.Sprintf("%s: --listen %q: %v", inv.where, v, err)}
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
	default:
		return port, []string{fmt.Sprintf("%s: --listen is %q (%s): only the container itself can reach it; set CONTRAIL_LISTEN=0.0.0.0:%s", inv.where, v, inv.source["listen"], port)}
	}
	if port == "0" {
		return port, []string{fmt.Sprintf("%s: --listen %q picks a random port; probes and Prometheus need a fixed one", inv.where, v)}
	}
	return port, nil
}

// hostsOf returns the hosts of a host:port[,host:port] setting.
func hostsOf(v string) []string {
	var hosts []string
	for _, hp := range strings.Split(v, ",") {
		if h, _, err := net.SplitHostPort(strings.TrimSpace(hp)); err == nil {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// servedStatus is what the stages' operator endpoint answers for a path
// (telemetry.Handler with a fresh registry and health: ready).
func servedStatus(p string) int {
	rec := httptest.NewRecorder()
	telemetry.Handler(telemetry.NewRegistry(), telemetry.NewHealth()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	return rec.Code
}

// imageRepo strips the tag and digest of an image reference.
func imageRepo(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// isContrailImage says whether an image is Contrail's (whatever registry).
func isContrailImage(image string) bool { return path.Base(imageRepo(image)) == "contrail" }
