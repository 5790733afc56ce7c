package schemas_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

func ExampleRegistry_EncodeEnvelope() {
	reg := schemas.MustRegistry()
	line := []byte("MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0")
	b, err := reg.EncodeEnvelope(nil, &schemas.Envelope{
		ID: schemas.EventID("sbs", "file:x.sbs:1", line), Feed: "sbs", Key: "86E488",
		ProducerTS: time.Unix(0, 0), ProducerTSSource: schemas.FromReceipt, Raw: line,
	})
	if err != nil {
		panic(err)
	}
	h, _ := schemas.ParseHeader(b)
	e, err := reg.DecodeEnvelope(b)
	fmt.Println(h.Framing, h.Fingerprint == reg.Latest(schemas.EnvelopeSchema).Fingerprint, e.Key, err)
	// Output: single-object true 86E488 <nil>
}

func ExampleCodec() {
	// Without WithSchemaRegistry a Codec writes single-object encoding; with
	// it, the Confluent wire format and ids from the registry.
	c, err := schemas.NewCodec(schemas.MustRegistry())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	b, err := c.Encode(ctx, nil, "contrail.flights.events", &schemas.DomainEvent{
		EventID: "e1", GUFI: "g1", FlightCancelled: &schemas.FlightCancelled{Reason: "CNL received"},
	})
	if err != nil {
		panic(err)
	}
	var ev schemas.DomainEvent
	err = c.Decode(ctx, b, &ev)
	fmt.Println(c.Framing(), ev.Type, ev.FlightCancelled.Reason, err)
	// Output: single-object FLIGHT_CANCELLED CNL received <nil>
}

func ExampleCompatible() {
	v1, _ := schemas.ParseSchema("thing", 1, `{"type":"record","name":"Thing","fields":[{"name":"a","type":"int"}]}`)
	v2, _ := schemas.ParseSchema("thing", 2, `{"type":"record","name":"Thing","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}`)
	fmt.Println(schemas.Compatible(v2, v1)) // new writer, old reader: b is dropped, but long cannot be read as int
	err := schemas.Compatible(v1, v2)       // old writer, new reader: int promotes to long, b has no default
	fmt.Println(errors.Is(err, schemas.ErrIncompatible), err)
	// Output:
	// writer thing v2 cannot be read as thing v1: Thing.a: writer long cannot be read as int
	// true writer thing v1 cannot be read as thing v2: Thing.b: reader field has no default and the writer has no such field
}
