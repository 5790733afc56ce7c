package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckerRejectsBadManifests feeds the checks manifest snippets with the
// mistakes they exist to catch, starting with a renamed flag, and one
// snippet without mistakes.
func TestCheckerRejectsBadManifests(t *testing.T) {
	const composeHead = `
services:
  kafka:
    image: apache/kafka:4.4.0
    healthcheck: {test: ["CMD", "true"]}
  clickhouse:
    image: clickhouse/clickhouse-server:26.3
    healthcheck: {test: ["CMD", "true"]}
  topics:
    image: ghcr.io/contrail-atm/contrail:dev
    read_only: true
    restart: "no"
    command: ["topics"]
    environment: {CONTRAIL_BROKERS: "kafka:9092"}
    depends_on: {kafka: {condition: service_healthy}}
  migrate:
    image: ghcr.io/contrail-atm/contrail:dev
    read_only: true
    restart: "no"
    command: ["migrate"]
    environment: {CONTRAIL_CLICKHOUSE: "clickhouse:9000"}
    depends_on: {clickhouse: {condition: service_healthy}}
`
	const after = `    depends_on:
      topics: {condition: service_completed_successfully}
      migrate: {condition: service_completed_successfully}
`
	sink := func(command, env string) string {
		return composeHead + `  sink:
    image: ghcr.io/contrail-atm/contrail:dev
    read_only: true
    restart: unless-stopped
    command: ` + command + `
    environment:
      CONTRAIL_BROKERS: kafka:9092
      CONTRAIL_CLICKHOUSE: clickhouse:9000
      CONTRAIL_LISTEN: 0.0.0.0:9464
` + env + after
	}

	const podHead = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: contrail-sink}
spec:
  selector: {matchLabels: {app: sink}}
  template:
    metadata:
      labels: {app: sink, app.kubernetes.io/part-of: contrail, app.kubernetes.io/component: sink}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9464"}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      volumes: [{name: config, configMap: {name: contrail-config}}]
      containers:
        - name: sink
          image: ghcr.io/contrail-atm/contrail:v1
          securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}
          ports: [{name: metrics, containerPort: 9464}]
          livenessProbe: {httpGet: {path: /healthz, port: metrics}}
          readinessProbe: {httpGet: {path: /readyz, port: metrics}}
          volumeMounts: [{name: config, mountPath: /etc/contrail}]
`
	const podTail = `---
apiVersion: v1
kind: Service
metadata: {name: contrail-sink}
spec: {selector: {app: sink}, ports: [{name: metrics, port: 9464, targetPort: metrics}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: contrail-sink}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: sink}}}
`
	pod := func(args, env string) string {
		return podHead + "          args: " + args + "\n          env:\n" + env + podTail
	}
	const goodEnv = `            - {name: CONTRAIL_CONFIG, value: /etc/contrail/sink.yaml}
            - {name: CONTRAIL_LISTEN, value: "0.0.0.0:9464"}
            - {name: CONTRAIL_CLICKHOUSE_PASSWORD, valueFrom: {secretKeyRef: {name: ch, key: password}}}
`
	goodConfig := map[string]string{"sink.yaml": "brokers: [kafka:9092]\nclickhouse: clickhouse:9000\nflush-interval: 2s\n"}

	tests := []struct {
		name    string
		compose string            // a compose file, or
		k8s     string            // Kubernetes documents with
		config  map[string]string // the contrail-config ConfigMap
		want    []string          // substrings of the problems; none: no problem
	}{
		{name: "compose ok", compose: sink(`["sink", "--batch-rows", "5000"]`, "")},
		{name: "compose renamed flag", compose: sink(`["sink", "--sink-groups", "g"]`, ""), want: []string{"has no flag --sink-groups", "did you mean --sink-group"}},
		{name: "compose flag of another command", compose: sink(`["topics", "--clickhouse", "x:9000"]`, ""), want: []string{"contrail topics has no flag --clickhouse"}},
		{name: "compose unknown variable", compose: sink(`["sink"]`, "      CONTRAIL_FLUSH_INTERVALL: 2s\n"), want: []string{"CONTRAIL_FLUSH_INTERVALL is no setting of contrail sink"}},
		{name: "compose bad value", compose: sink(`["sink"]`, "      CONTRAIL_FLUSH_INTERVAL: soon\n"), want: []string{"rejects the settings", "flush-interval"}},
		{name: "compose password as flag", compose: sink(`["sink", "--clickhouse-password", "x"]`, ""), want: []string{"has no flag --clickhouse-password"}},
		{name: "compose literal password", compose: sink(`["sink"]`, "      CONTRAIL_CLICKHOUSE_PASSWORD: hunter2\n"), want: []string{"CONTRAIL_CLICKHOUSE_PASSWORD is a literal"}},
		{name: "compose loopback listen", compose: strings.Replace(sink(`["sink"]`, ""), "CONTRAIL_LISTEN: 0.0.0.0:9464", "CONTRAIL_LOG_LEVEL: debug", 1), want: []string{`--listen is "127.0.0.1:9464"`}},
		{name: "compose unknown subcommand", compose: sink(`["sinks"]`, ""), want: []string{`unknown contrail command "sinks"`}},
		{name: "compose unknown transport", compose: sink(`["ingest", "udp", "--feed", "sbs"]`, ""), want: []string{`unknown subcommand "udp"`}},
		{name: "compose flag after path", compose: sink(`["ingest", "file", "/data/x.sbs", "--feed", "sbs"]`, ""), want: []string{`"--feed" comes after the positional argument`}},
		{name: "compose missing required", compose: sink(`["ingest", "listen", "--feed", "sbs"]`, ""), want: []string{"needs --tcp-addr"}},
		{name: "compose unknown broker host", compose: strings.Replace(sink(`["sink"]`, ""), "CONTRAIL_BROKERS: kafka:9092\n      CONTRAIL_CLICKHOUSE", "CONTRAIL_BROKERS: broker:9092\n      CONTRAIL_CLICKHOUSE", 1), want: []string{`--brokers names host "broker"`}},
		{name: "compose stage before setup", compose: strings.Replace(sink(`["sink"]`, ""), after, "", 1), want: []string{"does not depend on `contrail topics`", "does not depend on `contrail migrate`"}},

		{name: "k8s ok", k8s: pod(`["sink"]`, goodEnv), config: goodConfig},
		{name: "k8s renamed flag", k8s: pod(`["sink", "--flush-intervall=1s"]`, goodEnv), config: goodConfig, want: []string{"has no flag --flush-intervall"}},
		{name: "k8s renamed variable", k8s: pod(`["sink"]`, goodEnv+"            - {name: CONTRAIL_BATCHROWS, value: \"10\"}\n"), config: goodConfig, want: []string{"CONTRAIL_BATCHROWS is no setting"}},
		{name: "k8s unknown settings key", k8s: pod(`["sink"]`, goodEnv), config: map[string]string{"sink.yaml": "brokers: kafka:9092\npartitions: 6\n"}, want: []string{`key "partitions" is no setting of contrail sink`}},
		{name: "k8s settings file not mounted", k8s: pod(`["sink"]`, strings.Replace(goodEnv, "/etc/contrail/sink.yaml", "/config/sink.yaml", 1)), config: goodConfig, want: []string{"settings file /config/sink.yaml is not mounted"}},
		{name: "k8s password literal", k8s: pod(`["sink"]`, strings.Replace(goodEnv, "valueFrom: {secretKeyRef: {name: ch, key: password}}", "value: hunter2", 1)), config: goodConfig, want: []string{"must come from a Secret"}},
		{name: "k8s Kafka password from a Secret", k8s: pod(`["sink"]`, goodEnv+"            - {name: CONTRAIL_KAFKA_SASL_PASSWORD, valueFrom: {secretKeyRef: {name: k, key: password, optional: true}}}\n"), config: goodConfig},
		{name: "k8s Kafka password literal", k8s: pod(`["sink"]`, goodEnv+"            - {name: CONTRAIL_KAFKA_SASL_PASSWORD, value: hunter2}\n"), config: goodConfig, want: []string{"CONTRAIL_KAFKA_SASL_PASSWORD must come from a Secret"}},
		{name: "k8s HTTP token to a command without HTTP", k8s: pod(`["sink"]`, goodEnv+"            - {name: CONTRAIL_HTTP_TOKEN, valueFrom: {secretKeyRef: {name: t, key: token}}}\n"), config: goodConfig, want: []string{"CONTRAIL_HTTP_TOKEN is no setting of contrail sink (it has no --http-token-file)"}},
		{name: "k8s probe path", k8s: strings.Replace(pod(`["sink"]`, goodEnv), "path: /readyz", "path: /ready", 1), config: goodConfig, want: []string{`readinessProbe path "/ready"`}},
		{name: "k8s port mismatch", k8s: pod(`["sink"]`, strings.Replace(goodEnv, "0.0.0.0:9464", "0.0.0.0:9100", 1)), config: goodConfig, want: []string{"no named containerPort 9100", "livenessProbe port"}},
		{name: "k8s one-shot as Deployment", k8s: pod(`["migrate"]`, "            - {name: CONTRAIL_CLICKHOUSE, value: \"ch:9000\"}\n"), want: []string{"contrail migrate is a one-shot"}},
		{name: "k8s writable root", k8s: strings.Replace(pod(`["sink"]`, goodEnv), "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", 1), config: goodConfig, want: []string{"readOnlyRootFilesystem is not true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var problems []string
			switch {
			case tc.compose != "":
				cf, err := parseCompose([]byte(tc.compose), t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				_, problems = checkComposeServices(cliM(), cf)
			default:
				docs, err := decodeDocs([]byte(tc.k8s))
				if err != nil {
					t.Fatal(err)
				}
				problems = checkK8sWorkloads(cliM(), docs, map[string]map[string]string{"contrail-config": tc.config}, "ghcr.io/contrail-atm/contrail")
			}
			all := strings.Join(problems, "\n")
			if len(tc.want) == 0 && len(problems) > 0 {
				t.Errorf("want no problem, got:\n%s", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("want a problem containing %q, got:\n%s", w, all)
				}
			}
		})
	}
}

func TestPromQLScanner(t *testing.T) {
	cat := metricCatalog{"m_total": {"feed": true, "job": true}, "h_seconds": {"table": true}}
	tests := []struct {
		expr string
		want string // substring of a problem; "" for none
	}{
		{`sum by (feed) (rate(m_total{feed=~"$feed"}[$__rate_interval]))`, ""},
		{`histogram_quantile(0.99, sum by (le) (rate(h_seconds_bucket[5m]))) > 5`, ""},
		{`(sum(rate(m_total[10m])) > 0) unless (sum(rate(m_total{job="x"}[10m])) > 0) or vector(0)`, ""},
		{`rate(m_totl[5m])`, "metric m_totl is exported by no stage"},
		{`rate(m_total{outcome="x"}[5m])`, "has no label outcome"},
		{`rat(m_total[5m])`, "unknown function rat"},
		{`sum(rate(m_total[5m])`, "unbalanced"},
		{`m_total{feed="x}`, "unterminated"},
		{``, "empty expression"},
	}
	for _, tc := range tests {
		got := strings.Join(checkPromQL(cat, "q", tc.expr), "\n")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%q: problems %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestComposeInterpolation(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"${A:-x}:${B-y}", "x:y", ""},
		{"$${A} ${A:-${B:-z}}", "${A} z", ""},
		{"${A}", "", "has no default"},
		{"${A:?need A}", "", "required"},
	}
	for _, tc := range tests {
		got, err := interpolate(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("interpolate(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestPromtool lints the rules and configurations with Prometheus' promtool
// when there is one (Debian's package "prometheus" has it).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH: rule and config linting skipped (TestPrometheusAlertRules still checks them)")
	}
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("check", "rules", "prometheus/alerts.yml")
	run("check", "config", "--syntax-only", "prometheus/prometheus.yml")
}

// TestComposeConfig validates compose.yaml with docker compose (v2, no
// engine needed for `config`), or with the older docker-compose 1.29 when
// that is all there is; it does not know the top-level name, so that line
// is left out for it.
func TestComposeConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if docker, err := exec.LookPath("docker"); err == nil {
		if exec.CommandContext(ctx, docker, "compose", "version").Run() == nil {
			out, err := exec.CommandContext(ctx, docker, "compose", "-f", "compose.yaml", "config", "--quiet").CombinedOutput()
			if err != nil {
				t.Fatalf("docker compose config: %v\n%s", err, out)
			}
			return
		}
	}
	dc, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("neither docker compose nor docker-compose on PATH: schema validation skipped")
	}
	var kept []string
	for _, l := range strings.Split(string(mustRead(t, "compose.yaml")), "\n") {
		if !strings.HasPrefix(l, "name:") {
			kept = append(kept, l)
		}
	}
	p := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(p, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, dc, "-f", p, "config", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}
