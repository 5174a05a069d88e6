package consensus_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineIsPure keeps the engine a deterministic state machine: its
// non-test files import only chain and side-effect-free stdlib packages,
// and start no goroutine.
func TestEngineIsPure(t *testing.T) {
	forbidden := []string{"time", "net", "os", "context", "sync", "io", "math/rand", "crypto/rand", "log", "runtime", "unsafe", "reflect", "syscall"}
	forbiddenPrefixes := []string{"net/", "os/", "sync/", "io/", "log/", "math/rand/", "runtime/", "github.com/ipfs/", "github.com/libp2p/", "github.com/cockroachdb/", "github.com/prometheus/", "github.com/spf13/", "golang.org/x/"}
	const allowedModule = "github.com/zwnode/zwnode/chain"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			bad := strings.Contains(path, ".") && path != allowedModule // third-party or another zwnode package
			for _, p := range forbidden {
				bad = bad || path == p
			}
			for _, p := range forbiddenPrefixes {
				bad = bad || strings.HasPrefix(path, p)
			}
			if bad {
				t.Errorf("%s imports %q: the engine must stay pure (chain and plain stdlib only)", name, path)
			}
		}
		full, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(full, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				t.Errorf("%s: go statement at offset %d: the engine starts no goroutine", name, g.Pos())
			}
			return true
		})
		checked++
	}
	if checked < 5 {
		t.Fatalf("checked only %d engine files; is the test running in the package directory?", checked)
	}
}
