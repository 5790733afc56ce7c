// Package infratest finds the real Kafka broker and ClickHouse server that
// integration tests run against (deploy/local/kafka and deploy/local/clickhouse
// start them; `make test` exports their addresses).
//
// Environment:
//
//	CONTRAIL_TEST_KAFKA       Kafka seed brokers, host:port[,host:port]
//	CONTRAIL_TEST_CLICKHOUSE  ClickHouse native address, host:port
//	CONTRAIL_TEST_KAFKA_SASL_SSL and friends: see SASLSSL
//	CONTRAIL_CLICKHOUSE_MODERN a ClickHouse 21+ server's native address, for
//	                          the modern DDL (optional: see ClickHouseModern)
//	CONTRAIL_REQUIRE_INFRA=1  fail, instead of skip, when either is missing
//	                          or unreachable (CI sets it)
//
// Without CONTRAIL_REQUIRE_INFRA a missing dependency skips the test with a
// loud message, so `go test ./...` on a laptop still runs the unit tests.
package infratest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Kafka returns the real broker addresses or skips (fails under CI).
func Kafka(t testing.TB) []string {
	t.Helper()
	addrs := split(os.Getenv("CONTRAIL_TEST_KAFKA"))
	need(t, "Kafka", "CONTRAIL_TEST_KAFKA", "deploy/local/kafka start", addrs)
	return addrs
}

// ClickHouse returns the real server's native address or skips (fails under CI).
func ClickHouse(t testing.TB) string {
	t.Helper()
	addrs := split(os.Getenv("CONTRAIL_TEST_CLICKHOUSE"))
	need(t, "ClickHouse", "CONTRAIL_TEST_CLICKHOUSE", "deploy/local/clickhouse start", addrs)
	return addrs[0]
}

// ClickHouseModern returns the native address of a current ClickHouse
// server (21.x or later) from CONTRAIL_CLICKHOUSE_MODERN, or skips. `make
// test` starts one (deploy/local/clickhouse-modern, ClickHouse 26.x from
// PyPI's chdb-core) and sets it, then runs the ClickHouse integration tests a
// second time with CONTRAIL_TEST_CLICKHOUSE pointing at it.
func ClickHouseModern(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("CONTRAIL_CLICKHOUSE_MODERN")
	if addr == "" {
		t.Skip("CONTRAIL_CLICKHOUSE_MODERN is not set: no ClickHouse 21+ server to run the modern DDL against (its text is checked by golden files)")
	}
	return addr
}

// Required reports whether CI demands real infrastructure.
func Required() bool { return os.Getenv("CONTRAIL_REQUIRE_INFRA") == "1" }

func need(t testing.TB, what, env, start string, addrs []string) {
	t.Helper()
	var why string
	if len(addrs) == 0 {
		why = env + " is not set"
	} else if c, err := net.DialTimeout("tcp", addrs[0], 3*time.Second); err != nil {
		why = what + " at " + addrs[0] + " is unreachable: " + err.Error()
	} else {
		c.Close()
		return
	}
	unavailable(t, what, env, start, why)
}

// unavailable skips the test, or fails it under CONTRAIL_REQUIRE_INFRA=1,
// saying why and how to start the dependency.
func unavailable(t testing.TB, what, env, start, why string) {
	t.Helper()
	msg := "\n\n*** INTEGRATION TEST NEEDS REAL " + strings.ToUpper(what) + ": " + why +
		"\n*** start it with `" + start + "` and export " + env + " (or run `make test`)\n"
	if Required() {
		t.Fatal(msg + "*** CONTRAIL_REQUIRE_INFRA=1, so this is a failure, not a skip\n")
	}
	t.Skip(msg)
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Name returns a unique identifier for topics, groups and databases of one
// test, so tests sharing a broker and server never see each other's data.
func Name(t testing.TB, prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// SharedData returns the path of a file under ../shared/data (the third-party
// samples beside the repository), or skips when it is absent.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	if d := os.Getenv("CONTRAIL_SHARED_DATA"); d != "" {
		root = d
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("third-party sample %s is absent (%v); it lives in ../shared/data beside the repository", rel, err)
	}
	return p
}
