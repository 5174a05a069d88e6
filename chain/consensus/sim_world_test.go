package consensus_test

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// The deterministic simulator: whole clusters of engines in virtual time.
// Everything random comes from one seeded generator and every event is
// ordered by (virtual ms, sequence number), so a seed replays exactly.

const simChainID = "sim-chain"

var simGenesisHash = chain.HashBytes([]byte("sim genesis"))

// simKeys is the fixed key pool: node i uses simKeys[i].
var simKeys = func() []*chain.PrivateKey {
	keys := make([]*chain.PrivateKey, 12)
	for i := range keys {
		var seed [32]byte
		seed[0] = byte(i + 1)
		keys[i] = chain.PrivateKeyFromSeed(seed[:])
	}
	return keys
}()

func simParams() chain.Params {
	p := chain.DefaultParams()
	p.TimeoutProposeMS = 300
	p.TimeoutPrevoteMS = 100
	p.TimeoutPrecommitMS = 100
	p.TimeoutDeltaMS = 100
	p.TimeoutCommitMS = 20
	return p
}

// simScenario is what one seed chose.
type simScenario struct {
	n              int     // genesis authorities
	byz            int     // Byzantine authorities (the last byz of the n), ≤ f
	loss, dup      float64 // per message during chaos
	minLat, maxLat int64   // ms
	chaosMS        int64   // chaos phase length
	partitions     bool
	crashes        bool
	spare          bool // an extra honest node governance may add and remove
	changeProb     float64
}

func (s simScenario) String() string {
	return fmt.Sprintf("n=%d byz=%d loss=%.2f dup=%.2f lat=%d-%dms chaos=%dms partitions=%v crashes=%v spare=%v",
		s.n, s.byz, s.loss, s.dup, s.minLat, s.maxLat, s.chaosMS, s.partitions, s.crashes, s.spare)
}

func chooseScenario(rng *rand.Rand) simScenario {
	sizes := []int{1, 2, 4, 7, 10}
	s := simScenario{n: sizes[rng.IntN(len(sizes))]}
	if f := chain.MaxFaulty(s.n); f > 0 {
		s.byz = rng.IntN(f + 1)
		if rng.IntN(2) == 0 {
			s.byz = f // the adversary at full strength half of the time
		}
	}
	s.loss = rng.Float64() * 0.3
	if rng.IntN(2) == 0 {
		s.dup = rng.Float64() * 0.2
	}
	s.minLat = 1 + rng.Int64N(10)
	s.maxLat = s.minLat + rng.Int64N(150)
	s.chaosMS = 1000 + rng.Int64N(5000)
	s.partitions = rng.IntN(2) == 0
	s.crashes = rng.IntN(2) == 0
	s.spare = rng.IntN(2) == 0
	s.changeProb = 0.2
	return s
}

// event kinds
const (
	evDeliver = iota
	evTimer
	evCatchupTick
	evCatchupReply
	evCrash
	evRestart
	evPartition
	evHeal
	evByzNoise
)

type simEvent struct {
	at   int64
	seq  uint64
	kind int
	node int
	inc  int // node incarnation for timers
	msg  *chain.Message
	tmr  consensus.Timer
	from int
	msgs []*chain.Message
}

type eventQueue []*simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simWorld is one run.
type simWorld struct {
	seed     uint64
	rng      *rand.Rand
	sc       simScenario
	now      int64
	seq      uint64
	queue    eventQueue
	nodes    []*simNode
	genesis  *chain.AuthoritySet
	spare    chain.Authority
	healed   bool
	loss     float64
	dup      float64
	check    *simChecker
	logf     func(format string, args ...any)
	events   int
	maxRound uint32
	restarts int
	// recoveryMS is the virtual time from the heal until every honest
	// node had decided two more heights.
	recoveryMS int64
	// proposalsSeen lists the block hashes proposed at (height, round),
	// which the (omniscient) Byzantine nodes use to split their votes.
	proposalsSeen map[[2]uint64][]chain.Hash
}

func (w *simWorld) noteProposal(p *chain.Proposal) {
	k := [2]uint64{p.Height, uint64(p.Round)}
	if !slices.Contains(w.proposalsSeen[k], p.BlockHash) {
		w.proposalsSeen[k] = append(w.proposalsSeen[k], p.BlockHash)
	}
}

const (
	simMaxEvents  = 3_000_000
	simLivenessMS = 60_000 // after the heal, every honest node must decide 2 more heights within this
)

func newSimWorld(seed uint64, logf func(string, ...any)) *simWorld {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_c0de))
	w := &simWorld{seed: seed, rng: rng, sc: chooseScenario(rng), now: 1000, logf: logf, proposalsSeen: map[[2]uint64][]chain.Hash{}}
	w.loss, w.dup = w.sc.loss, w.sc.dup
	auths := make([]chain.Authority, w.sc.n)
	for i := range auths {
		auths[i] = chain.Authority{Department: "dept-" + string(rune('a'+i)), PubKey: simKeys[i].Public()}
	}
	set, err := chain.NewAuthoritySet(auths)
	if err != nil {
		panic(err)
	}
	w.genesis = set
	w.spare = chain.Authority{Department: "dept-spare", PubKey: simKeys[w.sc.n].Public()}
	w.check = newSimChecker(w)
	total := w.sc.n
	if w.sc.spare {
		total++
	}
	for i := 0; i < total; i++ {
		nd := &simNode{w: w, id: i, key: simKeys[i], name: string(rune('A' + i))}
		if i >= w.sc.n-w.sc.byz && i < w.sc.n {
			nd.byz = newByzantine(rng)
			w.check.byzantine[nd.key.Public()] = true
		}
		if i == w.sc.n {
			nd.name = "S"
		}
		nd.app = newSimApp(w.genesis, w.spare)
		w.nodes = append(w.nodes, nd)
	}
	return w
}

func (w *simWorld) log(format string, args ...any) {
	if w.logf != nil {
		w.logf("%7d "+format, append([]any{w.now}, args...)...)
	}
}

func (w *simWorld) push(e *simEvent) {
	w.seq++
	e.seq = w.seq
	heap.Push(&w.queue, e)
}

func (w *simWorld) latency() int64 {
	return w.sc.minLat + w.rng.Int64N(w.sc.maxLat-w.sc.minLat+1)
}

func (w *simWorld) reachable(a, b *simNode) bool {
	return a.up && b.up && a.group == b.group
}

// send delivers m from a to b, subject to loss, duplication and latency.
func (w *simWorld) send(from, to *simNode, m *chain.Message) {
	if !w.reachable(from, to) || w.rng.Float64() < w.loss {
		return
	}
	w.push(&simEvent{at: w.now + w.latency(), kind: evDeliver, node: to.id, from: from.id, msg: m})
	if w.rng.Float64() < w.dup {
		w.push(&simEvent{at: w.now + w.latency(), kind: evDeliver, node: to.id, from: from.id, msg: m})
	}
}

func (w *simWorld) broadcast(from *simNode, m *chain.Message) {
	if m.Proposal != nil {
		w.noteProposal(m.Proposal)
	}
	for _, to := range w.nodes {
		if to != from {
			w.send(from, to, m)
		}
	}
}

// schedule sets up the chaos phase.
func (w *simWorld) schedule() {
	end := w.now + w.sc.chaosMS
	if w.sc.partitions {
		for t := w.now + w.rng.Int64N(1000); t < end; t += 300 + w.rng.Int64N(1500) {
			w.push(&simEvent{at: t, kind: evPartition})
		}
	}
	if w.sc.crashes {
		for t := w.now + w.rng.Int64N(1000); t < end; t += 200 + w.rng.Int64N(1500) {
			i := w.rng.IntN(len(w.nodes))
			if w.nodes[i].byz != nil {
				continue
			}
			w.push(&simEvent{at: t, kind: evCrash, node: i})
			w.push(&simEvent{at: t + 50 + w.rng.Int64N(2000), kind: evRestart, node: i})
		}
	}
	w.push(&simEvent{at: end, kind: evHeal})
	for _, nd := range w.nodes {
		w.push(&simEvent{at: w.now + 100 + w.rng.Int64N(300), kind: evCatchupTick, node: nd.id})
		if nd.byz != nil && nd.byz.noise {
			w.push(&simEvent{at: w.now + w.rng.Int64N(500), kind: evByzNoise, node: nd.id})
		}
	}
}

// run executes the scenario and returns the checker's verdict.
func (w *simWorld) run() {
	w.log("scenario %s", w.sc)
	for _, nd := range w.nodes {
		nd.start()
	}
	w.schedule()
	var healAt int64
	var target uint64
	for w.queue.Len() > 0 && !w.check.failed() {
		e := heap.Pop(&w.queue).(*simEvent)
		w.now = e.at
		w.events++
		if w.events > simMaxEvents {
			w.check.fail("event budget of %d exhausted at %dms", simMaxEvents, w.now)
			return
		}
		if w.healed {
			if w.honestMinDecided() >= target {
				w.recoveryMS = w.now - healAt
				return
			}
			if w.now > healAt+simLivenessMS {
				w.check.fail("liveness: healed at %dms with %d Byzantine of n=%d, honest nodes decided %v, want all ≥ %d by %dms; engines: %s",
					healAt, w.sc.byz, w.sc.n, w.decidedHeights(), target, healAt+simLivenessMS, w.statuses())
				return
			}
		}
		switch e.kind {
		case evHeal:
			w.heal()
			healAt = w.now
			target = w.honestMaxDecided() + 2
			w.log("heal: target height %d", target)
		default:
			w.handle(e)
		}
	}
	if !w.check.failed() {
		w.check.fail("event queue ran dry at %dms", w.now)
	}
}

func (w *simWorld) heal() {
	w.healed = true
	w.loss, w.dup = 0, w.sc.dup
	for _, nd := range w.nodes {
		nd.group = 0
		if !nd.up {
			nd.restart()
		}
	}
}

func (w *simWorld) handle(e *simEvent) {
	nd := w.nodes[e.node]
	switch e.kind {
	case evDeliver:
		if w.reachable(w.nodes[e.from], nd) {
			w.log("%s <- %s %s", nd.name, w.nodes[e.from].name, describe(e.msg))
			nd.step(e.msg)
		}
	case evTimer:
		if nd.up && nd.inc == e.inc {
			nd.eng.Timeout(e.tmr)
			nd.drain()
		}
	case evCatchupTick:
		nd.catchupTick()
		w.push(&simEvent{at: w.now + 200 + w.rng.Int64N(300), kind: evCatchupTick, node: nd.id})
	case evCatchupReply:
		if nd.up && w.reachable(w.nodes[e.from], nd) {
			nd.catchupReply(w.nodes[e.from], e.msgs)
		}
	case evCrash:
		if !w.healed && nd.up {
			nd.crash()
		}
	case evRestart:
		if !nd.up {
			nd.restart()
		}
	case evPartition:
		if !w.healed {
			for _, x := range w.nodes {
				x.group = w.rng.IntN(2)
			}
			w.log("partition %v", w.groups())
		}
	case evByzNoise:
		nd.byzNoise()
		w.push(&simEvent{at: w.now + 100 + w.rng.Int64N(400), kind: evByzNoise, node: nd.id})
	}
}

func (w *simWorld) groups() []int {
	g := make([]int, len(w.nodes))
	for i, nd := range w.nodes {
		g[i] = nd.group
	}
	return g
}

func (w *simWorld) honestMaxDecided() uint64 {
	var m uint64
	for _, nd := range w.nodes {
		if nd.byz == nil && nd.decided() > m {
			m = nd.decided()
		}
	}
	return m
}

func (w *simWorld) honestMinDecided() uint64 {
	m := ^uint64(0)
	for _, nd := range w.nodes {
		if nd.byz == nil && nd.decided() < m {
			m = nd.decided()
		}
	}
	return m
}

func (w *simWorld) decidedHeights() []uint64 {
	var out []uint64
	for _, nd := range w.nodes {
		out = append(out, nd.decided())
	}
	return out
}

// statuses describes every engine, for failure reports.
func (w *simWorld) statuses() string {
	var b strings.Builder
	for _, nd := range w.nodes {
		if !nd.up {
			fmt.Fprintf(&b, "%s:down ", nd.name)
			continue
		}
		st := nd.eng.Status()
		fmt.Fprintf(&b, "%s:%d/%d/%s(n=%d,locked=%d,valid=%d,signed=%+v) ", nd.name, st.Height, st.Round, st.Step, st.Authorities.Size(), st.LockedRound, st.ValidRound, nd.signState)
	}
	return b.String()
}
