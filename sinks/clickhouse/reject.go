package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

// permanentCodes are ClickHouse error codes that say the data itself is
// unacceptable: the same rows sent again fail again, however long one waits.
var permanentCodes = []int32{
	6,   // CANNOT_PARSE_TEXT
	27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	41,  // CANNOT_PARSE_DATETIME
	53,  // TYPE_MISMATCH
	69,  // ARGUMENT_OUT_OF_BOUND
	70,  // CANNOT_CONVERT_TYPE
	72,  // CANNOT_PARSE_NUMBER
	131, // TOO_LARGE_STRING_SIZE
	395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (throwIf in a column's DEFAULT/MATERIALIZED expression)
}

// rowError is a row the client library could not put into a batch.
type rowError struct {
	row int
	err error
}

func (e *rowError) Error() string { return fmt.Sprintf("row %d: %v", e.row, e.err) }
func (e *rowError) Unwrap() error { return e.err }

// permanent reports an insert error that retrying cannot fix.
func permanent(err error) bool {
	if _, ok := errors.AsType[*rowError](err); ok {
		return true
	}
	ex, ok := errors.AsType[*ch.Exception](err)
	return ok && slices.Contains(permanentCodes, ex.Code)
}

// isolate inserts rows whose insert failed permanently by halves, down to
// the single rows ClickHouse refuses, and rejects those (reject), so one bad
// row does not hold back the batch or the offsets behind it. A transient
// error on the way is returned and the caller retries the whole chunk (the
// halves already inserted are then inserted again: the tables deduplicate
// them, but the summing materialized view outcomes_hourly counts them twice).
func (w *Writer) isolate(ctx context.Context, t *tableRows, rows [][]any, cause error) error {
	if len(rows) == 1 {
		return w.reject(ctx, t, rows[0], cause)
	}
	half := len(rows) / 2
	for _, part := range [][][]any{rows[:half], rows[half:]} {
		err := w.insert(ctx, t, part)
		switch {
		case err == nil:
		case permanent(err):
			if err := w.isolate(ctx, t, part, err); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// reject sends a row ClickHouse refuses to the rejected topic, with the
// reason, so it is kept (and visible to SQL as a reject) rather than
// dropped. A row that itself came from the rejected topic is not sent back
// there, which could loop; it is logged and counted instead.
func (w *Writer) reject(ctx context.Context, t *tableRows, row []any, cause error) error {
	cols := strings.Split(t.columns, ", ")
	col := func(name string) any {
		if i := slices.Index(cols, name); i >= 0 && i < len(row) {
			return row[i]
		}
		return nil
	}
	str := func(name string) string { s, _ := col(name).(string); return s }
	id := str("event_id")
	if id == "" {
		id = str("id")
	}
	reason := fmt.Sprintf("ClickHouse refused this row of %s.%s permanently: %v", w.conn.Database, t.name, cause)
	if w.metrics != nil {
		w.metrics.refused.WithLabelValues(t.name).Inc()
	}
	if str("topic") == w.rejectedTopic {
		w.log.Error("ClickHouse refused a row that came from the rejected topic; not re-rejected, to avoid a loop", "table", t.name, "id", id, "err", cause)
		return nil
	}
	raw, ok := col("raw").([]byte)
	if !ok {
		if s, isStr := col("raw").(string); isStr {
			raw = []byte(s)
		} else {
			raw = fmt.Appendf(nil, "%v", row)
		}
	}
	x := &schemas.Rejected{ID: "sink/" + t.name + "/" + id, Feed: str("feed"), ReasonCode: "sink.clickhouse_refused",
		Reason: reason, IngestTS: time.Now().UTC(), Adapter: "sink", Origin: fmt.Sprintf("clickhouse:%s.%s", w.conn.Database, t.name), Raw: raw}
	var b []byte
	var err error
	if w.opts.Codec != nil {
		b, err = w.opts.Codec.Encode(ctx, nil, w.rejectedTopic, x)
	} else {
		b, err = w.schemas.Encode(nil, x)
	}
	if err != nil {
		return fmt.Errorf("encode the reject of a refused row: %w", err)
	}
	if err := w.client.ProduceSync(ctx, &kgo.Record{Topic: w.rejectedTopic, Key: []byte(id), Value: b}).FirstErr(); err != nil {
		return fmt.Errorf("produce the reject of a refused row to %s: %w", w.rejectedTopic, err)
	}
	w.log.Warn("ClickHouse refused a row; sent to the rejected topic with the reason", "table", t.name, "id", id, "err", cause)
	return nil
}
