package endpoint

import (
	"errors"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Raw is AIPerf's raw endpoint, for APIs no built-in speaks: it sends each
// turn's recorded body as it is (datasets raw_payload and inputs_json) to
// the URL as given (no path is appended), and reads answers with no
// assumption beyond the response extractor: a JMESPath response_field, or
// auto-detection of the usual text, embedding and ranking fields (as the
// template endpoint does). A turn without a recorded body is rendered with
// the optional body template, the template endpoint's.
//
//	endpoint.raw(url="http://host:9000/v1/generate", model="m", response_field="outputs[0].text")
type Raw struct {
	*Template
}

var rawParams = []plugin.Param{
	{Name: "body", Type: plugin.TAny,
		Doc: "Template for turns without a recorded body (the template endpoint's body); unset: every turn must carry one (raw_payload, inputs_json)."},
	{Name: "response_field", Type: plugin.TString,
		Doc: "JMESPath expression selecting the answer in each response JSON (e.g. \"outputs[0].text\"); also AIPerf's extra response_field. Unset or \"text\": auto-detect."},
}

func newRaw(s *Settings, args plugin.Args) (any, error) {
	if args.Has("body") || s.PayloadTemplate != nil {
		t, err := newTemplate(s, args)
		if err != nil {
			return nil, err
		}
		return &Raw{Template: t.(*Template)}, nil
	}
	field, err := responseFieldArg(s, args)
	if err != nil {
		return nil, err
	}
	return &Raw{Template: &Template{base: base{s}, field: field}}, nil
}

// errNoRawBody says how to give the raw endpoint something to send.
var errNoRawBody = errors.New("the raw endpoint sends recorded bodies: use a raw_payload or inputs_json dataset, or give body= a template")

// FormatPayload returns the turn's recorded body, else renders the
// template.
func (r *Raw) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	if b := req.Last().RawPayload; len(b) > 0 {
		return b, nil
	}
	if r.tmpl == nil && r.fn == nil {
		return nil, errNoRawBody
	}
	return r.Template.FormatPayload(req)
}
