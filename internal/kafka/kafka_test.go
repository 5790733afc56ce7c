package kafka_test

import (
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/tlsfiles"
)

func TestConfigValidate(t *testing.T) {
	const secret = "s3cret-value"
	b := []string{"127.0.0.1:9092"}
	tests := []struct {
		name string
		cfg  kafka.Config
		want string // "" means valid
	}{
		{"plaintext", kafka.Config{Brokers: b}, ""},
		{"no brokers", kafka.Config{}, "--brokers"},
		{"TLS system roots", kafka.Config{Brokers: b, TLS: &tlsfiles.Files{}}, ""},
		{"TLS cert without key", kafka.Config{Brokers: b, TLS: &tlsfiles.Files{CertFile: "c.pem"}}, "--kafka-key-file"},
		{"SCRAM-SHA-512", kafka.Config{Brokers: b, SASL: kafka.SASL{Mechanism: "SCRAM-SHA-512", User: "u", Password: secret}}, ""},
		{"PLAIN", kafka.Config{Brokers: b, SASL: kafka.SASL{Mechanism: "PLAIN", User: "u", Password: secret}}, ""},
		{"unknown mechanism", kafka.Config{Brokers: b, SASL: kafka.SASL{Mechanism: "OAUTHBEARER", User: "u", Password: secret}}, "unknown Kafka SASL mechanism"},
		{"no user", kafka.Config{Brokers: b, SASL: kafka.SASL{Mechanism: "PLAIN", Password: secret}}, "--kafka-sasl-user"},
		{"no password", kafka.Config{Brokers: b, SASL: kafka.SASL{Mechanism: "PLAIN", User: "u"}}, "CONTRAIL_KAFKA_SASL_PASSWORD"},
		{"no mechanism", kafka.Config{Brokers: b, SASL: kafka.SASL{User: "u", Password: secret}}, "--kafka-sasl-mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), secret):
				t.Fatalf("Validate() = %v: contains the password", err)
			}
		})
	}
}
