package configs

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid matches (errors.Is) a Problems error that holds at least one
// error-severity problem.
var ErrInvalid = errors.New("configs: invalid configuration")

// Severity says whether a problem stops the node.
type Severity uint8

// Severities.
const (
	// SeverityError stops the node: it would not run, or would run wrongly.
	SeverityError Severity = iota
	// SeverityWarning is worth the operator's attention but the node runs.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is one thing wrong with a config or a file it points to, located
// precisely enough to fix without guessing.
type Problem struct {
	// File is the file the problem is in (the config file, or the key,
	// genesis or secret file it names).
	File string
	// Line is the 1-based line in File, or 0 when unknown.
	Line int
	// Field is the config key, with list indexes: "p2p.listen[1]". Empty
	// when the problem concerns the file as a whole.
	Field    string
	Message  string
	Severity Severity
}

// Error formats the problem as "file:line: field: message".
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is a list of problems; as an error it lists them all, one a line.
type Problems []Problem

// Error lists every problem, one a line, with its severity.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Severity.String() + ": " + p.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true when ps holds an error.
func (ps Problems) Is(target error) bool {
	return target == ErrInvalid && ps.HasErrors()
}

// HasErrors reports whether any problem has SeverityError.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns the error-severity problems.
func (ps Problems) Errors() Problems { return ps.filter(SeverityError) }

// Warnings returns the warning-severity problems.
func (ps Problems) Warnings() Problems { return ps.filter(SeverityWarning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// Err returns ps as an error if it holds any error-severity problem, else nil.
func (ps Problems) Err() error {
	if ps.HasErrors() {
		return ps
	}
	return nil
}

// collector accumulates problems for one file.
type collector struct {
	file  string
	lines lineIndex
	out   Problems
}

func (c *collector) add(sev Severity, field, format string, args ...any) {
	c.out = append(c.out, Problem{
		File:     c.file,
		Line:     c.lines.lookup(field),
		Field:    field,
		Message:  fmt.Sprintf(format, args...),
		Severity: sev,
	})
}

func (c *collector) errorf(field, format string, args ...any) {
	c.add(SeverityError, field, format, args...)
}

func (c *collector) warnf(field, format string, args ...any) {
	c.add(SeverityWarning, field, format, args...)
}
