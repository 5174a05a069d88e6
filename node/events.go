package node

import (
	"sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// Event is one item on the finalized-events stream.
type Event struct {
	Kind    string      `json:"kind"` // "block" or "alert"
	Height  uint64      `json:"height"`
	Time    int64       `json:"time"`
	Hash    *chain.Hash `json:"hash,omitempty"`
	TxCount int         `json:"tx_count,omitempty"`
	// Round is the consensus round the block was decided in (block
	// events only; above 0 means at least one round change).
	Round    *uint32       `json:"round,omitempty"`
	TxHashes []chain.Hash  `json:"tx_hashes,omitempty"`
	Alert    *ledger.Alert `json:"alert,omitempty"`
}

// broker fans finalized events out to API subscribers. A subscriber that
// cannot keep up loses events (its channel is full) rather than slowing the
// consensus loop; it sees a gap in heights and can re-read blocks.
type broker struct {
	mu   sync.Mutex
	subs map[chan []Event]struct{}
}

func newBroker() *broker { return &broker{subs: make(map[chan []Event]struct{})} }

func (b *broker) subscribe() (chan []Event, func()) {
	ch := make(chan []Event, 256)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

func (b *broker) publish(evs []Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- evs:
		default:
		}
	}
}

func (b *broker) publishBlock(blk *chain.Block, c *chain.Commit, res *execResult) {
	b.mu.Lock()
	n := len(b.subs)
	b.mu.Unlock()
	if n == 0 {
		return
	}
	h := blk.Hash()
	round := c.Round
	evs := []Event{{Kind: "block", Height: blk.Height(), Time: blk.Header.Time, Hash: &h, TxCount: len(blk.Txs), Round: &round, TxHashes: res.hashes}}
	for i := range res.alerts {
		evs = append(evs, Event{Kind: "alert", Height: blk.Height(), Time: blk.Header.Time, Alert: &res.alerts[i]})
	}
	b.publish(evs)
}
