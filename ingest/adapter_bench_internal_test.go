package ingest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// BenchmarkBuildSBS is the adapter's per-record CPU cost without Kafka:
// parse, event id, envelope and Avro encode of one SBS line.
func BenchmarkBuildSBS(b *testing.B) {
	feed, err := LookupFeed("sbs", FeedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	a := &Adapter{Feed: feed, Topics: topics.Names{}, Schemas: schemas.MustRegistry(), Instance: "bench", Log: slog.New(slog.DiscardHandler)}
	rec := Record{
		Raw:      []byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0"),
		Origin:   "file:/data/x.sbs:2",
		Identity: "file:x.sbs:2",
		Received: time.Now(),
	}
	b.SetBytes(int64(len(rec.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, res, err := a.build(b.Context(), rec); err != nil || res.Rejected {
			b.Fatal(err, res)
		}
	}
}
