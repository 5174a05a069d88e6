package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/zwnode/zwnode/chain/ledger"
)

// node returns the index of a department's node.
func (c *cluster) node(dept string) int {
	c.t.Helper()
	for i, n := range c.net.Nodes {
		if n.Department == dept {
			return i
		}
	}
	c.t.Fatalf("no node of department %s", dept)
	return -1
}

// accountKey is a department's admin account key file: in a devnet the
// node key is also the department's genesis admin account.
func (c *cluster) accountKey(dept string) string {
	return filepath.Join(c.net.Nodes[c.node(dept)].Home, "config", "node_key")
}

// cliResult is the output of one client command run.
type cliResult struct {
	stdout, stderr string
	err            error
}

// cli runs a client command as dept's admin against dept's own node. It
// never fails the test: callers assert on the result.
func (c *cluster) cli(dept string, args ...string) cliResult {
	return c.cliAs(c.accountKey(dept), dept, args...)
}

// cliAs runs a client command signed with keyFile against dept's node.
func (c *cluster) cliAs(keyFile, dept string, args ...string) cliResult {
	full := append(append([]string{}, args...), "--api", c.net.Nodes[c.node(dept)].APIURL, "--key", keyFile)
	return c.run(full...)
}

// run runs the zwnode binary with args.
func (c *cluster) run(args ...string) cliResult {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return cliResult{stdout: out.String(), stderr: errOut.String(), err: err}
}

// mustCLI runs a client command that must succeed and returns its stdout.
func (c *cluster) mustCLI(dept string, args ...string) string {
	c.t.Helper()
	r := c.cli(dept, args...)
	if r.err != nil {
		c.t.Fatalf("%s: zwnode %s: %v\nstdout: %s\nstderr: %s", dept, strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// txOut is the --json output of a tx command.
type txOut struct {
	Hash          string `json:"hash"`
	Status        string `json:"status"`
	Height        uint64 `json:"height"`
	Code          uint32 `json:"code"`
	ApplicationID string `json:"application_id"`
	AccessCode    string `json:"access_code"`
	Subject       string `json:"subject"`
}

// tx runs a tx command with --wait --json and checks it succeeded.
func (c *cluster) tx(dept string, args ...string) txOut {
	c.t.Helper()
	out := c.mustCLI(dept, append(append([]string{"tx"}, args...), "--wait", "--json")...)
	var o txOut
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		c.t.Fatalf("%s: tx %s: %v: %s", dept, strings.Join(args, " "), err, out)
	}
	if o.Status != "finalized" || o.Code != 0 {
		c.t.Fatalf("%s: tx %s: %+v", dept, strings.Join(args, " "), o)
	}
	// The next step may run on another node: let every node catch up.
	c.waitHeight(o.Height, 20*time.Second, all(len(c.net.Nodes))...)
	return o
}

// catchUp waits until every node has the highest block any node has, so
// what one node finalized is visible on all of them.
func (c *cluster) catchUp() {
	c.t.Helper()
	var top uint64
	for i := range c.net.Nodes {
		top = max(top, c.height(i))
	}
	c.waitHeight(top, 20*time.Second, all(len(c.net.Nodes))...)
}

// inParallel runs one sequence of CLI steps per department concurrently
// (each department signs with its own key, so their nonces do not race)
// and fails the test with every error.
func (c *cluster) inParallel(steps map[string][][]string) {
	c.t.Helper()
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for dept, seq := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, args := range seq {
				if r := c.cli(dept, append(args, "--wait")...); r.err != nil {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: zwnode %s: %v: %s", dept, strings.Join(args, " "), r.err, r.stderr))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		c.t.Fatal(strings.Join(errs, "\n"))
	}
	c.catchUp()
}

// residentIDWithX returns a valid resident ID number whose check
// character is X, so its lower-case spelling differs from the canonical one.
func residentIDWithX(t *testing.T) string {
	t.Helper()
	for seq := 100; seq < 1000; seq++ {
		first17 := fmt.Sprintf("37010219850517%03d", seq)
		ch, err := ledger.ResidentIDCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		if ch == 'X' {
			return first17 + "X"
		}
	}
	t.Fatal("no resident id with check character X")
	return ""
}

// spellings are the byte patterns under which a stored copy of s could
// appear: as given, lower and upper case, and UTF-16 in both byte orders.
func spellings(s string) [][]byte {
	var out [][]byte
	for _, v := range []string{s, strings.ToLower(s), strings.ToUpper(s)} {
		out = append(out, []byte(v))
		u := utf16.Encode([]rune(v))
		le, be := make([]byte, 0, 2*len(u)), make([]byte, 0, 2*len(u))
		for _, r := range u {
			le = append(le, byte(r), byte(r>>8))
			be = append(be, byte(r>>8), byte(r))
		}
		out = append(out, le, be)
	}
	return out
}

// filesContaining walks root and returns the files containing any pattern.
func filesContaining(t *testing.T, root string, patterns [][]byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range patterns {
			if bytes.Contains(data, p) {
				hits = append(hits, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return hits
}
