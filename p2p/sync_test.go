package p2p

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

var (
	chain1000Once sync.Once
	chain1000Set  *testChainSet
	chain1000     []CertifiedBlock
)

// sharedChain builds 1,000 certified blocks once per test binary.
func sharedChain(t *testing.T) (*testChainSet, []CertifiedBlock) {
	chain1000Once.Do(func() {
		chain1000Set = newTestChainSet(t, 4)
		chain1000 = chain1000Set.buildChain(t, 1000, 2)
	})
	return chain1000Set, chain1000
}

// forge returns a copy of blocks whose certificate at height h carries a
// signature that does not verify.
func forge(blocks []CertifiedBlock, h uint64) []CertifiedBlock {
	out := append([]CertifiedBlock(nil), blocks...)
	c := *out[h-1].Commit
	c.Signatures = append([]chain.CommitSig(nil), c.Signatures...)
	c.Signatures[1].Signature[7] ^= 0x40
	out[h-1] = CertifiedBlock{Block: out[h-1].Block, Commit: &c}
	return out
}

// A node that joins late catches up on 1,000 certified blocks, and refuses
// a range with one forged certificate, disconnecting the peer that sent it.
func TestLateJoinerSyncsAndRejectsForgedCertificate(t *testing.T) {
	cs, blocks := sharedChain(t)
	auths := publicKeys(cs.keys)
	honest := startNode(t, cs.keys[0], nodeOpts{authorities: auths, src: &source{blocks: blocks}, quic: true})
	forger := startNode(t, cs.keys[1], nodeOpts{authorities: auths, src: &source{blocks: forge(blocks, 500)}, bootstrap: addrStrings(honest)})
	late := startNode(t, cs.keys[2], nodeOpts{authorities: auths, bootstrap: append(addrStrings(honest), addrStrings(forger)...)})
	waitFor(t, "late joiner connected", func() bool {
		return connected(late.Host, honest.ID()) && connected(late.Host, forger.ID())
	})
	ctx := context.Background()

	st, err := late.FetchStatus(ctx, honest.ID())
	if err != nil || st.Height != 1000 {
		t.Fatalf("status %+v, %v", st, err)
	}
	got, err := late.FetchBlocks(ctx, honest.ID(), 1, st.Height, cs.verifier())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 || got[999].Block.Hash() != st.Head {
		t.Fatalf("fetched %d blocks", len(got))
	}
	if served := honest.Stats().SyncServed; served < 1+1000/MaxBlocksPerResponse {
		t.Fatalf("honest node served %d requests, want at least %d", served, 1+1000/MaxBlocksPerResponse)
	}

	disconnected := make(chan struct{}, 1)
	late.h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == forger.ID() {
			select {
			case disconnected <- struct{}{}:
			default:
			}
		}
	}})
	got, err = late.FetchBlocks(ctx, forger.ID(), 1, 1000, cs.verifier())
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("forged range: got %v, want ErrVerify", err)
	}
	if len(got) != 499 {
		t.Fatalf("returned %d verified blocks before the forgery, want 499", len(got))
	}
	waitFor(t, "forger disconnected", func() bool {
		select {
		case <-disconnected:
			return true
		default:
			return false
		}
	})
	if p := late.SyncPenalty(forger.ID()); p <= 0 {
		t.Fatalf("forger not penalised: %v", p)
	}
	if p := late.SyncPenalty(honest.ID()); p != 0 {
		t.Fatalf("honest peer penalised: %v", p)
	}
}

func TestFetchCurrentAndBadRanges(t *testing.T) {
	keys := authorityKeys(2)
	prop := seedKey("authority-0")
	vote := signedVote(testChain, prop, 7, 1)
	src := &source{cur: []*chain.Message{{Vote: vote}}}
	nodes := startCluster(t, keys, nodeOpts{src: src})
	ctx := context.Background()
	msgs, err := nodes[1].FetchCurrent(ctx, nodes[0].ID())
	if err != nil || len(msgs) != 1 || *msgs[0].Vote != *vote {
		t.Fatalf("current: %v, %v", msgs, err)
	}
	if _, err := nodes[1].FetchBlocks(ctx, nodes[0].ID(), 0, 5, nil); !errors.Is(err, ErrSync) {
		t.Fatalf("range from 0: %v", err)
	}
	if _, err := nodes[1].FetchBlocks(ctx, nodes[0].ID(), 9, 5, nil); !errors.Is(err, ErrSync) {
		t.Fatalf("inverted range: %v", err)
	}
	// The peer has no blocks: an error, not a hang or an empty success.
	if got, err := nodes[1].FetchBlocks(ctx, nodes[0].ID(), 1, 5, func(CertifiedBlock) error { return nil }); !errors.Is(err, ErrSync) || len(got) != 0 {
		t.Fatalf("empty peer: %d blocks, %v", len(got), err)
	}
	if _, err := nodes[1].FetchStatus(ctx, peer.ID("nobody")); !errors.Is(err, ErrSync) {
		t.Fatalf("unknown peer: %v", err)
	}
}

// A blocks response stops at about 8 MiB whatever range is asked for,
// and the server reads only the blocks it sends (and the one that did not
// fit); a read failing after the first block ends the response early.
func TestBlocksResponseReadsWhatItSends(t *testing.T) {
	cs := newTestChainSet(t, 4)
	blocks := cs.buildChainPayload(t, 12, 150, 8000) // ~1.2 MB each
	src := &source{blocks: blocks}
	auths := publicKeys(cs.keys)
	server := startNode(t, cs.keys[0], nodeOpts{authorities: auths, src: src})
	client := startNode(t, cs.keys[1], nodeOpts{authorities: auths, bootstrap: addrStrings(server)})
	waitFor(t, "client connected", func() bool { return connected(client.Host, server.ID()) })
	ctx := context.Background()

	got, err := client.FetchBlocksOnce(ctx, server.ID(), 1, 12, cs.verifier())
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, cb := range got {
		size += cb.Block.EncodedLen()
	}
	if len(got) == 0 || len(got) >= 12 || size > maxResponseBytes {
		t.Fatalf("one response carried %d blocks, %d bytes; want a prefix within %d bytes", len(got), size, maxResponseBytes)
	}
	if reads := src.readCount(); reads != len(got)+1 {
		t.Fatalf("server read %d blocks to send %d", reads, len(got))
	}

	src.mu.Lock()
	src.failAt, src.reads = 3, 0
	src.mu.Unlock()
	got, err = client.FetchBlocksOnce(ctx, server.ID(), 1, 12, cs.verifier())
	if err != nil || len(got) != 2 {
		t.Fatalf("read failing at 3: %d blocks, %v; want blocks 1 and 2", len(got), err)
	}
	if _, err := client.FetchBlocksOnce(ctx, server.ID(), 3, 12, cs.verifier()); !errors.Is(err, ErrSync) {
		t.Fatalf("read failing at the first block asked for: %v, want an error response", err)
	}
}

func TestCertifiedFrameRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0, 0, 0, 5, 1}, make([]byte, 64)} {
		if _, err := decodeCertified(b); err == nil {
			t.Fatalf("decoded garbage %x", b)
		}
	}
}

// A peer serving a badly signed current vote is penalised.
func TestFetchCurrentRejectsForgedVote(t *testing.T) {
	keys := authorityKeys(2)
	v := signedVote(testChain, keys[0], 7, 1)
	v.Signature[3] ^= 1
	nodes := startCluster(t, keys, nodeOpts{src: &source{cur: []*chain.Message{{Vote: v}}}})
	if _, err := nodes[1].FetchCurrent(context.Background(), nodes[0].ID()); !errors.Is(err, ErrVerify) {
		t.Fatalf("got %v, want ErrVerify", err)
	}
	if nodes[1].SyncPenalty(nodes[0].ID()) <= 0 {
		t.Fatalf("peer not penalised")
	}
}
