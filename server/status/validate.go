package status

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

//go:embed schema/status-v1.json
var schemaV1 []byte

// SchemaJSON is the JSON Schema of the document, schema/status-v1.json.
func SchemaJSON() []byte { return slices.Clone(schemaV1) }

// Validate checks a JSON document against the schema. It implements the
// part of JSON Schema (2020-12) the schema uses: type, properties,
// required, items, enum, minimum, format date-time and date, and $ref to
// #/$defs/name. The errors name the JSON path of each bad value.
func Validate(doc []byte) error {
	var schema, v any
	if err := json.Unmarshal(schemaV1, &schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return err
	}
	root, _ := schema.(map[string]any)
	var errs []string
	validate(root, root, v, "$", &errs)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func validate(root, s map[string]any, v any, path string, errs *[]string) {
	bad := func(format string, a ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(format, a...)) }
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		defs, _ := root["$defs"].(map[string]any)
		def, ok := defs[name].(map[string]any)
		if !found || !ok {
			bad("unknown $ref %q", ref)
			return
		}
		validate(root, def, v, path, errs)
		return
	}
	if t, ok := s["type"].(string); ok && !hasType(v, t) {
		bad("got %s, want %s", typeOf(v), t)
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		bad("%v is not one of %v", v, enum)
	}
	if m, ok := s["minimum"].(float64); ok {
		if n, isNum := v.(float64); isNum && n < m {
			bad("%v is below the minimum %v", n, m)
		}
	}
	if f, ok := s["format"].(string); ok {
		if str, isStr := v.(string); isStr {
			layout := map[string]string{"date-time": time.RFC3339, "date": time.DateOnly}[f]
			if _, err := time.Parse(layout, str); layout != "" && err != nil {
				bad("%q is not a %s", str, f)
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := v[r.(string)]; !ok {
					bad("missing %q", r)
				}
			}
		}
		for k, pv := range v {
			if ps, ok := props[k].(map[string]any); ok {
				validate(root, ps, pv, path+"."+k, errs)
			}
		}
	case []any:
		if n, ok := s["minItems"].(float64); ok && float64(len(v)) < n {
			bad("has %d items, fewer than %v", len(v), n)
		}
		if n, ok := s["maxItems"].(float64); ok && float64(len(v)) > n {
			bad("has %d items, more than %v", len(v), n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range v {
				validate(root, items, e, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	}
}

func hasType(v any, t string) bool {
	switch t {
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "number":
		_, ok := v.(float64)
		return ok
	}
	return typeOf(v) == t
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
