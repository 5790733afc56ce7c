package ingest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
)

// TestHTTPBearerToken checks that with a token every path answers 401 to a
// request without it (no feed list, nothing produced) and that the right
// token gets through.
func TestHTTPBearerToken(t *testing.T) {
	const token = "tok-5e6f7a8b"
	env := fakeKafka(t)
	h, err := ingest.NewHTTPHandler(ingest.HTTPConfig{Adapters: map[string]*ingest.Adapter{"sbs": env.adapter(t, nil)}, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := []byte(strings.Join(infratest.SBSLines(3), "\n"))
	for _, c := range []httpCase{
		{name: "no token", path: "/v1/ingest/sbs", body: body, status: http.StatusUnauthorized},
		{name: "wrong token", path: "/v1/ingest/sbs", body: body, header: map[string]string{"Authorization": "Bearer nope"}, status: http.StatusUnauthorized},
		{name: "basic auth", path: "/v1/ingest/sbs", body: body, header: map[string]string{"Authorization": "Basic " + token}, status: http.StatusUnauthorized},
		{name: "unknown path without token", path: "/v1/other", status: http.StatusUnauthorized},
		{name: "unknown feed without token", path: "/v1/ingest/nope", body: body, status: http.StatusUnauthorized},
		{name: "right token", path: "/v1/ingest/sbs", body: body, header: map[string]string{"Authorization": "Bearer " + token}, status: http.StatusOK, accepted: 3},
	} {
		resp, r := post(t, srv, c)
		if resp.StatusCode != c.status || r.Accepted != c.accepted {
			t.Errorf("%s: status %d, accepted %d; want %d, %d (%+v)", c.name, resp.StatusCode, r.Accepted, c.status, c.accepted, r)
		}
		if c.status == http.StatusUnauthorized {
			if resp.Header.Get("WWW-Authenticate") == "" || len(r.Feeds) != 0 || strings.Contains(r.Error, token) {
				t.Errorf("%s: 401 must ask for a bearer token and reveal nothing: %+v", c.name, r)
			}
		}
	}
	if got := env.consume(t); len(got.envs) != 3 {
		t.Errorf("%d records on Kafka, want the 3 of the authorized batch", len(got.envs))
	}
}
