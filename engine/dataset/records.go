package dataset

import (
	"encoding/json"
	"fmt"
)

// FromRecords builds a dataset from in-memory records, as a scenario writes
// them: a list of dicts (*ordered.Map or map[string]any values) in the
// single_turn shape ({"text": ..., "session_id": ...}) or the multi_turn
// shape ({"session_id": ..., "turns": [...]}), not mixed. Local media paths
// are taken from baseDir. Errors name the record: "records[3]: field ...".
func FromRecords(records []any, baseDir string) (*Set, error) {
	if len(records) == 0 {
		return nil, fmt.Errorf("records: the list is empty")
	}
	var (
		convs      []Conversation
		bySession  = map[string]int{}
		multi      = -1 // unknown until the first record
		timestamps bool
	)
	for i, r := range records {
		where := fmt.Sprintf("records[%d]", i)
		data, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("%s: not a JSON-like dict: %v", where, err)
		}
		if len(data) == 0 || data[0] != '{' {
			return nil, fmt.Errorf("%s: expected a dict, got %s", where, short(data))
		}
		var keys map[string]json.RawMessage
		json.Unmarshal(data, &keys)
		_, isMulti := keys["turns"]
		if multi >= 0 && (multi == 1) != isMulti {
			return nil, fmt.Errorf("%s: mixes the single_turn and multi_turn shapes (a dict with \"turns\" is a whole conversation)", where)
		}
		multi = boolInt(isMulti)
		if isMulti {
			var rec multiTurnRecord
			if err := decodeStrict(data, &rec, "session_id, turns"); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if len(rec.Turns) == 0 {
				return nil, fmt.Errorf("%s: field \"turns\": needs at least one turn", where)
			}
			key, err := sessionKey(rec.SessionID)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			conv := Conversation{ID: sessionName(key, len(convs)), Turns: make([]Turn, len(rec.Turns))}
			for k, raw := range rec.Turns {
				var tr turnRecord
				if err := decodeStrict(raw, &tr, turnFields); err != nil {
					return nil, fmt.Errorf("%s.turns[%d]: %w", where, k, err)
				}
				if conv.Turns[k], err = tr.turn(baseDir, true); err != nil {
					return nil, fmt.Errorf("%s.turns[%d]: %w", where, k, err)
				}
				timestamps = timestamps || conv.Turns[k].HasTimestamp
			}
			convs = append(convs, conv)
			continue
		}
		var rec turnRecord
		if err := decodeStrict(data, &rec, turnFields); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		t, err := rec.turn(baseDir, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		timestamps = timestamps || t.HasTimestamp
		key, err := sessionKey(rec.SessionID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if j, ok := bySession[key]; ok && key != "" {
			t.ResetContext = true
			convs[j].Turns = append(convs[j].Turns, t)
			continue
		}
		if key != "" {
			bySession[key] = len(convs)
		}
		convs = append(convs, Conversation{ID: sessionName(key, len(convs)), Turns: []Turn{t}})
	}
	return NewSet(convs, Info{Sampler: Sequential, Timestamps: timestamps, Source: "records"}), nil
}
