// Package deploy_test checks the deployment files under deploy/ against the
// code, because no Docker engine or cluster runs them on the development
// machines: compose.yaml and the Kubernetes manifests may pass only flags
// and CONTRAIL_* variables the CLI has (asked of the CLI itself through
// `contrail <command> --help`), with values it accepts, and settings files
// whose keys it knows; images and ports agree across compose, Kubernetes, the
// Dockerfile and --listen; probes and scrape paths are ones the stages
// serve; alerts and dashboard panels use only metrics the code registers;
// the Dockerfile's build flags produce a static binary that reports the
// stamped version. TestCheckerRejectsBadManifests shows that the checks
// catch a renamed flag and its relatives.
//
// With kubectl (kustomize), promtool or docker compose on the PATH, the
// tests also render, lint and validate with them; without, those skip.
package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	modelOnce sync.Once
	model     *cliModel
)

func cliM() *cliModel {
	modelOnce.Do(func() { model = newCLIModel() })
	return model
}

var (
	catalogOnce sync.Once
	catalog     metricCatalog
	catalogErr  error
)

func metrics(t *testing.T) metricCatalog {
	t.Helper()
	catalogOnce.Do(func() { catalog, catalogErr = buildMetricCatalog() })
	if catalogErr != nil {
		t.Fatalf("build metric catalog: %v", catalogErr)
	}
	return catalog
}

func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadComposeFile(t *testing.T) *composeFile {
	t.Helper()
	cf, err := parseCompose(mustRead(t, "compose.yaml"), ".")
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return cf
}

// contrailRepo is the image repository compose builds and runs.
func contrailRepo(t *testing.T, cf *composeFile) string {
	t.Helper()
	services := cf.services()
	for _, name := range sortedKeys(services) {
		if img, _ := services[name]["image"].(string); isContrailImage(img) {
			return imageRepo(img)
		}
	}
	t.Fatal("compose.yaml runs no contrail image")
	return ""
}

func TestComposeMatchesCLI(t *testing.T) {
	cf := loadComposeFile(t)
	invs, problems := checkComposeServices(cliM(), cf)
	report(t, problems)
	report(t, checkComposeMonitoring(cf, invs))

	// The pipeline is all there: provisioning one-shots, an ingest, the
	// processors, the sink.
	have := map[string]bool{}
	for _, inv := range invs {
		have[inv.cmd.path[0]] = true
	}
	for _, want := range []string{"topics", "migrate", "ingest", "process", "sink"} {
		if !have[want] {
			t.Errorf("compose.yaml runs no `contrail %s`", want)
		}
	}
	// Bind mounts of files in this repository exist.
	for _, name := range sortedKeys(cf.services()) {
		for _, mt := range mounts(cf.services()[name]) {
			if strings.HasPrefix(mt.source, "./") && !fileExists(filepath.Join(cf.dir, mt.source)) {
				t.Errorf("compose service %s mounts %s, which does not exist", name, mt.source)
			}
		}
	}
}

// baseK8s reads the kustomize base: its documents and generated ConfigMaps.
func baseK8s(t *testing.T) (*kustomization, []obj, map[string]map[string]string) {
	t.Helper()
	k, err := loadKustomization("k8s/base")
	if err != nil {
		t.Fatal(err)
	}
	docs, problems := k.resourceDocs()
	cms, ps := k.configMaps(nil)
	report(t, append(problems, ps...))
	return k, docs, cms
}

func TestKubernetesBaseMatchesCLI(t *testing.T) {
	repo := contrailRepo(t, loadComposeFile(t))
	_, docs, cms := baseK8s(t)
	report(t, checkK8sWorkloads(cliM(), docs, cms, repo))

	runs := map[string]string{} // command -> kind
	for _, d := range docs {
		for _, c := range getList(d, "spec", "template", "spec", "containers") {
			if a := getList(c, "args"); len(a) > 0 && isContrailImage(getStr(c, "image")) {
				runs[fmt.Sprint(a[0])] = getStr(d, "kind")
			}
		}
	}
	for cmd, kind := range map[string]string{"topics": "Job", "migrate": "Job", "ingest": "Deployment", "process": "Deployment", "sink": "Deployment"} {
		if runs[cmd] != kind {
			t.Errorf("k8s base: `contrail %s` runs in %q, want a %s", cmd, runs[cmd], kind)
		}
	}
}

// TestKubernetesOverlay applies the example overlay the way kustomize does
// for what it uses (merged generators, replicas, image tags, strategic-merge
// patches) and checks the result like the base.
func TestKubernetesOverlay(t *testing.T) {
	repo := contrailRepo(t, loadComposeFile(t))
	_, docs, baseCMs := baseK8s(t)
	ov, err := loadKustomization("k8s/overlays/example")
	if err != nil {
		t.Fatal(err)
	}
	cms, problems := ov.configMaps(baseCMs)
	report(t, problems)

	byName := map[string]obj{}
	for _, d := range docs {
		byName[kindName(d)] = d
	}
	for _, im := range getList(ov.doc, "images") {
		if n := getStr(im, "name"); n != repo {
			t.Errorf("overlay images: %s is not the contrail image %s, so the tag is not applied", n, repo)
		}
	}
	for _, r := range getList(ov.doc, "replicas") {
		if byName["Deployment/"+getStr(r, "name")] == nil {
			t.Errorf("overlay replicas: no Deployment %s in the base", getStr(r, "name"))
		}
	}
	for _, p := range getList(ov.doc, "patches") {
		b := mustRead(t, filepath.Join(ov.dir, getStr(p, "path")))
		patches, err := decodeDocs(b)
		if err != nil {
			t.Fatalf("%s: %v", getStr(p, "path"), err)
		}
		for _, pd := range patches {
			target := byName[kindName(pd)]
			if target == nil {
				t.Errorf("patch %s: no %s in the base", getStr(p, "path"), kindName(pd))
				continue
			}
			for _, pc := range getList(pd, "spec", "template", "spec", "containers") {
				if !slices.ContainsFunc(getList(target, "spec", "template", "spec", "containers"), func(c any) bool { return getStr(c, "name") == getStr(pc, "name") }) {
					t.Errorf("patch %s: %s has no container %s; the patch would add a container without an image", getStr(p, "path"), kindName(pd), getStr(pc, "name"))
				}
			}
			strategicMerge(target, pd)
		}
	}
	var extra []obj
	for _, r := range ov.strings("resources") {
		if st, err := os.Stat(filepath.Join(ov.dir, r)); err == nil && !st.IsDir() {
			d, err := decodeDocs(mustRead(t, filepath.Join(ov.dir, r)))
			if err != nil {
				t.Fatal(err)
			}
			extra = append(extra, d...)
		}
	}
	report(t, checkK8sWorkloads(cliM(), append(docs, extra...), cms, repo))
}

// TestKubernetesFilesReferenced: every file under k8s/ is a kustomization or
// named by one, and everything named exists, so nothing checked here is
// left out of what kubectl applies.
func TestKubernetesFilesReferenced(t *testing.T) {
	named := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		k, err := loadKustomization(dir)
		if err != nil {
			t.Fatal(err)
		}
		named[filepath.Join(dir, "kustomization.yaml")] = true
		files, dirs := k.files()
		for _, f := range files {
			if !fileExists(f) {
				t.Errorf("%s/kustomization.yaml names %s, which does not exist", dir, f)
			}
			named[filepath.Clean(f)] = true
		}
		for _, d := range dirs {
			if !strings.HasPrefix(filepath.Clean(d), "k8s/") {
				t.Errorf("%s names %s, outside deploy/k8s", dir, d)
				continue
			}
			walk(filepath.Clean(d))
		}
	}
	walk("k8s/overlays/example")
	err := filepath.WalkDir("k8s", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !named[p] {
			t.Errorf("%s is named by no kustomization", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKustomizeRender renders base and overlay with kubectl's kustomize,
// when there is one, and checks the rendered manifests: what kubectl apply
// would send, hashed ConfigMap names and all.
func TestKustomizeRender(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH: rendering with kustomize skipped (the other tests read the files directly)")
	}
	repo := contrailRepo(t, loadComposeFile(t))
	for _, dir := range []string{"k8s/base", "k8s/overlays/example"} {
		t.Run(dir, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, kubectl, "kustomize", dir).CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
			}
			docs, err := decodeDocs(out)
			if err != nil {
				t.Fatal(err)
			}
			cms := map[string]map[string]string{}
			for _, d := range docs {
				if getStr(d, "kind") == "ConfigMap" {
					data := map[string]string{}
					for k, v := range getMap(d, "data") {
						data[k] = fmt.Sprint(v)
					}
					cms[getStr(d, "metadata", "name")] = data
				}
			}
			report(t, checkK8sWorkloads(cliM(), docs, cms, repo))
		})
	}
}

func TestProbePathsServed(t *testing.T) {
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code := servedStatus(p); code != 200 {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
	if code := servedStatus("/health"); code != 404 {
		t.Errorf("GET /health: %d, want 404 (the check must be able to fail)", code)
	}
}

// TestPrometheusScrapeConfigForKubernetes: the example scrape config keeps
// and names pods by annotations and labels that every Deployment's pods have.
func TestPrometheusScrapeConfigForKubernetes(t *testing.T) {
	var pc promConfig
	if err := readYAMLFile("prometheus/kubernetes-scrape.yml", &pc); err != nil {
		t.Fatal(err)
	}
	_, docs, _ := baseK8s(t)
	sanitize := regexp.MustCompile(`[^a-zA-Z0-9_]`)
	deployments := 0
	for _, d := range docs {
		if getStr(d, "kind") != "Deployment" {
			continue
		}
		deployments++
		pod := getMap(d, "spec", "template", "metadata")
		have := map[string]string{}
		for k, v := range getMap(pod, "annotations") {
			have["__meta_kubernetes_pod_annotation_"+sanitize.ReplaceAllString(k, "_")] = fmt.Sprint(v)
		}
		for k, v := range getMap(pod, "labels") {
			have["__meta_kubernetes_pod_label_"+sanitize.ReplaceAllString(k, "_")] = fmt.Sprint(v)
		}
		for _, sc := range pc.ScrapeConfigs {
			for _, rc := range sc.RelabelConfigs {
				for _, sl := range rc.SourceLabels {
					if !strings.HasPrefix(sl, "__meta_kubernetes_pod_annotation_") && !strings.HasPrefix(sl, "__meta_kubernetes_pod_label_") {
						continue
					}
					v, ok := have[sl]
					if !ok {
						t.Errorf("%s: scrape config reads %s, which its pods do not have", kindName(d), sl)
						continue
					}
					if rc.Action == "keep" && !regexp.MustCompile("^(?:"+rc.Regex+")$").MatchString(v) {
						t.Errorf("%s: scrape config keeps %s=~%q, but the pods have %q", kindName(d), sl, rc.Regex, v)
					}
				}
				if rc.TargetLabel == "job" && !strings.HasPrefix(rc.Replacement, "contrail-") {
					t.Errorf("scrape config names jobs %q; alerts and dashboard want contrail-<stage>", rc.Replacement)
				}
			}
		}
	}
	if deployments == 0 {
		t.Fatal("no Deployments in the base")
	}
}

func TestPrometheusAlertRules(t *testing.T) {
	cat := metrics(t)
	var rf struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(mustRead(t, "prometheus/alerts.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			where := "alerts.yml " + g.Name + "/" + r.Alert
			if r.Alert == "" {
				t.Errorf("%s: a rule without a name (recording rules are not expected here)", where)
			}
			if seen[r.Alert] {
				t.Errorf("%s: alert defined twice", where)
			}
			seen[r.Alert] = true
			report(t, checkPromQL(cat, where, r.Expr))
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary or description annotation missing", where)
			}
		}
	}
	for _, want := range []string{"ContrailTargetDown", "ContrailIngestRejectSpike", "ContrailSinkFailing", "ContrailSinkInsertErrors", "ContrailNoIngestTraffic",
		"ContrailProcessorFallingBehind", "ContrailProcessorTransactionsAborting", "ContrailInvariantViolationSpike"} {
		if !seen[want] {
			t.Errorf("alerts.yml lacks %s", want)
		}
	}
	if n == 0 {
		t.Fatal("alerts.yml has no rules")
	}
}

// The metrics the operations issue asks alerts and panels for that the code
// does not export yet; they are listed as pending in alerts.yml and on the
// dashboard. When one appears, this test fails: write the alert or panel.
var pendingMetrics = []string{"contrail_consumer_lag_records"}

func TestPendingMetricsStillPending(t *testing.T) {
	cat := metrics(t)
	for _, p := range pendingMetrics {
		if names := cat.names(p); len(names) > 0 {
			t.Errorf("%s is exported now (%v): add its alert to prometheus/alerts.yml and its panel to the dashboard, and drop it from pendingMetrics", p, names)
		}
	}
	for _, want := range []string{"contrail_ingest_records_total", "contrail_sink_inserts_total", "contrail_sink_insert_seconds", "contrail_kafka_sink_fetch_records_total", "go_goroutines",
		"contrail_processor_transactions_total", "contrail_kafka_process_track_fetch_records_total", "contrail_kafka_process_flight_fetch_records_total"} {
		if _, ok := cat[want]; !ok {
			t.Errorf("the metric catalog lacks %s: is it still built from the code?", want)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	cat := metrics(t)
	files, _ := filepath.Glob("grafana/dashboards/*.json")
	if len(files) == 0 {
		t.Fatal("no dashboards")
	}
	var ds struct {
		Datasources []dsRef `yaml:"datasources"`
	}
	if err := readYAMLFile("grafana/provisioning/datasources/prometheus.yaml", &ds); err != nil {
		t.Fatal(err)
	}
	provisioned := map[string]bool{}
	for _, d := range ds.Datasources {
		provisioned[d.UID] = d.Type == "prometheus"
	}
	for _, f := range files {
		var d struct {
			UID        string            `json:"uid"`
			Title      string            `json:"title"`
			Panels     []json.RawMessage `json:"panels"`
			Templating struct {
				List []struct {
					Name, Type string
					Query      any `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(mustRead(t, f), &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid and title are required for provisioning", f)
		}
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
			if v.Type == "datasource" && v.Query != "prometheus" {
				t.Errorf("%s: datasource variable %s queries %v, want prometheus", f, v.Name, v.Query)
			}
			if v.Type == "query" {
				q, _ := v.Query.(map[string]any)
				s, _ := q["query"].(string)
				if g := regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`).FindStringSubmatch(s); g == nil {
					t.Errorf("%s: variable %s query %q is not label_values(metric, label)", f, v.Name, s)
				} else if labels, ok := cat.lookup(g[1]); !ok || !labels[g[2]] {
					t.Errorf("%s: variable %s: metric %s with label %s is exported by no stage", f, v.Name, g[1], g[2])
				}
			}
		}
		ids := map[float64]bool{}
		used := map[string]bool{}
		var panels func(raw []json.RawMessage)
		exprs := 0
		panels = func(raw []json.RawMessage) {
			for _, r := range raw {
				var p struct {
					ID         float64 `json:"id"`
					Type       string  `json:"type"`
					Title      string  `json:"title"`
					GridPos    *struct{ H, W, X, Y float64 }
					Datasource *dsRef
					Panels     []json.RawMessage `json:"panels"`
					Targets    []struct {
						Expr       string `json:"expr"`
						Datasource *dsRef
					} `json:"targets"`
				}
				if err := json.Unmarshal(r, &p); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				where := fmt.Sprintf("%s panel %q", f, p.Title)
				if ids[p.ID] || p.ID == 0 {
					t.Errorf("%s: id %v missing or not unique", where, p.ID)
				}
				ids[p.ID] = true
				if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
					t.Errorf("%s: bad gridPos", where)
				}
				checkDatasource(t, where, p.Datasource, vars, provisioned)
				for _, tg := range p.Targets {
					checkDatasource(t, where, tg.Datasource, vars, provisioned)
					exprs++
					report(t, checkPromQL(cat, where, tg.Expr))
					if sels, _, err := scanPromQL(tg.Expr); err == nil {
						for _, sel := range sels {
							used[sel.metric] = true
						}
					}
				}
				if len(p.Targets) == 0 && p.Type != "row" && p.Type != "text" {
					t.Errorf("%s: no queries", where)
				}
				panels(p.Panels)
			}
		}
		panels(d.Panels)
		if exprs == 0 {
			t.Errorf("%s: no queries at all", f)
		}
		// Throughput per stage, rejects per feed, insert latency and errors,
		// undecodable records, the Kafka clients; per processor step the
		// throughput, outcomes by feed, lateness, commit latency, restore
		// time and state keys.
		for _, want := range []string{"contrail_ingest_records_total", "contrail_sink_rows_total", "contrail_sink_inserts_total",
			"contrail_sink_insert_seconds_bucket", "contrail_sink_undecodable_total", "contrail_kafka_sink_fetch_records_total",
			"contrail_kafka_ingest_produce_records_total",
			"contrail_processor_records_in_total", "contrail_processor_transactions_total", "contrail_processor_outcomes_total",
			"contrail_processor_lateness_seconds_bucket", "contrail_processor_commit_seconds_bucket",
			"contrail_processor_restore_seconds_bucket", "contrail_processor_state_keys",
			"contrail_kafka_process_track_fetch_records_total", "contrail_kafka_process_flight_fetch_records_total"} {
			if !used[want] {
				t.Errorf("%s: no panel shows %s", f, want)
			}
		}
	}
}

// dsRef is a Grafana datasource reference.
type dsRef struct {
	Type string `json:"type" yaml:"type"`
	UID  string `json:"uid" yaml:"uid"`
}

// checkDatasource wants a panel's datasource to be the dashboard's
// datasource variable or a provisioned Prometheus.
func checkDatasource(t *testing.T, where string, ds *dsRef, vars map[string]string, provisioned map[string]bool) {
	t.Helper()
	if ds == nil {
		return
	}
	if name, ok := strings.CutPrefix(ds.UID, "$"); ok {
		name = strings.Trim(name, "{}")
		if vars[name] != "datasource" {
			t.Errorf("%s: datasource %s is no datasource variable", where, ds.UID)
		}
		return
	}
	if !provisioned[ds.UID] {
		t.Errorf("%s: datasource uid %q is no provisioned Prometheus", where, ds.UID)
	}
}
