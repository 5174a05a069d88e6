package consensus_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

var flagRewrite = flag.Bool("rewrite", false, "transcripts: rewrite testdata/*.txt with the actual output")

// TestTranscripts replays the scripted scenarios in testdata/*.txt, in the
// manner of etcd raft's interaction tests. A file is a list of commands,
// each followed by "----" and the output it must produce, then a blank
// line:
//
//	cluster A B C D          new cluster, all authorities at height 1
//	start A B C D            Start the engines
//	propose B                B answers its ProposeRequest
//	drop <kind> <from> <to>  lose messages (kind: proposal|prevote|precommit|*, names or *)
//	heal                     stop losing messages
//	flush A B C D            deliver everything among these until quiet
//	fire <step> A B          fire each node's latest timer of that step
//	status A B               print position, lock and valid round
//	decided A B              print each node's decisions
//	sent A 1 0               print what A signed at height 1, round 0
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runTranscript(t, file) })
	}
}

func runTranscript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c *cluster
	var drops [][4]string
	var out strings.Builder
	blocks := strings.Split(strings.TrimSpace(string(data)), "\n\n")
	for _, blk := range blocks {
		cmdText, want, _ := strings.Cut(blk, "----\n")
		cmdText = strings.TrimSuffix(cmdText, "----")
		lines := strings.Split(strings.TrimSpace(cmdText), "\n")
		var got strings.Builder
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(line, "#") {
				continue
			}
			cmd, args := f[0], f[1:]
			switch cmd {
			case "cluster":
				c = newCluster(t, args...)
				c.drop = func(from, to string, m *chain.Message) bool {
					for _, d := range drops {
						if (d[0] == "*" || d[0] == msgKind(m)) && (d[1] == "*" || d[1] == from) && (d[2] == "*" || d[2] == to) {
							return true
						}
					}
					return false
				}
			case "start":
				c.start(args...)
			case "propose":
				b := c.propose(args[0])
				fmt.Fprintf(&got, "%s proposes %s\n", args[0], c.label(b.Hash()))
			case "drop":
				drops = append(drops, [4]string{args[0], args[1], args[2]})
			case "heal":
				drops = nil
			case "flush":
				c.flush(args...)
			case "fire":
				for _, n := range args[1:] {
					c.fire(n, parseStep(t, args[0]))
				}
			case "status":
				for _, n := range args {
					st := c.nodes[n].eng.Status()
					fmt.Fprintf(&got, "%s: %d/%d %s locked=%d valid=%d proposer=%s\n", n, st.Height, st.Round, st.Step, st.LockedRound, st.ValidRound, st.Proposer.Name)
				}
			case "decided":
				for _, n := range args {
					for _, d := range c.nodes[n].decisions {
						fmt.Fprintf(&got, "%s: height %d round %d block %s signatures %d\n", n, d.Block.Header.Height, d.Commit.Round, c.label(d.Block.Hash()), len(d.Commit.Signatures))
					}
				}
			case "sent":
				var h, r int
				fmt.Sscan(args[1], &h)
				fmt.Sscan(args[2], &r)
				for _, s := range []consensus.Step{consensus.StepPropose, consensus.StepPrevote, consensus.StepPrecommit} {
					for _, m := range c.sentBy(args[0], uint64(h), uint32(r), s) {
						fmt.Fprintf(&got, "%s %s\n", args[0], c.describe(m))
					}
				}
			default:
				t.Fatalf("%s: unknown command %q", file, line)
			}
		}
		if !*flagRewrite && strings.TrimSpace(got.String()) != strings.TrimSpace(want) {
			t.Errorf("%s: after\n%s\ngot:\n%swant:\n%s", file, strings.Join(lines, "\n"), got.String(), want)
		}
		out.WriteString(strings.Join(lines, "\n") + "\n----\n" + got.String() + "\n")
	}
	if *flagRewrite {
		if err := os.WriteFile(file, []byte(strings.TrimSpace(out.String())+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func msgKind(m *chain.Message) string {
	if m.Vote != nil {
		return m.Vote.Type.String()
	}
	return "proposal"
}

func parseStep(t *testing.T, s string) consensus.Step {
	for _, st := range []consensus.Step{consensus.StepPropose, consensus.StepPrevote, consensus.StepPrecommit, consensus.StepCommit} {
		if st.String() == s {
			return st
		}
	}
	t.Fatalf("unknown step %q", s)
	return 0
}

// label names block hashes X1, X2, ... in order of first appearance, so
// transcripts do not depend on hash values.
func (c *cluster) label(h chain.Hash) string {
	if h.IsZero() {
		return "nil"
	}
	i := slices.Index(c.labels, h)
	if i < 0 {
		c.labels = append(c.labels, h)
		i = len(c.labels) - 1
	}
	return fmt.Sprintf("X%d", i+1)
}

func (c *cluster) describe(m *chain.Message) string {
	if m.Vote != nil {
		return fmt.Sprintf("%s %d/%d %s", m.Vote.Type, m.Vote.Height, m.Vote.Round, c.label(m.Vote.BlockHash))
	}
	return fmt.Sprintf("proposal %d/%d %s pol=%d", m.Proposal.Height, m.Proposal.Round, c.label(m.Proposal.BlockHash), m.Proposal.POLRound)
}
