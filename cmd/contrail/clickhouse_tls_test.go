package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTLSFiles writes a CA and a server certificate for 127.0.0.1 signed by
// it, as PEM files under dir: ca.pem, server.pem, server.key.
func writeTLSFiles(t *testing.T, dir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "contrail test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: srvDER},
		"server.key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIntegrationClickHouseTLS starts a private ClickHouse with a TLS native
// port (certificate from a test CA) and checks that the CLI connects over
// TLS when given the CA, and fails with a clear error when it is not.
func TestIntegrationClickHouseTLS(t *testing.T) {
	dir := t.TempDir()
	writeTLSFiles(t, dir)
	tlsPort := freePort(t)
	startPrivateClickHouseEnv(t, fmt.Sprintf("CLICKHOUSE_TLS_PORT=%d", tlsPort),
		"CLICKHOUSE_TLS_CERT="+filepath.Join(dir, "server.pem"), "CLICKHOUSE_TLS_KEY="+filepath.Join(dir, "server.key"))
	bin := buildBinary(t)
	addr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	out, err := run("migrate", "--clickhouse", addr, "--clickhouse-database", "tlstest",
		"--clickhouse-tls", "--clickhouse-ca-file", filepath.Join(dir, "ca.pem"), "--connect-timeout", "20s")
	if err != nil || !strings.Contains(out, "migrated from version 0") {
		t.Fatalf("migrate over TLS with the CA: %v\n%s", err, out)
	}
	// Without the test CA the server's certificate is not trusted.
	out, err = run("migrate", "--clickhouse", addr, "--clickhouse-database", "tlstest", "--clickhouse-tls", "--connect-timeout", "5s")
	if err == nil || !strings.Contains(out, "certificate") {
		t.Fatalf("migrate over TLS without the CA: err %v, want a certificate error\n%s", err, out)
	}
	// Plain TCP to the TLS port is not ClickHouse's protocol: a clear error, not a hang.
	out, err = run("migrate", "--clickhouse", addr, "--clickhouse-database", "tlstest", "--connect-timeout", "5s")
	if err == nil {
		t.Fatalf("plain connection to the TLS port succeeded:\n%s", out)
	}
}
