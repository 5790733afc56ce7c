package deploy_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// composeFile is a compose.yaml, before and after variable interpolation
// (every ${VAR:-default} takes its default: the file must work unconfigured).
type composeFile struct {
	dir      string // directory of the file: relative paths start here
	raw, doc map[string]any
}

func parseCompose(data []byte, dir string) (*composeFile, error) {
	cf := &composeFile{dir: dir}
	if err := yaml.Unmarshal(data, &cf.raw); err != nil {
		return nil, fmt.Errorf("compose file is not valid YAML: %v", err)
	}
	if err := yaml.Unmarshal(data, &cf.doc); err != nil {
		return nil, err
	}
	v, err := interpolateAll(cf.doc)
	if err != nil {
		return nil, err
	}
	cf.doc = v.(map[string]any)
	if _, ok := cf.doc["services"].(map[string]any); !ok {
		return nil, fmt.Errorf("compose file has no services")
	}
	return cf, nil
}

var composeVar = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate substitutes compose variables with their defaults, as compose
// does when none of them is set.
func interpolate(s string) (string, error) {
	var err error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := composeVar.FindStringSubmatch(m)
		switch op := g[2]; op {
		case "":
			if err == nil {
				err = fmt.Errorf("%q: variable %s has no default; the file must work with no variables set", s, g[1]+g[4])
			}
			return ""
		case ":-", "-":
			d, e := interpolate(g[3])
			if e != nil && err == nil {
				err = e
			}
			return d
		case ":?", "?":
			if err == nil {
				err = fmt.Errorf("%q: variable %s is required", s, g[1])
			}
			return ""
		default: // :+ and +: the alternative applies only when set
			return ""
		}
	})
	return out, err
}

func interpolateAll(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return interpolate(x)
	case map[string]any:
		for k, e := range x {
			r, err := interpolateAll(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := interpolateAll(e)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

func (cf *composeFile) services() map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, s := range cf.doc["services"].(map[string]any) {
		if m, ok := s.(map[string]any); ok {
			out[name] = m
		}
	}
	return out
}

func (cf *composeFile) rawService(name string) map[string]any {
	s, _ := cf.raw["services"].(map[string]any)
	m, _ := s[name].(map[string]any)
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringList reads a compose list-or-string field (command, entrypoint).
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return nil
}

// envMap reads a compose environment (a mapping or a list of K=V).
func envMap(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(e)
			}
		}
	case []any:
		for _, e := range x {
			k, val, _ := strings.Cut(fmt.Sprint(e), "=")
			out[k] = val
		}
	}
	return out
}

// composeMount is a bind mount: a host path (relative to the compose file)
// at a container path.
type composeMount struct{ source, target string }

func mounts(svc map[string]any) []composeMount {
	var out []composeMount
	vols, _ := svc["volumes"].([]any)
	for _, v := range vols {
		switch x := v.(type) {
		case string:
			parts := strings.Split(x, ":")
			if len(parts) >= 2 {
				out = append(out, composeMount{parts[0], parts[1]})
			}
		case map[string]any:
			src, _ := x["source"].(string)
			dst, _ := x["target"].(string)
			out = append(out, composeMount{src, dst})
		}
	}
	return out
}

// hostPath maps a container path to the host file a bind mount puts there
// ("" when no bind mount of a host path covers it).
func (cf *composeFile) hostPath(svc map[string]any, p string) string {
	for _, mt := range mounts(svc) {
		if !strings.HasPrefix(mt.source, ".") && !strings.HasPrefix(mt.source, "/") {
			continue // a named volume
		}
		if rel, err := filepath.Rel(mt.target, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(cf.dir, mt.source, rel)
		}
	}
	return ""
}

func (cf *composeFile) readFileFunc(svc map[string]any) func(string) (string, bool) {
	return func(p string) (string, bool) {
		hp := cf.hostPath(svc, p)
		if hp == "" {
			return "", false
		}
		b, err := os.ReadFile(hp)
		return string(b), err == nil
	}
}

// dependsOn reads depends_on as service -> condition.
func dependsOn(svc map[string]any) map[string]string {
	out := map[string]string{}
	switch x := svc["depends_on"].(type) {
	case []any:
		for _, e := range x {
			out[fmt.Sprint(e)] = "service_started"
		}
	case map[string]any:
		for k, e := range x {
			c := "service_started"
			if m, ok := e.(map[string]any); ok {
				if s, ok := m["condition"].(string); ok {
					c = s
				}
			}
			out[k] = c
		}
	}
	return out
}

// checkComposeServices checks every service running the contrail image and
// returns what each runs.
func checkComposeServices(m *cliModel, cf *composeFile) (map[string]*invocation, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	services := cf.services()
	invs := map[string]*invocation{}
	repos := map[string]bool{}
	for _, name := range sortedKeys(services) {
		svc := services[name]
		image, _ := svc["image"].(string)
		if !isContrailImage(image) {
			continue
		}
		where := "compose service " + name
		repos[imageRepo(image)] = true
		if ep := stringList(svc["entrypoint"]); ep != nil && !slices.Equal(ep, []string{"/contrail"}) {
			bad("%s: entrypoint %q replaces the image's /contrail", where, ep)
		}
		env := map[string]envVar{}
		rawEnv := envMap(cf.rawService(name)["environment"])
		for k, v := range envMap(svc["environment"]) {
			env[k] = envVar{value: v, known: true, raw: rawEnv[k]}
		}
		inv, ps := checkContrail(m, contrailContainer{where: where, args: stringList(svc["command"]), env: env, readFile: cf.readFileFunc(svc)})
		problems = append(problems, ps...)
		if inv == nil {
			continue
		}
		invs[name] = inv
		if ro, _ := svc["read_only"].(bool); !ro {
			bad("%s: read_only is not true (contrail writes nothing to its file system)", where)
		}
		restart, _ := svc["restart"].(string)
		if inv.cmd.hasListen() {
			_, ps := inv.listenPort()
			problems = append(problems, ps...)
			if restart == "no" || restart == "" {
				bad("%s: a long-running stage without a restart policy", where)
			}
		} else if restart != "no" {
			bad("%s: %s is a one-shot; set restart: \"no\" (else it runs again and again)", where, inv.cmd)
		}
		if b, ok := svc["build"].(map[string]any); ok {
			ctx, _ := b["context"].(string)
			df, _ := b["dockerfile"].(string)
			if _, err := os.Stat(filepath.Join(cf.dir, ctx, df)); err != nil || df == "" {
				bad("%s: build context %q dockerfile %q: %v", where, ctx, df, err)
			}
			if abs, _ := filepath.Abs(filepath.Join(cf.dir, ctx)); !fileExists(filepath.Join(abs, "go.mod")) {
				bad("%s: build context %q is not the repository root (go.mod)", where, ctx)
			}
		}
	}
	if len(repos) > 1 {
		bad("compose uses several contrail images: %v", sortedKeys(repos))
	}

	// Order and addresses: stages wait for the one-shots, one-shots for
	// healthy servers; addresses name services of this file.
	byCmd := map[string][]string{}
	for _, name := range sortedKeys(invs) {
		byCmd[strings.Join(invs[name].cmd.path, " ")] = append(byCmd[strings.Join(invs[name].cmd.path, " ")], name)
	}
	for _, name := range sortedKeys(invs) {
		inv, svc := invs[name], services[name]
		where := "compose service " + name
		deps := dependsOn(svc)
		setup := map[string]string{"brokers": "topics", "clickhouse": "migrate"}
		for _, setting := range []string{"brokers", "clickhouse"} {
			if _, ok := inv.cmd.flags[setting]; !ok {
				continue
			}
			for _, h := range hostsOf(inv.effective[setting]) {
				server, ok := services[h]
				if !ok {
					bad("%s: --%s names host %q, which is no service of this file", where, setting, h)
					continue
				}
				if inv.cmd.path[0] == setup[setting] || inv.cmd.path[0] == "run" {
					if deps[h] != "service_healthy" {
						bad("%s: depends on %s without condition service_healthy", where, h)
					}
					if server["healthcheck"] == nil {
						bad("compose service %s: no healthcheck, so service_healthy never holds", h)
					}
				}
			}
			if inv.cmd.path[0] == setup[setting] || inv.cmd.path[0] == "run" {
				continue
			}
			ok := false
			for _, one := range byCmd[setup[setting]] {
				ok = ok || deps[one] == "service_completed_successfully"
			}
			if !ok {
				bad("%s: uses --%s but does not depend on `contrail %s` with condition service_completed_successfully", where, setting, setup[setting])
			}
		}
		// The ClickHouse credentials of the stage are the server's.
		if h := hostsOf(inv.effective["clickhouse"]); len(h) == 1 {
			if server, ok := services[h[0]]; ok {
				senv, rawS := envMap(server["environment"]), envMap(cf.rawService(h[0])["environment"])
				if u := senv["CLICKHOUSE_USER"]; u != "" && inv.effective["clickhouse-user"] != u {
					bad("%s: --clickhouse-user %q but ClickHouse creates user %q", where, inv.effective["clickhouse-user"], u)
				}
				rawEnv := envMap(cf.rawService(name)["environment"])
				if p := rawS["CLICKHOUSE_PASSWORD"]; p != "" && rawEnv["CONTRAIL_CLICKHOUSE_PASSWORD"] != p {
					bad("%s: CONTRAIL_CLICKHOUSE_PASSWORD %q is not ClickHouse's CLICKHOUSE_PASSWORD %q", where, rawEnv["CONTRAIL_CLICKHOUSE_PASSWORD"], p)
				}
			}
		}
	}
	return invs, problems
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// serviceWithImage finds the service whose image repository ends in suffix.
func serviceWithImage(cf *composeFile, suffix string) (string, map[string]any) {
	services := cf.services()
	for _, name := range sortedKeys(services) {
		image, _ := services[name]["image"].(string)
		if strings.HasSuffix(imageRepo(image), suffix) {
			return name, services[name]
		}
	}
	return "", nil
}

// checkComposeMonitoring checks that Prometheus scrapes every stage on its
// --listen port (and nothing that is not there), that its rule files are
// mounted, and that Grafana's provisioning reaches Prometheus and the
// dashboards.
func checkComposeMonitoring(cf *composeFile, invs map[string]*invocation) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	services := cf.services()

	promName, prom := serviceWithImage(cf, "prom/prometheus")
	if prom == nil {
		return []string{"compose has no prom/prometheus service"}
	}
	cfgPath := "/etc/prometheus/prometheus.yml"
	promPort := "9090"
	for _, a := range stringList(prom["command"]) {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		}
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			_, promPort, _ = net.SplitHostPort(v)
		}
	}
	hp := cf.hostPath(prom, cfgPath)
	b, err := os.ReadFile(hp)
	if err != nil {
		return append(problems, fmt.Sprintf("compose service %s: config %s is not mounted from a file here (%v)", promName, cfgPath, err))
	}
	var pc promConfig
	if err := yaml.Unmarshal(b, &pc); err != nil {
		return append(problems, fmt.Sprintf("%s: %v", hp, err))
	}
	for _, rf := range pc.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(cfgPath), rf)
		}
		if h := cf.hostPath(prom, rf); h == "" || !fileExists(h) {
			bad("prometheus rule file %s is not mounted into compose service %s", rf, promName)
		}
	}
	scraped := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		var targets [][2]string
		for _, st := range sc.StaticConfigs {
			for _, t := range st.Targets {
				h, p, err := net.SplitHostPort(t)
				if err != nil {
					bad("prometheus job %s: target %q: %v", sc.JobName, t, err)
					continue
				}
				targets = append(targets, [2]string{h, p})
			}
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				targets = append(targets, [2]string{n, fmt.Sprint(d.Port)})
			}
		}
		for _, t := range targets {
			if t[0] == "localhost" || t[0] == "127.0.0.1" {
				continue
			}
			if _, ok := services[t[0]]; !ok {
				bad("prometheus job %s: target %s:%s is no compose service", sc.JobName, t[0], t[1])
				continue
			}
			inv, ok := invs[t[0]]
			if !ok {
				continue
			}
			if !inv.cmd.hasListen() {
				bad("prometheus job %s: %s runs %s, which serves no metrics", sc.JobName, t[0], inv.cmd)
				continue
			}
			if port, _ := inv.listenPort(); port != t[1] {
				bad("prometheus job %s scrapes %s on port %s, but it listens on %q", sc.JobName, t[0], t[1], inv.effective["listen"])
			}
			if !strings.HasPrefix(sc.JobName, "contrail-") {
				bad("prometheus job %s scrapes contrail service %s; name it contrail-<stage> (alerts.yml and the dashboard select job=~\"contrail-.*\")", sc.JobName, t[0])
			}
			if path := sc.MetricsPath; path != "" && servedStatus(path) != 200 {
				bad("prometheus job %s: metrics_path %s is not served", sc.JobName, path)
			}
			scraped[t[0]] = true
		}
	}
	for _, name := range sortedKeys(invs) {
		if invs[name].cmd.hasListen() && !scraped[name] {
			bad("compose service %s (%s) serves /metrics but no prometheus job scrapes it", name, invs[name].cmd)
		}
	}

	// Grafana: datasource URL, dashboard provider path, home dashboard.
	gName, graf := serviceWithImage(cf, "grafana/grafana")
	if graf == nil {
		return append(problems, "compose has no grafana/grafana service")
	}
	prov := cf.hostPath(graf, "/etc/grafana/provisioning")
	if prov == "" {
		return append(problems, fmt.Sprintf("compose service %s: /etc/grafana/provisioning is not mounted", gName))
	}
	dsFiles, _ := filepath.Glob(filepath.Join(prov, "datasources", "*.yaml"))
	dbFiles, _ := filepath.Glob(filepath.Join(prov, "dashboards", "*.yaml"))
	if len(dsFiles) == 0 || len(dbFiles) == 0 {
		bad("grafana provisioning %s lacks datasources/*.yaml or dashboards/*.yaml", prov)
	}
	for _, f := range dsFiles {
		var ds struct {
			Datasources []struct {
				Name, UID, Type, URL string
			} `yaml:"datasources"`
		}
		if err := readYAMLFile(f, &ds); err != nil {
			bad("%v", err)
			continue
		}
		for _, d := range ds.Datasources {
			if d.Type != "prometheus" {
				continue
			}
			host, port := hostPortOfURL(d.URL)
			if host != promName || port != promPort {
				bad("%s: datasource %s points at %s, want http://%s:%s", f, d.Name, d.URL, promName, promPort)
			}
		}
	}
	for _, f := range dbFiles {
		var dp struct {
			Providers []struct {
				Name    string
				Options struct{ Path string } `yaml:"options"`
			} `yaml:"providers"`
		}
		if err := readYAMLFile(f, &dp); err != nil {
			bad("%v", err)
			continue
		}
		for _, p := range dp.Providers {
			dir := cf.hostPath(graf, p.Options.Path)
			if js, _ := filepath.Glob(filepath.Join(dir, "*.json")); dir == "" || len(js) == 0 {
				bad("%s: provider %s loads %s, where no dashboard JSON is mounted", f, p.Name, p.Options.Path)
			}
		}
	}
	if home := envMap(graf["environment"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		if h := cf.hostPath(graf, home); h == "" || !fileExists(h) {
			bad("compose service %s: home dashboard %s is not mounted", gName, home)
		}
	}
	return problems
}

// promConfig is the part of a Prometheus configuration checked here.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Type  string   `yaml:"type"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
		RelabelConfigs []struct {
			SourceLabels []string `yaml:"source_labels"`
			Regex        string   `yaml:"regex"`
			Action       string   `yaml:"action"`
			TargetLabel  string   `yaml:"target_label"`
			Replacement  string   `yaml:"replacement"`
		} `yaml:"relabel_configs"`
	} `yaml:"scrape_configs"`
}

func readYAMLFile(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", p, err)
	}
	return nil
}

func hostPortOfURL(u string) (string, string) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return "", ""
	}
	rest, _, _ = strings.Cut(rest, "/")
	h, p, err := net.SplitHostPort(rest)
	if err != nil {
		return rest, "80"
	}
	return h, p
}
