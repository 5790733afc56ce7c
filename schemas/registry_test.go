package schemas_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeRegistry is the subset of the Confluent Schema Registry REST API that
// franz-go's sr client uses for Contrail: register, look up, fetch by id and
// latest version. It compares schema texts exactly (a real registry
// normalizes them first), which is enough since Contrail always sends the
// same embedded text.
type fakeRegistry struct {
	*httptest.Server
	requests atomic.Int64

	mu       sync.Mutex
	nextID   int
	ids      map[string]int   // schema text -> id
	texts    map[int]string   // id -> schema text
	subjects map[string][]int // subject -> ids by version
}

type srSchema struct {
	Subject    string `json:"subject,omitempty"`
	Version    int    `json:"version,omitempty"`
	ID         int    `json:"id,omitempty"`
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType,omitempty"`
}

func newFakeRegistry(t testing.TB) *fakeRegistry {
	f := &fakeRegistry{nextID: 100, ids: map[string]int{}, texts: map[int]string{}, subjects: map[string][]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeRegistry) register(subject, text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.ids[text]
	if !ok {
		id = f.nextID
		f.nextID++
		f.ids[text], f.texts[id] = id, text
	}
	for _, have := range f.subjects[subject] {
		if have == id {
			return id
		}
	}
	f.subjects[subject] = append(f.subjects[subject], id)
	return id
}

func srError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error_code":%d,"message":%q}`, code, msg)
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_ = json.NewEncoder(w).Encode(v)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var body srSchema
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Schema == "" {
			srError(w, http.StatusUnprocessableEntity, 42201, "Invalid schema")
			return
		}
		if body.SchemaType != "" && body.SchemaType != "AVRO" {
			srError(w, http.StatusUnprocessableEntity, 42201, "only AVRO here")
			return
		}
	}
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		reply(map[string]int{"id": f.register(parts[1], body.Schema)})
	case r.Method == http.MethodPost && len(parts) == 2 && parts[0] == "subjects":
		f.mu.Lock()
		defer f.mu.Unlock()
		vs, ok := f.subjects[parts[1]]
		if !ok {
			srError(w, http.StatusNotFound, 40401, "Subject '"+parts[1]+"' not found.")
			return
		}
		for i, id := range vs {
			if f.texts[id] == body.Schema {
				reply(srSchema{Subject: parts[1], Version: i + 1, ID: id, Schema: body.Schema})
				return
			}
		}
		srError(w, http.StatusNotFound, 40403, "Schema not found")
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, _ := strconv.Atoi(parts[2])
		f.mu.Lock()
		text, ok := f.texts[id]
		f.mu.Unlock()
		if !ok {
			srError(w, http.StatusNotFound, 40403, "Schema "+parts[2]+" not found")
			return
		}
		reply(srSchema{Schema: text})
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "subjects" && parts[2] == "versions" && parts[3] == "latest":
		f.mu.Lock()
		defer f.mu.Unlock()
		vs := f.subjects[parts[1]]
		if len(vs) == 0 {
			srError(w, http.StatusNotFound, 40401, "Subject '"+parts[1]+"' not found.")
			return
		}
		reply(srSchema{Subject: parts[1], Version: len(vs), ID: vs[len(vs)-1], Schema: f.texts[vs[len(vs)-1]]})
	default:
		srError(w, http.StatusNotFound, 404, "no route "+r.Method+" "+r.URL.Path)
	}
}
