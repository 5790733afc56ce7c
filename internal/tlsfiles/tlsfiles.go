// Package tlsfiles turns the TLS settings operators give as file paths (a CA
// bundle, an optional client certificate and key) into a *tls.Config for the
// Kafka client and the ClickHouse driver.
//
//	cfg, err := tlsfiles.Files{CAFile: "/etc/contrail/ca.pem"}.Load()
//	// kgo.DialTLSConfig(cfg), clickhouse.Options{TLS: cfg}
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Files names the PEM files of one TLS client. The zero value verifies the
// server against the system's roots and presents no client certificate.
type Files struct {
	// CAFile is a PEM bundle of the CAs that sign the server certificates.
	// Default "": the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate (chain) and its
	// unencrypted private key, for servers that authenticate clients by
	// certificate. Both or neither. Default "": no client certificate.
	CertFile, KeyFile string
	// ServerName overrides the host name checked against the server's
	// certificate. Default "": the host of the address dialled.
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For development
	// only: it makes TLS useless against an active attacker. Default false.
	InsecureSkipVerify bool
}

// ErrCertWithoutKey is returned by Validate when only one of the client
// certificate and key is given.
var ErrCertWithoutKey = errors.New("a client certificate needs both the certificate file and the key file")

// Validate rejects contradictions without touching the files.
func (f Files) Validate() error {
	if (f.CertFile == "") != (f.KeyFile == "") {
		return ErrCertWithoutKey
	}
	return nil
}

// Load reads the files and builds the client configuration (TLS 1.2 or
// later). Errors name the file that could not be used.
func (f Files) Load() (*tls.Config, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         f.ServerName,
		InsecureSkipVerify: f.InsecureSkipVerify, //nolint:gosec // opt-in, documented as development only
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s with key %s: %w", f.CertFile, f.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
