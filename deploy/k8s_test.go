package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kubernetes manifests as generic YAML: this test must not pull in
// client-go, and it checks only what it reads.

type obj = map[string]any

// decodeDocs reads multi-document YAML, skipping empty documents.
func decodeDocs(data []byte) ([]obj, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks nested mappings: get(o, "spec", "template", "spec").
func get(o any, keys ...string) any {
	for _, k := range keys {
		m, ok := o.(obj)
		if !ok {
			return nil
		}
		o = m[k]
	}
	return o
}

func getMap(o any, keys ...string) obj    { m, _ := get(o, keys...).(obj); return m }
func getList(o any, keys ...string) []any { l, _ := get(o, keys...).([]any); return l }
func getStr(o any, keys ...string) string {
	switch v := get(o, keys...).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func kindName(o obj) string { return getStr(o, "kind") + "/" + getStr(o, "metadata", "name") }

// kustomization is a kustomization.yaml and its directory.
type kustomization struct {
	dir string
	doc obj
}

func loadKustomization(dir string) (*kustomization, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var doc obj
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: %v", dir, err)
	}
	return &kustomization{dir: dir, doc: doc}, nil
}

func (k *kustomization) strings(key string) []string {
	var out []string
	for _, v := range getList(k.doc, key) {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// files lists every file the kustomization names: resources that are files,
// patches, generator files and env files.
func (k *kustomization) files() (files, dirs []string) {
	for _, r := range k.strings("resources") {
		p := filepath.Join(k.dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			dirs = append(dirs, p)
		} else {
			files = append(files, p)
		}
	}
	for _, p := range getList(k.doc, "patches") {
		if s := getStr(p, "path"); s != "" {
			files = append(files, filepath.Join(k.dir, s))
		}
	}
	for _, s := range k.strings("patchesStrategicMerge") {
		files = append(files, filepath.Join(k.dir, s))
	}
	for _, gen := range []string{"configMapGenerator", "secretGenerator"} {
		for _, g := range getList(k.doc, gen) {
			for _, f := range getList(g, "files") {
				_, p := generatorFile(fmt.Sprint(f))
				files = append(files, filepath.Join(k.dir, p))
			}
			for _, f := range getList(g, "envs") {
				files = append(files, filepath.Join(k.dir, fmt.Sprint(f)))
			}
		}
	}
	return files, dirs
}

// generatorFile splits a generator "files" entry, "[key=]path".
func generatorFile(entry string) (key, p string) {
	if k, v, ok := strings.Cut(entry, "="); ok {
		return k, v
	}
	return path.Base(entry), entry
}

// configMaps returns the data of the ConfigMaps a kustomization generates,
// merged over base (behavior: merge) when given.
func (k *kustomization) configMaps(base map[string]map[string]string) (map[string]map[string]string, []string) {
	out := map[string]map[string]string{}
	for n, d := range base {
		out[n] = maps(d)
	}
	var problems []string
	for _, g := range getList(k.doc, "configMapGenerator") {
		name, behavior := getStr(g, "name"), getStr(g, "behavior")
		data := map[string]string{}
		switch behavior {
		case "merge", "replace":
			if _, ok := out[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: configMapGenerator %s has behavior %s but no base generates it", k.dir, name, behavior))
			}
			if behavior == "merge" {
				data = out[name]
			}
		}
		for _, f := range getList(g, "files") {
			key, p := generatorFile(fmt.Sprint(f))
			b, err := os.ReadFile(filepath.Join(k.dir, p))
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			data[key] = string(b)
		}
		for _, l := range getList(g, "literals") {
			key, v, _ := strings.Cut(fmt.Sprint(l), "=")
			data[key] = v
		}
		out[name] = data
	}
	return out, problems
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// resourceDocs reads the documents of a kustomization's resource files and,
// recursively, of the bases it names.
func (k *kustomization) resourceDocs() ([]obj, []string) {
	var docs []obj
	var problems []string
	for _, r := range k.strings("resources") {
		p := filepath.Join(k.dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			sub, err := loadKustomization(p)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			d, ps := sub.resourceDocs()
			docs, problems = append(docs, d...), append(problems, ps...)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		d, err := decodeDocs(b)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
		}
		docs = append(docs, d...)
	}
	return docs, problems
}

// strategicMerge applies a patch the way kustomize's strategic merge does
// for what these manifests patch: mappings merge, containers and env merge
// by name, other lists are replaced.
func strategicMerge(dst, patch any) any {
	switch p := patch.(type) {
	case obj:
		d, ok := dst.(obj)
		if !ok {
			return p
		}
		for k, v := range p {
			d[k] = strategicMerge(d[k], v)
		}
		return d
	case []any:
		d, ok := dst.([]any)
		if !ok || !namedList(p) || !namedList(d) {
			return p
		}
		for _, pe := range p {
			name := getStr(pe, "name")
			i := slices.IndexFunc(d, func(e any) bool { return getStr(e, "name") == name })
			if i < 0 {
				d = append(d, pe)
			} else {
				d[i] = strategicMerge(d[i], pe)
			}
		}
		return d
	}
	return patch
}

func namedList(l []any) bool {
	for _, e := range l {
		if getStr(e, "name") == "" {
			return false
		}
	}
	return len(l) > 0
}

// checkK8sWorkloads checks the Deployments and Jobs running the contrail
// image, and the Services and PodDisruptionBudgets around them.
func checkK8sWorkloads(m *cliModel, docs []obj, cms map[string]map[string]string, repo string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byKind := map[string][]obj{}
	for _, d := range docs {
		byKind[getStr(d, "kind")] = append(byKind[getStr(d, "kind")], d)
	}
	workloads := 0
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} {
		for _, w := range byKind[kind] {
			pod := getMap(w, "spec", "template")
			if kind == "CronJob" {
				pod = getMap(w, "spec", "jobTemplate", "spec", "template")
			}
			where := kindName(w)
			spec := getMap(pod, "spec")
			labels := getMap(pod, "metadata", "labels")
			oneShot := kind == "Job" || kind == "CronJob"
			for _, c := range slices.Concat(getList(spec, "initContainers"), getList(spec, "containers")) {
				if !isContrailImage(getStr(c, "image")) {
					continue
				}
				workloads++
				cw := where + " container " + getStr(c, "name")
				if r := imageRepo(getStr(c, "image")); r != repo {
					bad("%s: image %s, want %s (the compose image)", cw, r, repo)
				}
				problems = append(problems, checkPodSecurity(cw, spec, c)...)
				problems = append(problems, checkResources(cw, c)...)
				inv, ps := checkK8sContainer(m, cw, spec, c, cms)
				problems = append(problems, ps...)
				if inv == nil {
					continue
				}
				if oneShot {
					if inv.cmd.hasListen() {
						bad("%s: %s is a long-running stage; run it in a Deployment, not a %s", cw, inv.cmd, kind)
					}
					if get(c, "livenessProbe") != nil || get(c, "readinessProbe") != nil {
						bad("%s: a one-shot has no probes to answer", cw)
					}
					if rp := getStr(spec, "restartPolicy"); rp != "OnFailure" && rp != "Never" {
						bad("%s: restartPolicy %q, want OnFailure or Never", cw, rp)
					}
					continue
				}
				if !inv.cmd.hasListen() {
					bad("%s: %s is a one-shot; run it in a Job, not a %s", cw, inv.cmd, kind)
					continue
				}
				port, ps := inv.listenPort()
				problems = append(problems, ps...)
				problems = append(problems, checkStagePod(cw, w, pod, c, port, byKind)...)
				if labels["app.kubernetes.io/part-of"] != "contrail" || labels["app.kubernetes.io/component"] == nil {
					bad("%s: pod labels lack app.kubernetes.io/part-of=contrail or app.kubernetes.io/component (the scrape config uses them)", where)
				}
			}
		}
	}
	if workloads == 0 {
		bad("no workload runs the contrail image")
	}
	return problems
}

func checkK8sContainer(m *cliModel, where string, spec obj, c any, cms map[string]map[string]string) (*invocation, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(where+": "+format, args...)) }
	if cmd := getList(c, "command"); cmd != nil && (len(cmd) != 1 || fmt.Sprint(cmd[0]) != "/contrail") {
		bad("command %v replaces the image's /contrail entrypoint; put the subcommand in args", cmd)
	}
	var args []string
	for _, a := range getList(c, "args") {
		args = append(args, fmt.Sprint(a))
	}
	env := map[string]envVar{}
	for _, e := range getList(c, "env") {
		name := getStr(e, "name")
		if _, dup := env[name]; dup {
			bad("env %s is set twice", name)
		}
		switch {
		case get(e, "value") != nil || get(e, "valueFrom") == nil:
			env[name] = envVar{value: getStr(e, "value"), raw: getStr(e, "value"), known: true}
		case getMap(e, "valueFrom", "configMapKeyRef") != nil:
			ref := getMap(e, "valueFrom", "configMapKeyRef")
			v, ok := cms[getStr(ref, "name")][getStr(ref, "key")]
			if !ok {
				bad("env %s: ConfigMap %s has no key %s", name, getStr(ref, "name"), getStr(ref, "key"))
			}
			env[name] = envVar{value: v, raw: "configmap", known: ok}
		case getMap(e, "valueFrom", "secretKeyRef") != nil:
			env[name] = envVar{secret: true}
		default:
			env[name] = envVar{}
		}
	}
	for _, ef := range getList(c, "envFrom") {
		cm := getStr(ef, "configMapRef", "name")
		data, ok := cms[cm]
		if cm == "" || !ok {
			bad("envFrom %v: only ConfigMaps generated here can be checked", ef)
			continue
		}
		for k, v := range data {
			if _, set := env[k]; !set {
				env[k] = envVar{value: v, raw: "configmap", known: true}
			}
		}
	}
	for _, name := range []string{"CONTRAIL_CLICKHOUSE_PASSWORD", "CONTRAIL_KAFKA_SASL_PASSWORD", "CONTRAIL_HTTP_TOKEN"} {
		if v, ok := env[name]; ok && !v.secret {
			bad("%s must come from a Secret (valueFrom.secretKeyRef)", name)
		}
	}
	volumes := map[string]any{}
	for _, v := range getList(spec, "volumes") {
		volumes[getStr(v, "name")] = v
	}
	readFile := func(p string) (string, bool) {
		for _, vm := range getList(c, "volumeMounts") {
			mp, sub := getStr(vm, "mountPath"), getStr(vm, "subPath")
			var key string
			switch {
			case sub != "" && mp == p:
				key = sub
			case sub == "" && strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/"):
				key = strings.TrimPrefix(p, strings.TrimSuffix(mp, "/")+"/")
			default:
				continue
			}
			vol := volumes[getStr(vm, "name")]
			cm := getStr(vol, "configMap", "name")
			if cm == "" {
				return "", false
			}
			if items := getList(vol, "configMap", "items"); items != nil {
				i := slices.IndexFunc(items, func(it any) bool { return getStr(it, "path") == key })
				if i < 0 {
					return "", false
				}
				key = getStr(items[i], "key")
			}
			content, ok := cms[cm][key]
			return content, ok
		}
		return "", false
	}
	inv, ps := checkContrail(m, contrailContainer{where: where, args: args, env: env, readFile: readFile})
	return inv, append(problems, ps...)
}

// checkStagePod checks what a long-running stage needs around it: a metrics
// port matching --listen, probes on served paths, scrape annotations, a
// Service and a PodDisruptionBudget selecting its pods.
func checkStagePod(where string, w, pod obj, c any, port string, byKind map[string][]obj) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(where+": "+format, args...)) }
	portName := ""
	for _, p := range getList(c, "ports") {
		if getStr(p, "containerPort") == port {
			portName = getStr(p, "name")
		}
	}
	if portName == "" {
		bad("no named containerPort %s, the port of --listen", port)
	}
	for _, probe := range []struct{ field, path string }{{"livenessProbe", "/healthz"}, {"readinessProbe", "/readyz"}} {
		hg := getMap(c, probe.field, "httpGet")
		if hg == nil {
			bad("no %s.httpGet", probe.field)
			continue
		}
		if p := getStr(hg, "path"); p != probe.path {
			bad("%s path %q, want %s", probe.field, p, probe.path)
		} else if code := servedStatus(p); code != 200 {
			bad("%s path %s: the stage answers %d", probe.field, p, code)
		}
		if pp := getStr(hg, "port"); pp != port && (pp != portName || portName == "") {
			bad("%s port %q is not the --listen port %s", probe.field, pp, port)
		}
	}
	ann := getMap(pod, "metadata", "annotations")
	if getStr(ann, "prometheus.io/scrape") != "true" || getStr(ann, "prometheus.io/port") != port {
		bad("pod annotations prometheus.io/scrape=%q prometheus.io/port=%q, want \"true\" and %q", getStr(ann, "prometheus.io/scrape"), getStr(ann, "prometheus.io/port"), port)
	}
	if p := getStr(ann, "prometheus.io/path"); p != "" && servedStatus(p) != 200 {
		bad("prometheus.io/path %s is not served", p)
	}
	labels := getMap(pod, "metadata", "labels")
	ns := getStr(w, "metadata", "namespace")
	selects := func(sel obj) bool {
		if len(sel) == 0 {
			return false
		}
		for k, v := range sel {
			if fmt.Sprint(labels[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
	svcOK := false
	for _, s := range byKind["Service"] {
		if getStr(s, "metadata", "namespace") != ns || !selects(getMap(s, "spec", "selector")) {
			continue
		}
		for _, p := range getList(s, "spec", "ports") {
			tp := getStr(p, "targetPort")
			if tp == "" {
				tp = getStr(p, "port")
			}
			if tp == port || (portName != "" && tp == portName) {
				svcOK = true
			}
		}
	}
	if !svcOK {
		bad("no Service selects its pods with a port to %s (metrics)", port)
	}
	pdbOK := false
	for _, p := range byKind["PodDisruptionBudget"] {
		if getStr(p, "metadata", "namespace") == ns && selects(getMap(p, "spec", "selector", "matchLabels")) {
			pdbOK = true
		}
	}
	if !pdbOK {
		bad("no PodDisruptionBudget selects its pods")
	}
	sel := getMap(w, "spec", "selector", "matchLabels")
	if !selects(sel) {
		bad("spec.selector %v does not select its own pod labels", sel)
	}
	return problems
}

// checkPodSecurity wants what the "restricted" Pod Security Standard wants,
// plus a read-only root file system.
func checkPodSecurity(where string, spec obj, c any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(where+": "+format, args...)) }
	either := func(keys ...string) any {
		if v := get(c, append([]string{"securityContext"}, keys...)...); v != nil {
			return v
		}
		return get(spec, append([]string{"securityContext"}, keys...)...)
	}
	if v, _ := either("runAsNonRoot").(bool); !v {
		bad("securityContext.runAsNonRoot is not true")
	}
	if uid := either("runAsUser"); uid != nil && fmt.Sprint(uid) == "0" {
		bad("runAsUser 0")
	}
	if getStr(either("seccompProfile"), "type") != "RuntimeDefault" && getStr(either("seccompProfile"), "type") != "Localhost" {
		bad("seccompProfile is not RuntimeDefault")
	}
	if v, _ := get(c, "securityContext", "readOnlyRootFilesystem").(bool); !v {
		bad("securityContext.readOnlyRootFilesystem is not true")
	}
	if v, ok := get(c, "securityContext", "allowPrivilegeEscalation").(bool); !ok || v {
		bad("securityContext.allowPrivilegeEscalation is not false")
	}
	if !slices.ContainsFunc(getList(c, "securityContext", "capabilities", "drop"), func(v any) bool { return fmt.Sprint(v) == "ALL" }) {
		bad("securityContext.capabilities.drop lacks ALL")
	}
	if v, ok := spec["automountServiceAccountToken"].(bool); !ok || v {
		bad("automountServiceAccountToken is not false (contrail never talks to the API server)")
	}
	return problems
}

var quantity = regexp.MustCompile(`^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|KiB|MiB|GiB|TiB|B)?$`)

// bytesOf parses a Kubernetes memory quantity or a GOMEMLIMIT value.
func bytesOf(s string) (float64, bool) {
	g := quantity.FindStringSubmatch(s)
	if g == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(g[1], 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "B": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
	return n * mult[g[2]], true
}

func checkResources(where string, c any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(where+": "+format, args...)) }
	for _, k := range [][]string{{"requests", "cpu"}, {"requests", "memory"}, {"limits", "memory"}} {
		if getStr(c, "resources", k[0], k[1]) == "" {
			bad("resources.%s.%s is not set", k[0], k[1])
		}
	}
	limit, okL := bytesOf(getStr(c, "resources", "limits", "memory"))
	req, okR := bytesOf(getStr(c, "resources", "requests", "memory"))
	if okL && okR && req > limit {
		bad("requests.memory above limits.memory")
	}
	for _, e := range getList(c, "env") {
		if getStr(e, "name") != "GOMEMLIMIT" {
			continue
		}
		gl, ok := bytesOf(getStr(e, "value"))
		switch {
		case !ok:
			bad("GOMEMLIMIT %q is no size", getStr(e, "value"))
		case okL && gl >= limit:
			bad("GOMEMLIMIT %s is not below limits.memory %s", getStr(e, "value"), getStr(c, "resources", "limits", "memory"))
		case okL && gl < limit*0.7:
			bad("GOMEMLIMIT %s is far below limits.memory %s (keep it about 90%%)", getStr(e, "value"), getStr(c, "resources", "limits", "memory"))
		}
	}
	return problems
}
