package configs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
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
// (all of them, with lines) and every validation failure. A syntax or type
// error stops decoding at that point, so it is reported alone with the
// problems of the values decoded so far not checked.
func Parse(data []byte, file string) (Config, Problems) {
	cfg, probs, _ := parse(data, file)
	return cfg, probs
}

// parse is Parse that also reports whether decoding got through the whole
// file (false after a syntax or type error).
func parse(data []byte, file string) (Config, Problems, bool) {
	cfg := Default()
	lines := indexLines(data)
	c := &collector{file: file, lines: lines}
	dec := toml.NewDecoder(bytes.NewReader(data))
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
		c.out = append(c.out, Problem{
			File:     file,
			Line:     line,
			Field:    strings.Join(derr.Key(), "."),
			Message:  strings.TrimPrefix(derr.Error(), "toml: "),
			Severity: SeverityError,
		})
		return cfg, c.out, false
	default:
		c.errorf("", "%v", err)
		return cfg, c.out, false
	}
	cfg.validate(c)
	sortByLine(c.out)
	return cfg, c.out, true
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

// indexLines walks the TOML syntax tree. It is best effort: on a syntax error
// it returns what it found so far (the decoder reports the error itself).
func indexLines(data []byte) lineIndex {
	idx := make(lineIndex)
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
	return idx
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
