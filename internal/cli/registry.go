package cli

import (
	"flag"
	"fmt"
	"net/url"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-atm/contrail/schemas"
)

// registrySettings name the optional schema registry. Without one, values
// are Avro single-object encoded (fingerprint of the writer schema); with
// one, they use the Confluent wire format (schema id) and readers can fetch
// writer versions they do not embed.
type registrySettings struct{ url string }

func (r *registrySettings) add(fs *flag.FlagSet) {
	fs.Var(urlValue{&r.url}, "schema-registry",
		"Confluent-compatible schema registry URL; values then use the Confluent wire format (default: Avro single-object encoding, no registry)")
}

// codec builds the value codec: with a registry, records are written in the
// Confluent wire format and either framing is read.
func (r registrySettings) codec(reg *schemas.Registry) (*schemas.Codec, error) {
	if r.url == "" {
		return schemas.NewCodec(reg)
	}
	cl, err := sr.NewClient(sr.URLs(r.url))
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("--schema-registry %s: %w", r.url, err)}
	}
	return schemas.NewCodec(reg, schemas.WithSchemaRegistry(cl))
}

type urlValue struct{ s *string }

func (v urlValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v urlValue) Set(s string) error {
	if s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an http:// or https:// URL such as http://registry:8081")
		}
	}
	*v.s = s
	return nil
}
