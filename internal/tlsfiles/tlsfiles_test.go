package tlsfiles_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/tlsfiles"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	notPEM := filepath.Join(dir, "junk")
	if err := os.WriteFile(notPEM, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files tlsfiles.Files
		want  string // "" means success
	}{
		{"system roots", tlsfiles.Files{}, ""},
		{"CA file", tlsfiles.Files{CAFile: cert, ServerName: "kafka.internal"}, ""},
		{"client certificate", tlsfiles.Files{CAFile: cert, CertFile: cert, KeyFile: key}, ""},
		{"certificate without key", tlsfiles.Files{CertFile: cert}, "both the certificate file and the key file"},
		{"missing CA file", tlsfiles.Files{CAFile: filepath.Join(dir, "nope.pem")}, "read CA file"},
		{"CA file not PEM", tlsfiles.Files{CAFile: notPEM}, "holds no PEM certificate"},
		{"key not matching", tlsfiles.Files{CertFile: cert, KeyFile: notPEM}, "load client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.files.Load()
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Load() error %v, want one mentioning %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ServerName != tt.files.ServerName || (tt.files.CAFile != "") != (cfg.RootCAs != nil) ||
				(tt.files.CertFile != "") != (len(cfg.Certificates) == 1) {
				t.Errorf("Load() = %+v, does not reflect %+v", cfg, tt.files)
			}
		})
	}
	if err := (tlsfiles.Files{KeyFile: key}).Validate(); !errors.Is(err, tlsfiles.ErrCertWithoutKey) {
		t.Errorf("Validate() = %v, want ErrCertWithoutKey", err)
	}
}
