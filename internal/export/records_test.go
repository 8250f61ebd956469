package export

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

func testRows() []*results.RecordRow {
	ok := record.New()
	ok.SessionNum, ok.XRequestID, ok.XCorrelationID, ok.ConversationID, ok.TurnIndex = 3, "rid", "cid", "conv-1", 0
	ok.StartNs, ok.StartWallNs, ok.CreditNs, ok.ScheduledNs, ok.HeadersNs, ok.EndNs = 1000, 1_700_000_000_000_000_000, 900, 950, 1100, 5000
	ok.Status = 200
	ok.Payload = []byte(`{"messages":[{"role":"user","content":"hi \"there\""}],"model":"m"}`)
	ok.AddText(2000, record.KindText, []byte("héllo\n"), nil)
	ok.AddUsage(4000, record.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5, ReasoningTokens: -1, CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1})
	bad := record.New()
	bad.SessionNum = 4
	bad.StartNs, bad.StartWallNs, bad.EndNs = 2000, 1_700_000_000_000_001_000, 3000
	bad.Payload = []byte("raw text body")
	bad.SetError(0, record.ErrConnect, "connection refused")
	return []*results.RecordRow{
		{Rec: ok, Metrics: []results.MetricValue{
			{Tag: "time_to_first_token", Unit: "ms", Value: 0.001},
			{Tag: "output_sequence_length", Unit: "tokens", Value: 2, Integer: true},
			{Tag: "issue_delay", Unit: "ms", Value: 0.05, Own: true},
		}, ICL: []float64{0.5, 0.25}},
		{Rec: bad, Metrics: []results.MetricValue{{Tag: "error_isl", Unit: "tokens", Value: 7, Integer: true}}},
	}
}

var testSchema = &results.RecordSchema{Metrics: []results.Column{
	{Tag: "time_to_first_token", Unit: "ms"},
	{Tag: "output_sequence_length", Unit: "tokens", Integer: true},
	{Tag: "error_isl", Unit: "tokens", Integer: true},
}, ICL: true, ICLUnit: "ms"}

func writeAll(t *testing.T, e RecordExporter, tg *Target) string {
	t.Helper()
	if err := e.Begin(tg, testSchema); err != nil {
		t.Fatal(err)
	}
	for _, r := range testRows() {
		if err := e.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.Export(context.Background(), tg, &results.Summary{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJSONLRecordShape(t *testing.T) {
	p := writeAll(t, &JSONL{}, &Target{Dir: t.TempDir()})
	data, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	// AIPerf's MetricRecordInfo with omit_defaults: no null or default
	// fields, AIPerf's key order; loadstar's own metrics in their own object.
	want0 := `{"metadata":{"session_num":3,"x_request_id":"rid","x_correlation_id":"cid","conversation_id":"conv-1","turn_index":0,` +
		`"credit_issued_ns":1699999999999999900,"request_start_ns":1700000000000000000,"request_ack_ns":1700000000000000100,` +
		`"request_end_ns":1700000000000004000,"worker_id":"loadstar","record_processor_id":"loadstar","benchmark_phase":"profiling"},` +
		`"metrics":{"time_to_first_token":{"value":0.001,"unit":"ms"},"output_sequence_length":{"value":2,"unit":"tokens"}},` +
		`"loadstar":{"issue_delay":{"value":0.05,"unit":"ms"}}}`
	if lines[0] != want0 {
		t.Errorf("line 0\n got %s\nwant %s", lines[0], want0)
	}
	want1 := `{"metadata":{"session_num":4,"turn_index":0,"request_start_ns":1700000000000001000,"request_end_ns":1700000000000002000,` +
		`"worker_id":"loadstar","record_processor_id":"loadstar","benchmark_phase":"profiling"},` +
		`"metrics":{"error_isl":{"value":7,"unit":"tokens"}},` +
		`"error":{"message":"ConnectionError('connection refused')","type":"ConnectionError","cause_chain":["ConnectionError"]}}`
	if lines[1] != want1 {
		t.Errorf("line 1\n got %s\nwant %s", lines[1], want1)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("invalid JSON %s", l)
		}
	}
	pc := writeAll(t, &JSONL{PerChunk: true}, &Target{Dir: t.TempDir()})
	data, _ = os.ReadFile(pc)
	if !strings.Contains(string(data), `"inter_chunk_latency":{"value":[0.5,0.25],"unit":"ms"}`) {
		t.Errorf("per-chunk line %s", data)
	}
}

func TestRawRecordShape(t *testing.T) {
	p := writeAll(t, &Raw{}, &Target{Dir: t.TempDir(), Prefix: "run1"})
	if !strings.HasSuffix(p, "run1_raw.jsonl") {
		t.Errorf("path %s", p)
	}
	data, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var r0 struct {
		StartPerfNs int64           `json:"start_perf_ns"`
		Payload     json.RawMessage `json:"payload"`
		Status      int             `json:"status"`
		Responses   []struct {
			PerfNs int64  `json:"perf_ns"`
			Kind   string `json:"kind"`
			Text   string `json:"text"`
		} `json:"responses"`
		Usage map[string]int `json:"usage"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &r0); err != nil {
		t.Fatal(err)
	}
	if r0.StartPerfNs != 1000 || r0.Status != 200 || string(r0.Payload) != `{"messages":[{"role":"user","content":"hi \"there\""}],"model":"m"}` ||
		len(r0.Responses) != 2 || r0.Responses[0].Text != "héllo\n" || r0.Responses[1].Kind != "usage" || r0.Usage["total_tokens"] != 5 {
		t.Errorf("raw record %s", lines[0])
	}
	if !strings.Contains(lines[1], `"payload":"raw text body"`) || !strings.Contains(lines[1], `"usage":null`) {
		t.Errorf("raw error record %s", lines[1])
	}
}

func TestParquetRoundTrip(t *testing.T) {
	tg := &Target{Dir: t.TempDir()}
	p := writeAll(t, &Parquet{}, tg)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != 2 {
		t.Fatalf("%d rows", pf.NumRows())
	}
	if v, ok := pf.Lookup("loadstar.units"); !ok || !strings.Contains(v, `"time_to_first_token":"ms"`) {
		t.Errorf("units metadata %q", v)
	}
	cols := map[string]int{}
	for i, path := range pf.Schema().Columns() {
		cols[path[0]] = i
	}
	r := parquet.NewReader(pf)
	rows := make([]parquet.Row, 2)
	n, err := r.ReadRows(rows)
	if n != 2 || (err != nil && err != io.EOF) {
		t.Fatalf("read %d rows: %v", n, err)
	}
	col := func(row parquet.Row, name string) []parquet.Value {
		var out []parquet.Value
		for _, v := range row {
			if v.Column() == cols[name] {
				out = append(out, v)
			}
		}
		return out
	}
	if v := col(rows[0], "time_to_first_token"); len(v) != 1 || v[0].Double() != 0.001 {
		t.Errorf("ttft %v", v)
	}
	if v := col(rows[0], "output_sequence_length"); v[0].Int64() != 2 {
		t.Errorf("osl %v", v)
	}
	if v := col(rows[0], "error_isl"); !v[0].IsNull() {
		t.Errorf("error_isl of a valid row %v", v)
	}
	if v := col(rows[0], "inter_chunk_latency"); len(v) != 2 || v[1].Double() != 0.25 {
		t.Errorf("icl %v", v)
	}
	if v := col(rows[1], "error_type"); string(v[0].ByteArray()) != "ConnectionError" {
		t.Errorf("error type %v", v)
	}
	if v := col(rows[1], "inter_chunk_latency"); len(v) != 1 || !v[0].IsNull() {
		t.Errorf("empty icl %v", v)
	}
	if v := col(rows[1], "scheduled_ns"); !v[0].IsNull() {
		t.Errorf("unscheduled %v", v)
	}
	entries, _ := os.ReadDir(tg.Dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// Rows cross batches and row groups: every row reads back in order with
// its values, inter-chunk latencies of every length included.
func TestParquetManyRows(t *testing.T) {
	tg := &Target{Dir: t.TempDir()}
	e := &Parquet{}
	if err := e.Begin(tg, testSchema); err != nil {
		t.Fatal(err)
	}
	const n = 2*parquetRowGroup + 3*parquetBatch + 17
	base := testRows()[0]
	for i := 0; i < n; i++ {
		row := *base
		rec := *base.Rec
		rec.SessionNum = i
		row.Rec = &rec
		row.ICL = make([]float64, i%4)
		for k := range row.ICL {
			row.ICL[k] = float64(i) + float64(k)/10
		}
		if err := e.WriteRecord(&row); err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.Export(context.Background(), tg, &results.Summary{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != n || len(pf.RowGroups()) != 3 {
		t.Fatalf("%d rows in %d row groups, want %d in 3", pf.NumRows(), len(pf.RowGroups()), n)
	}
	cols := map[string]int{}
	for i, path := range pf.Schema().Columns() {
		cols[path[0]] = i
	}
	r := parquet.NewReader(pf)
	rows := make([]parquet.Row, n)
	if got, err := r.ReadRows(rows); got != n || (err != nil && err != io.EOF) {
		t.Fatalf("read %d rows: %v", got, err)
	}
	for i, row := range rows {
		var session int64 = -1
		var icl []parquet.Value
		for _, v := range row {
			switch v.Column() {
			case cols["session_num"]:
				session = v.Int64()
			case cols["inter_chunk_latency"]:
				icl = append(icl, v)
			}
		}
		if session != int64(i) {
			t.Fatalf("row %d: session_num %d", i, session)
		}
		want := i % 4
		if want == 0 {
			if len(icl) != 1 || !icl[0].IsNull() {
				t.Fatalf("row %d: inter_chunk_latency %v, want null", i, icl)
			}
			continue
		}
		if len(icl) != want || icl[want-1].Double() != float64(i)+float64(want-1)/10 {
			t.Fatalf("row %d: inter_chunk_latency %v", i, icl)
		}
	}
}

func TestWriteInputs(t *testing.T) {
	path := t.TempDir() + "/inputs.json"
	sessions := func(yield func(InputSession, error) bool) {
		if !yield(InputSession{SessionID: "s1", Payloads: [][]byte{[]byte(`{"messages":[],"model":"m"}`), []byte(`{"x":1}`)}}, nil) {
			return
		}
		yield(InputSession{SessionID: "s2", Payloads: [][]byte{[]byte("not json")}}, nil)
	}
	if err := writeInputs(path, sessions); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var doc struct {
		Data []struct {
			SessionID string            `json:"session_id"`
			Payloads  []json.RawMessage `json:"payloads"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(doc.Data) != 2 || doc.Data[0].SessionID != "s1" || len(doc.Data[0].Payloads) != 2 || string(doc.Data[1].Payloads[0]) != `"not json"` {
		t.Errorf("inputs %s", data)
	}
	var p map[string]any
	_ = json.Unmarshal(doc.Data[0].Payloads[0], &p)
	if p["model"] != "m" {
		t.Errorf("payload %v", p)
	}
	empty := t.TempDir() + "/inputs.json"
	if err := writeInputs(empty, func(func(InputSession, error) bool) {}); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(empty)
	if !json.Valid(data) {
		t.Errorf("empty inputs %s", data)
	}
}

func TestWriteFileAtomicLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFileAtomic(dir+"/a/b.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir + "/a")
	if len(entries) != 1 || entries[0].Name() != "b.json" {
		t.Errorf("entries %v", entries)
	}
}
