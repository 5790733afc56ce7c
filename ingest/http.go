package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HTTPConfig configures an HTTPHandler. Zero values take the defaults.
type HTTPConfig struct {
	// Adapters are the feeds served, by feed name. Required.
	Adapters map[string]*Adapter
	// MaxBody bounds a request body, after gzip decoding when the body is
	// gzip-encoded. Default 8 MiB.
	MaxBody int64
	// MaxInFlight bounds the requests processed at once; more wait for
	// their turn before their body is read, so memory stays below
	// MaxInFlight × MaxBody. Default 8.
	MaxInFlight int
	// AckTimeout bounds how long a request waits for Kafka to take and
	// acknowledge its records. It is not cut short when the client goes
	// away: a batch once read is produced whole. Default 30s.
	AckTimeout time.Duration
	// Token, when set, is required of every request as
	// "Authorization: Bearer <Token>"; others get 401 before anything else
	// is looked at (no feed list, no body read). It is a secret: never
	// logged. Default "": no authentication (bind to a trusted address).
	Token   string
	Log     *slog.Logger // default: discard
	Metrics *Metrics     // may be nil
}

// HTTPHandler ingests batches of records posted over HTTP:
//
//	POST /v1/ingest/{feed}
//
// The body holds records framed by the feed's split function (lines for
// SBS), optionally gzip-encoded (Content-Encoding: gzip). The handler
// answers only once Kafka has acknowledged every record, with a JSON
// HTTPResponse:
//
//	200  every record accepted onto the raw topic
//	422  some records rejected (they are on the rejected topic); each
//	     rejected result has reason_code and reason
//	400  the body could not be read or framed
//	401  a token is configured and the request lacks it
//	404  unknown feed (the response lists the feeds served) or path
//	405  not a POST
//	413  body larger than the limit; nothing was produced
//	415  a Content-Encoding other than gzip or identity
//	503  Kafka did not acknowledge every record; results say which
//	     (retry the batch: with an Idempotency-Key it gets the same event
//	     ids and deduplicates downstream)
//
// Records have origin "http:<peer>/<request>/<index>", where request is the
// Idempotency-Key header when given, else the receipt time and a counter.
// With an Idempotency-Key the identity is "http:<key>/<index>", without the
// peer, so a retried batch produces the same event ids.
type HTTPHandler struct {
	cfg   HTTPConfig
	feeds []string
	sem   chan struct{}
	reqs  atomic.Int64
	now   func() time.Time

	read, accepted, rejected atomic.Int64
}

// Stats sums the records of every batch so far: read counts the records of
// batches that were framed and handed to Kafka, accepted and rejected those
// Kafka acknowledged.
func (h *HTTPHandler) Stats() Stats {
	return Stats{Read: h.read.Load(), Accepted: h.accepted.Load(), Rejected: h.rejected.Load()}
}

// HTTPResult is what became of one record of a batch.
type HTTPResult struct {
	Index      int    `json:"index"`
	Origin     string `json:"origin"`
	Outcome    string `json:"outcome"` // accepted, rejected or failed
	EventID    string `json:"event_id,omitempty"`
	Key        string `json:"key,omitempty"`
	ReasonCode string `json:"reason_code,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Error      string `json:"error,omitempty"` // failed: why Kafka did not take it
}

// HTTPResponse is the body of every answer of HTTPHandler.
type HTTPResponse struct {
	Feed     string       `json:"feed,omitempty"`
	Accepted int64        `json:"accepted"`
	Rejected int64        `json:"rejected"`
	Failed   int64        `json:"failed,omitempty"`
	Error    string       `json:"error,omitempty"`
	Feeds    []string     `json:"feeds,omitempty"` // with 404: the feeds served
	Results  []HTTPResult `json:"results"`
}

// NewHTTPHandler returns a handler for cfg.
func NewHTTPHandler(cfg HTTPConfig) (*HTTPHandler, error) {
	if len(cfg.Adapters) == 0 {
		return nil, errors.New("HTTP ingest: no feeds to serve")
	}
	if cfg.MaxBody < 0 || cfg.MaxInFlight < 0 || cfg.AckTimeout < 0 {
		return nil, errors.New("HTTP ingest: body limit, in-flight limit and ack timeout must not be negative")
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 8 << 20
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 8
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &HTTPHandler{cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight), now: time.Now}
	for f := range cfg.Adapters {
		h.feeds = append(h.feeds, f)
	}
	slices.Sort(h.feeds)
	return h, nil
}

const httpPrefix = "/v1/ingest/"

// authorized compares the bearer token in constant time.
func (h *HTTPHandler) authorized(r *http.Request) bool {
	if h.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) == 1
}

func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="contrail"`)
		h.reply(w, "", http.StatusUnauthorized, HTTPResponse{Error: "missing or wrong bearer token: send Authorization: Bearer <token>"})
		return
	}
	feed, ok := strings.CutPrefix(r.URL.Path, httpPrefix)
	if !ok || feed == "" || strings.Contains(feed, "/") {
		h.reply(w, "", http.StatusNotFound, HTTPResponse{Error: "no such endpoint; POST records to " + httpPrefix + "{feed}", Feeds: h.feeds})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reply(w, feed, http.StatusMethodNotAllowed, HTTPResponse{Feed: feed, Error: "use POST"})
		return
	}
	a, ok := h.cfg.Adapters[feed]
	if !ok {
		h.reply(w, "", http.StatusNotFound, HTTPResponse{Feed: feed, Feeds: h.feeds,
			Error: fmt.Sprintf("unknown feed %q: this endpoint serves %s", feed, strings.Join(h.feeds, ", "))})
		return
	}
	if r.ContentLength > h.cfg.MaxBody {
		h.tooLarge(w, feed)
		return
	}
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	case <-r.Context().Done():
		return
	}
	body, status, err := h.readBody(w, r)
	if err != nil {
		if status == http.StatusRequestEntityTooLarge {
			h.tooLarge(w, feed)
			return
		}
		h.reply(w, feed, status, HTTPResponse{Feed: feed, Error: err.Error()})
		return
	}

	received := h.now()
	n := h.reqs.Add(1)
	reqID, ident := received.UTC().Format(time.RFC3339Nano)+"-"+strconv.FormatInt(n, 10), ""
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		reqID, ident = key, "http:"+key
	}
	origin := "http:" + r.RemoteAddr + "/" + reqID
	var recs []Record
	fr := newFramer(bytes.NewReader(body), a.Feed.SplitFunc(), MaxRecordBytes)
	for {
		f, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.reply(w, feed, http.StatusBadRequest, HTTPResponse{Feed: feed, Error: fmt.Sprintf("frame %s records: %v", feed, err)})
			return
		}
		i := strconv.Itoa(len(recs))
		rec := Record{Raw: f.raw, Oversize: f.oversize, Origin: origin + "/" + i, Received: received}
		if ident != "" {
			rec.Identity = ident + "/" + i
		}
		recs = append(recs, rec)
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.AckTimeout)
	defer cancel()
	st, results, err := a.IngestBatch(ctx, recs)
	h.read.Add(st.Read)
	h.accepted.Add(st.Accepted)
	h.rejected.Add(st.Rejected)
	resp := HTTPResponse{Feed: feed, Accepted: st.Accepted, Rejected: st.Rejected, Results: make([]HTTPResult, len(results))}
	for i, res := range results {
		hr := HTTPResult{Index: i, Origin: res.Origin, EventID: res.EventID, Outcome: "accepted", Key: res.Key}
		switch {
		case res.Err != nil:
			hr.Outcome, hr.Error, hr.Key = "failed", res.Err.Error(), ""
			resp.Failed++
		case res.Rejected:
			hr.Outcome, hr.ReasonCode, hr.Reason = "rejected", res.ReasonCode, res.Reason
		}
		resp.Results[i] = hr
	}
	status = http.StatusOK
	switch {
	case err != nil:
		status, resp.Error = http.StatusServiceUnavailable, "Kafka did not acknowledge every record: "+err.Error()
		h.cfg.Log.Warn("HTTP batch failed", "feed", feed, "peer", r.RemoteAddr, "records", len(recs), "failed", resp.Failed, "err", err)
	case st.Rejected > 0:
		status, resp.Error = http.StatusUnprocessableEntity, fmt.Sprintf("%d of %d records rejected; they are recorded in the rejected topic", st.Rejected, len(recs))
	}
	h.reply(w, feed, status, resp)
}

// readBody reads the whole body, so that an oversized one is refused before
// anything is produced.
func (h *HTTPHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, gzipStatus(err), fmt.Errorf("read gzip body: %v", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported; send gzip or no encoding", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, h.cfg.MaxBody+1))
	if err != nil {
		return nil, gzipStatus(err), fmt.Errorf("read body: %v", err)
	}
	if int64(len(b)) > h.cfg.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, errors.New("too large")
	}
	return b, 0, nil
}

func gzipStatus(err error) int {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func (h *HTTPHandler) tooLarge(w http.ResponseWriter, feed string) {
	// The rest of the body is not read; close the connection rather than
	// drain it.
	w.Header().Set("Connection", "close")
	h.reply(w, feed, http.StatusRequestEntityTooLarge, HTTPResponse{Feed: feed,
		Error: fmt.Sprintf("request body larger than %d bytes (the server's limit); nothing was ingested: split the batch", h.cfg.MaxBody)})
}

func (h *HTTPHandler) reply(w http.ResponseWriter, feed string, status int, resp HTTPResponse) {
	if resp.Results == nil {
		resp.Results = []HTTPResult{}
	}
	if h.cfg.Metrics != nil {
		if _, known := h.cfg.Adapters[feed]; !known {
			feed = "" // the path is the client's: no label per typo
		}
		h.cfg.Metrics.requests.WithLabelValues(feed, strconv.Itoa(status)).Inc()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		h.cfg.Log.Debug("write HTTP ingest response", "err", err)
	}
}
