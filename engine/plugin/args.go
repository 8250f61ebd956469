package plugin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/ordered"
)

// ParamNames returns the declared parameter names in declaration order.
func (c *Class) ParamNames() []string {
	out := make([]string, len(c.Params))
	for i, p := range c.Params {
		out[i] = p.Name
	}
	return out
}

// CheckArgs verifies args against the declared parameters: every name is
// declared, every required one is present, and each value has the Go type
// its ParamType promises. label names the plugin in errors, e.g.
// "endpoint.chat".
func (c *Class) CheckArgs(label string, args Args) error {
	var errs []error
	for name, v := range args {
		p, ok := c.Param(name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown argument %q (accepted: %s)", label, name, strings.Join(c.ParamNames(), ", ")))
			continue
		}
		if err := p.CheckValue(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
	}
	for _, p := range c.Params {
		if p.Required && !args.Has(p.Name) {
			errs = append(errs, fmt.Errorf("%s: missing required argument %s (%s)", label, p.Name, p.Doc))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// CheckValue verifies that v has the Go type p.Type promises (see
// ParamType), and for strings with Choices that it is one of them.
func (p Param) CheckValue(v any) error {
	bad := func() error {
		return fmt.Errorf("argument %s: want %s, got %T", p.Name, p.Describe(), v)
	}
	switch p.Type {
	case TString:
		s, ok := v.(string)
		if sec, isSecret := v.(Secret); isSecret {
			s, ok = sec.Reveal(), true
		}
		if !ok {
			return bad()
		}
		if len(p.Choices) > 0 && !slices.Contains(p.Choices, s) {
			return fmt.Errorf("argument %s: %q is not one of %s", p.Name, s, strings.Join(p.Choices, ", "))
		}
	case TInt:
		switch v.(type) {
		case int64, int:
		default:
			return bad()
		}
	case TFloat:
		switch v.(type) {
		case float64, int64, int:
		default:
			return bad()
		}
	case TBool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case TDuration:
		if _, ok := v.(time.Duration); !ok {
			return bad()
		}
	case TDist:
		switch v.(type) {
		case dist.Dist, int64, float64:
		default:
			return bad()
		}
	case TStrings:
		switch v.(type) {
		case []string, string:
		default:
			return bad()
		}
	case TList:
		if _, ok := v.([]any); !ok {
			return bad()
		}
	case TDict:
		if _, ok := v.(*ordered.Map); !ok {
			return bad()
		}
	case TSpec:
		s, ok := v.(*Spec)
		if !ok {
			return bad()
		}
		if p.SpecCategory != "" && s.Category != p.SpecCategory {
			return fmt.Errorf("argument %s: want a plugin of category %s (%s.<name>(...)), got %s", p.Name, p.SpecCategory, Namespace(p.SpecCategory), s)
		}
	case TFunc:
		if _, ok := v.(Func); !ok {
			return bad()
		}
	case TAny:
	default:
		return fmt.Errorf("argument %s: parameter has no type", p.Name)
	}
	return nil
}

// Describe names the accepted values for documentation and errors, e.g.
// "duration", "string, one of sse, json" or "a plugin of category
// arrival_pattern (arrival.<name>(...))".
func (p Param) Describe() string {
	switch {
	case p.Type == TString && len(p.Choices) > 0:
		return "string, one of " + strings.Join(p.Choices, ", ")
	case p.Type == TSpec && p.SpecCategory != "":
		return fmt.Sprintf("a plugin of category %s (%s.<name>(...))", p.SpecCategory, Namespace(p.SpecCategory))
	}
	return p.Type.String()
}
