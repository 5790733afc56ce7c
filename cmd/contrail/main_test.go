package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// buildBinary compiles contrail once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contrail")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestIntegrationSIGTERM starts `contrail run` as a real process, waits until
// /readyz says ready, sends SIGTERM and expects a clean exit (status 0) within
// the 10 s an orchestrator's grace period allows.
func TestIntegrationSIGTERM(t *testing.T) {
	ch := infratest.ClickHouse(t)
	bin := buildBinary(t)
	cases := map[string][]string{
		"embedded broker": {"--data-dir", t.TempDir()},
	}
	if infratest.Required() || os.Getenv("CONTRAIL_TEST_KAFKA") != "" {
		cases["real broker"] = []string{"--brokers", strings.Join(infratest.Kafka(t), ",")}
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			db := infratest.Name(t, "it")
			t.Cleanup(func() { dropDatabase(ch, db) })
			input := filepath.Join(t.TempDir(), "in.sbs")
			if err := os.WriteFile(input, []byte(strings.Join(infratest.SBSLines(1000), "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"run", "--clickhouse", ch, "--clickhouse-database", db, "--topic-prefix", db,
				"--sink-group", db, "--listen", "127.0.0.1:0", "--log-format", "json", "--input", "sbs:" + input}, extra...)
			cmd := exec.Command(bin, args...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			var logs bytes.Buffer
			addr := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					logs.Write(append(sc.Bytes(), '\n'))
					var line struct{ Msg, Addr string }
					if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(line.Msg, "serving /metrics") {
						addr <- line.Addr
					}
				}
				close(addr)
			}()
			base, ok := <-addr
			if !ok {
				t.Fatalf("contrail exited before serving /readyz:\n%s", logs.String())
			}
			waitReady(t, base+"/readyz")
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("exit status %d after SIGTERM; logs:\n%s", ee.ExitCode(), logs.String())
				} else if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after SIGTERM; logs:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), `"msg":"stopped"`) {
				t.Errorf("no 'stopped' log line:\n%s", logs.String())
			}
		})
	}
}

// waitReady polls url until it answers 200; the process signals readiness
// only after Kafka and ClickHouse are connected and migrated.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60 s (last: %v)", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dropDatabase drops a test's database, best effort: no test leaves one
// behind on the server.
func dropDatabase(addr, db string) {
	ctx := context.Background()
	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
}
