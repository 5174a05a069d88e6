package configs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// maxConfigSize bounds what Load reads; a real node.toml is a few KiB.
const maxConfigSize = 1 << 20

// Load reads, decodes and validates the config file at path. Fields missing
// from the file keep their defaults. On failure the error is a Problems
// listing every problem found (errors.Is(err, ErrInvalid) holds); warnings
// alone do not fail Load — use Parse to see them.
func Load(path string) (Config, error) {
	data, err := readConfig(path)
	if err != nil {
		return Config{}, err
	}
	cfg, probs := Parse(data, path)
	if err := probs.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func readConfig(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, Problems{{File: path, Message: "config file does not exist; create it with `zwnode init`", Severity: SeverityError}}
		}
		return nil, fmt.Errorf("configs: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, Problems{{File: path, Message: fmt.Sprintf("config file is %d bytes, limit %d", len(data), maxConfigSize), Severity: SeverityError}}
	}
	return data, nil
}

// Parse decodes TOML strictly on top of Default() and validates the result.
// file names the source in problems. It returns every problem: unknown keys
// (all of them, with lines), values of the wrong type (each is reported, then
// blanked out so decoding can go on; the field keeps its default) and every
// validation failure. Only a syntax error stops decoding: the problems after
// it cannot be found.
func Parse(data []byte, file string) (Config, Problems) {
	cfg, probs, _ := parse(data, file)
	return cfg, probs
}

// maxTypeErrors bounds the decode-blank-retry loop in parse.
const maxTypeErrors = 100

// parse is Parse that also reports whether the file decoded without syntax
// or type errors, i.e. whether every value in the Config is the file's.
func parse(data []byte, file string) (Config, Problems, bool) {
	lines, spans := indexLines(data)
	c := &collector{file: file, lines: lines}
	doc := data
	clean := true
	mistyped := make(map[string]bool)
	for attempt := 0; ; attempt++ {
		cfg := Default()
		dec := toml.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		err := dec.Decode(&cfg)
		var strict *toml.StrictMissingError
		var derr *toml.DecodeError
		switch {
		case err == nil:
		case errors.As(err, &strict):
			for _, e := range strict.Errors {
				line, _ := e.Position()
				c.out = append(c.out, Problem{
					File:     file,
					Line:     line,
					Field:    strings.Join(e.Key(), "."),
					Message:  "unknown key (misspelt, or in the wrong [section]?)",
					Severity: SeverityError,
				})
			}
		case errors.As(err, &derr):
			line, _ := derr.Position()
			field := strings.Join(derr.Key(), ".")
			c.out = append(c.out, Problem{
				File:     file,
				Line:     line,
				Field:    field,
				Message:  typeErrorMessage(derr, field),
				Severity: SeverityError,
			})
			mistyped[field] = true
			span, ok := spans[field]
			if !ok || field == "" || attempt >= maxTypeErrors {
				return cfg, c.out, false
			}
			// Blank the offending key = value (keeping newlines, so lines
			// stay right) and decode again to find the other problems.
			doc = blank(doc, span)
			clean = false
			continue
		default:
			c.errorf("", "%v", err)
			return cfg, c.out, false
		}
		before := len(c.out)
		cfg.validate(c)
		c.out = append(c.out[:before], dropMistyped(c.out[before:], mistyped)...)
		sortByLine(c.out)
		return cfg, c.out, clean
	}
}

// dropMistyped removes validation problems about fields already reported
// as the wrong type: they describe the default that stood in for the value.
func dropMistyped(ps Problems, mistyped map[string]bool) Problems {
	var out Problems
	for _, p := range ps {
		name := p.Field
		if i := strings.IndexByte(name, '['); i > 0 {
			name = name[:i]
		}
		if !mistyped[name] {
			out = append(out, p)
		}
	}
	return out
}

var tomlKindRE = regexp.MustCompile(`cannot decode TOML (\w+(?: \w+)?) into`)

// typeErrorMessage rewrites go-toml's message, which names Go struct fields,
// into the TOML types an operator knows.
func typeErrorMessage(derr *toml.DecodeError, field string) string {
	msg := strings.TrimPrefix(derr.Error(), "toml: ")
	want := tomlTypeOf(reflect.TypeOf(Config{}), strings.Split(field, "."))
	m := tomlKindRE.FindStringSubmatch(msg)
	if want == "" || m == nil {
		return msg
	}
	return fmt.Sprintf("wrong type: found a TOML %s, want %s", m[1], want)
}

// tomlTypeOf names the TOML type of the field at path in struct type t, or
// "" if path names no field.
func tomlTypeOf(t reflect.Type, path []string) string {
	for _, name := range path {
		if t.Kind() != reflect.Struct {
			return ""
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); strings.Split(f.Tag.Get("toml"), ",")[0] == name {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return ""
		}
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
	case reflect.Struct:
		return "a [table]"
	}
	return ""
}

// blank returns a copy of doc with the bytes of span replaced by spaces,
// except newlines.
func blank(doc []byte, span unstable.Range) []byte {
	out := append([]byte(nil), doc...)
	for i := span.Offset; i < span.Offset+span.Length && int(i) < len(out); i++ {
		if out[i] != '\n' && out[i] != '\r' {
			out[i] = ' '
		}
	}
	return out
}

// sortByLine orders problems as they appear in the file; problems without a
// line (a required field that is missing) come last, in the order found.
func sortByLine(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		li, lj := ps[i].Line, ps[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// lineIndex maps config keys ("p2p.listen", "p2p.listen[1]") to the line
// they are written on, so validation problems can point at a line.
type lineIndex map[string]int

func (l lineIndex) lookup(field string) int {
	if l == nil || field == "" {
		return 0
	}
	if n, ok := l[field]; ok {
		return n
	}
	// Fall back from an element to its list.
	if i := strings.IndexByte(field, '['); i > 0 {
		return l[field[:i]]
	}
	return 0
}

// indexLines walks the TOML syntax tree and returns the line of every key
// and list element, and the byte span of every key = value expression. It is
// best effort: on a syntax error it returns what it found so far (the decoder
// reports the error itself).
func indexLines(data []byte) (lineIndex, map[string]unstable.Range) {
	idx := make(lineIndex)
	spans := make(map[string]unstable.Range)
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
		case unstable.KeyValue:
			keyIt := e.Key()
			parts := append(append([]string{}, table...), keyParts(keyIt)...)
			name := strings.Join(parts, ".")
			spans[name] = e.Raw
			first := e.Key()
			if first.Next() {
				idx[name] = p.Shape(first.Node().Raw).Start.Line
			}
			if v := e.Value(); v.Kind == unstable.Array {
				i := 0
				for it := v.Children(); it.Next(); i++ {
					if n := it.Node(); n.Raw.Length > 0 {
						idx[fmt.Sprintf("%s[%d]", name, i)] = p.Shape(n.Raw).Start.Line
					}
				}
			}
		}
	}
	return idx, spans
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// LoadHome loads <home>/config/node.toml and resolves its paths against home:
// what `zwnode run` needs before opening anything.
func LoadHome(home string) (Config, error) {
	cfg, err := Load(Path(home))
	if err != nil {
		return Config{}, err
	}
	return cfg.Resolve(home), nil
}
