package p2p

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"golang.org/x/time/rate"

	"github.com/zwnode/zwnode/chain"
)

// SyncStatus is what a peer reports about its chain.
type SyncStatus struct {
	Height uint64
	Head   chain.Hash
}

// CertifiedBlock is a finalized block with the certificate that finalizes
// it (Commit.Height == Block.Height).
type CertifiedBlock struct {
	Block  *chain.Block
	Commit *chain.Commit
}

// SyncSource is what this node serves to peers catching up. The node
// implements it; calls come from stream-handler goroutines.
type SyncSource interface {
	// Status reports the latest finalized height and block hash.
	Status() SyncStatus
	// RawCertified returns the canonical encodings of the finalized block
	// at height h and of its certificate, as stored; ok is false if h is
	// above the head. The server sends them as they are: the client
	// decodes and verifies everything, and a node serving a catch-up
	// should not pay for decoding and encoding again blocks of several MB.
	RawCertified(h uint64) (block, commit []byte, ok bool, err error)
	// CurrentMessages returns the current height's proposal(s) and votes.
	CurrentMessages() []*chain.Message
}

// ProposalTxSource is an optional extension of SyncSource: it serves the
// transactions of a block proposed at the current height to a peer that
// received the proposal in compact form and lacks some of them.
type ProposalTxSource interface {
	// ProposalTxs returns the transactions at the given indexes of the
	// proposed block with this hash; ok is false if the block is not
	// known (any more). Indexes are below the block's tx count.
	ProposalTxs(block chain.Hash, idx []uint32) (txs []chain.Tx, ok bool)
}

// Sync protocol bounds.
const (
	// MaxBlocksPerResponse and maxResponseBytes bound one blocks response;
	// the client asks again for the rest.
	MaxBlocksPerResponse = 256
	maxResponseBytes     = 8 << 20
	// maxRequestBytes fits a proposal-txs request for every tx of the
	// largest block; other requests are a few bytes.
	maxRequestBytes = 1 + chain.HashSize + 4 + 4*chain.MaxBlockTxs
	// maxFrameBytes caps one frame: the largest block plus its commit.
	maxFrameBytes     = chain.MaxBlockBytes + 64<<10
	syncTimeout       = 30 * time.Second
	maxServing        = 8
	perPeerRate       = 50
	perPeerBurst      = 100
	maxCurrentMsgs    = 4096
	limiterMapCleanup = 1024
	// admitWait is how long a request may queue for its rate token and a
	// serving slot before it is refused.
	admitWait = 5 * time.Second
)

// Request kinds.
const (
	reqStatus      = 1
	reqBlocks      = 2
	reqCurrent     = 3
	reqProposalTxs = 4
)

// Response status codes (first frame of every response).
const (
	respOK    = 0
	respError = 1
)

var reqNames = map[uint8]string{reqStatus: "status", reqBlocks: "blocks", reqCurrent: "current", reqProposalTxs: "proposal_txs"}

// syncServer answers sync requests within rate bounds: at most maxServing
// at once, and a token bucket per peer (perPeerRate requests a second).
type syncServer struct {
	n       *Host
	slots   chan struct{}
	mu      sync.Mutex
	buckets map[peer.ID]*rate.Limiter
}

func newSyncServer(n *Host) *syncServer {
	return &syncServer{n: n, slots: make(chan struct{}, maxServing), buckets: make(map[peer.ID]*rate.Limiter)}
}

// admit waits (briefly) for the peer's token bucket and a serving slot, so
// a fast client is slowed down rather than failed. It returns a release
// function, or false when the wait would be too long.
func (s *syncServer) admit(p peer.ID) (func(), bool) {
	s.mu.Lock()
	l := s.buckets[p]
	if l == nil {
		if len(s.buckets) >= limiterMapCleanup {
			clear(s.buckets) // only admitted peers get here; never grows large
		}
		l = rate.NewLimiter(perPeerRate, perPeerBurst)
		s.buckets[p] = l
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.n.ctx, admitWait)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		return nil, false
	}
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, true
	case <-ctx.Done():
		return nil, false
	}
}

func (s *syncServer) handle(st network.Stream) {
	remote := st.Conn().RemotePeer()
	// The gater already refused strangers; this catches a peer removed
	// while its connection was still open.
	if s.n.adm.load().role(remote) == RoleNone {
		_ = st.Reset()
		return
	}
	_ = st.SetDeadline(time.Now().Add(syncTimeout))
	r := msgio.NewVarintReaderSize(st, maxRequestBytes)
	req, err := r.ReadMsg()
	if err != nil {
		_ = st.Reset()
		return
	}
	d := chain.NewDecoder(req)
	kind := d.Uint8()
	w := msgio.NewVarintWriter(st)
	release, ok := s.admit(remote)
	if !ok {
		s.n.ctrs.countSync(reqNames[kind], "refused")
		s.fail(st, w, "busy: rate limited")
		return
	}
	defer release()
	switch kind {
	case reqStatus:
		err = s.status(w, d)
	case reqBlocks:
		err = s.blocks(w, d)
	case reqCurrent:
		err = s.current(w, d)
	case reqProposalTxs:
		err = s.proposalTxs(w, d)
	default:
		err = fmt.Errorf("unknown request kind %d", kind)
	}
	if err != nil {
		s.n.log.Debug("sync request failed", "peer", remote, "err", err)
		s.fail(st, w, err.Error())
		return
	}
	s.n.ctrs.countSync(reqNames[kind], "served")
	_ = st.Close()
}

// fail sends an error frame and closes; if even that fails, resets.
func (s *syncServer) fail(st network.Stream, w msgio.WriteCloser, why string) {
	e := chain.NewEncoder(8 + len(why))
	e.Uint8(respError)
	e.String(why)
	if err := w.WriteMsg(e.Bytes()); err != nil {
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

func writeOK(w msgio.WriteCloser) error { return w.WriteMsg([]byte{respOK}) }

func (s *syncServer) status(w msgio.WriteCloser, d *chain.Decoder) error {
	if err := d.Finish(); err != nil {
		return err
	}
	st := s.n.src.Status()
	if err := writeOK(w); err != nil {
		return err
	}
	e := chain.NewEncoder(8 + chain.HashSize)
	e.Uint64(st.Height)
	e.Raw(st.Head[:])
	return w.WriteMsg(e.Bytes())
}

// blocks answers a range with as many blocks as fit in one response,
// reading each only when it is about to be sent: a response is at most
// ~8 MiB whatever range a peer asks for, and so is what the server holds
// for it. The first block is read before answering, so a failed read is
// an error response; a read failing later ends the response early (the
// client asks again from there).
func (s *syncServer) blocks(w msgio.WriteCloser, d *chain.Decoder) error {
	from, to := d.Uint64(), d.Uint64()
	if err := d.Finish(); err != nil {
		return err
	}
	if from == 0 || to < from {
		return fmt.Errorf("bad range %d..%d", from, to)
	}
	to = min(to, from+MaxBlocksPerResponse-1)
	frame, ok, err := s.certifiedFrame(from)
	if err != nil {
		return err
	}
	if err := writeOK(w); err != nil {
		return err
	}
	sent := 0
	for h := from; h <= to; h++ {
		if h > from {
			if frame, ok, err = s.certifiedFrame(h); err != nil {
				s.n.log.Debug("sync: ending a blocks response early", "height", h, "err", err)
				break
			}
		}
		if !ok || (h > from && sent+len(frame) > maxResponseBytes) {
			break
		}
		if err := w.WriteMsg(frame); err != nil {
			return err
		}
		sent += len(frame)
	}
	return nil
}

// certifiedFrame reads the block at h and its certificate as one frame.
func (s *syncServer) certifiedFrame(h uint64) ([]byte, bool, error) {
	b, c, ok, err := s.n.src.RawCertified(h)
	if err != nil || !ok {
		return nil, ok, err
	}
	return frameCertified(b, c), true, nil
}

func (s *syncServer) current(w msgio.WriteCloser, d *chain.Decoder) error {
	if err := d.Finish(); err != nil {
		return err
	}
	msgs := s.n.src.CurrentMessages()
	if err := writeOK(w); err != nil {
		return err
	}
	for i, m := range msgs {
		if i >= maxCurrentMsgs {
			break
		}
		if err := w.WriteMsg(m.Encode()); err != nil {
			return err
		}
	}
	return nil
}

// frameCertified frames the encodings of a block and its certificate:
// bytes(block) ‖ bytes(commit).
func frameCertified(b, c []byte) []byte {
	e := chain.NewEncoder(8 + len(b) + len(c))
	e.ByteString(b)
	e.ByteString(c)
	return e.Bytes()
}

// decodeCertified decodes a frame. The block and certificate are decoded
// from the frame in place (decoding copies what it keeps).
func decodeCertified(frame []byte) (CertifiedBlock, error) {
	d := chain.NewDecoder(frame)
	bb := d.ByteStringView(maxFrameBytes)
	cb := d.ByteStringView(maxFrameBytes)
	if err := d.Finish(); err != nil {
		return CertifiedBlock{}, err
	}
	b, err := chain.DecodeBlock(bb)
	if err != nil {
		return CertifiedBlock{}, err
	}
	c, err := chain.DecodeCommit(cb)
	if err != nil {
		return CertifiedBlock{}, err
	}
	return CertifiedBlock{Block: b, Commit: c}, nil
}

// request opens a sync stream, sends req, half-closes, and feeds every
// response frame after the status frame to each. The stream is reset only on
// failure: resetting after a clean close truncates the peer's response on
// QUIC.
func (n *Host) request(ctx context.Context, p peer.ID, req []byte, each func([]byte) error) (err error) {
	if n.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	st, err := n.h.NewStream(ctx, p, n.syncProtocol())
	if err != nil {
		return fmt.Errorf("%w: open stream to %s: %w", ErrSync, p, err)
	}
	defer func() {
		if err != nil {
			_ = st.Reset()
		} else {
			_ = st.Close()
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	if err := msgio.NewVarintWriter(st).WriteMsg(req); err != nil {
		return fmt.Errorf("%w: send request to %s: %w", ErrSync, p, err)
	}
	if err := st.CloseWrite(); err != nil {
		return fmt.Errorf("%w: close write to %s: %w", ErrSync, p, err)
	}
	r := msgio.NewVarintReaderSize(st, maxFrameBytes)
	head, err := r.ReadMsg()
	if err != nil {
		return fmt.Errorf("%w: read response from %s: %w", ErrSync, p, err)
	}
	if len(head) == 0 || head[0] != respOK {
		d := chain.NewDecoder(head)
		d.Uint8()
		why := d.String(1024)
		return fmt.Errorf("%w: %s refused: %q", ErrSync, p, why)
	}
	for {
		frame, err := r.ReadMsg()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: read response from %s: %w", ErrSync, p, err)
		}
		err = each(frame)
		r.ReleaseMsg(frame)
		if err != nil {
			return err
		}
	}
}

// FetchStatus asks p for its latest finalized height and hash.
func (n *Host) FetchStatus(ctx context.Context, p peer.ID) (SyncStatus, error) {
	var st SyncStatus
	got := false
	err := n.request(ctx, p, []byte{reqStatus}, func(f []byte) error {
		d := chain.NewDecoder(f)
		st.Height = d.Uint64()
		d.Raw(st.Head[:])
		if err := d.Finish(); err != nil || got {
			return fmt.Errorf("%w: bad status frame from %s", ErrSync, p)
		}
		got = true
		return nil
	})
	if err == nil && !got {
		err = fmt.Errorf("%w: empty status from %s", ErrSync, p)
	}
	return st, err
}

// FetchCurrent asks p for the current height's proposal(s) and votes. Each
// is checked as a gossiped one would be (basic checks, signer a current
// authority, signature); a peer that sends an invalid one is penalised and
// disconnected, and the call fails with ErrVerify.
func (n *Host) FetchCurrent(ctx context.Context, p peer.ID) ([]*chain.Message, error) {
	var out []*chain.Message
	err := n.requestChecked(ctx, p, []byte{reqCurrent}, func(f []byte) error {
		if len(out) >= maxCurrentMsgs {
			return fmt.Errorf("%w: more than %d current messages from %s", ErrVerify, maxCurrentMsgs, p)
		}
		m, err := chain.DecodeMessage(f)
		if err == nil {
			err = m.ValidateBasic()
		}
		if err == nil {
			err = n.checkConsensusSigned(m)
		}
		if err != nil {
			return fmt.Errorf("%w: current message from %s: %w", ErrVerify, p, err)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// requestChecked is request for callers that check every frame: an error
// from each refuses the frame and is the peer's fault (it must wrap
// ErrVerify), so the peer is penalised and disconnected and that error
// returned. Transport and protocol failures are returned as request
// returns them, without a penalty.
func (n *Host) requestChecked(ctx context.Context, p peer.ID, req []byte, each func([]byte) error) error {
	var bad error
	err := n.request(ctx, p, req, func(f []byte) error {
		if err := each(f); err != nil {
			bad = err
			return err
		}
		return nil
	})
	if bad != nil {
		n.punish(p, bad)
		return bad
	}
	return err
}

// checkConsensusSigned checks what ValidateBasic does not: the signer is a
// current authority, the block is for our chain, the signature verifies.
func (n *Host) checkConsensusSigned(m *chain.Message) error {
	if _, ok := n.adm.load().keys[m.Signer()]; !ok {
		return fmt.Errorf("signer %s: %w", m.Signer().Short(), chain.ErrUnknownAuthority)
	}
	if id := m.ChainID(); m.Vote == nil && id != n.cfg.ChainID {
		return fmt.Errorf("block: %w: %q", chain.ErrWrongChain, id)
	}
	return m.VerifySignature(n.cfg.ChainID)
}

// FetchBlocks downloads blocks from..to from p in bounded batches, calling
// verify on each in order. On the first block that fails to decode, is out
// of order or fails verify, the peer is penalised and disconnected, and the
// blocks verified so far are returned with an error wrapping ErrVerify. A
// peer that runs out of blocks before to yields the prefix and ErrSync.
func (n *Host) FetchBlocks(ctx context.Context, p peer.ID, from, to uint64, verify func(CertifiedBlock) error) ([]CertifiedBlock, error) {
	if from == 0 || to < from {
		return nil, fmt.Errorf("%w: bad range %d..%d", ErrSync, from, to)
	}
	out := make([]CertifiedBlock, 0, min(to-from+1, 1<<16))
	for next := from; next <= to; {
		got, err := n.FetchBlocksOnce(ctx, p, next, to, verify)
		out = append(out, got...)
		if err != nil {
			return out, err
		}
		next += uint64(len(got))
	}
	return out, nil
}

// FetchBlocksOnce is one request of FetchBlocks: it returns the blocks
// from..to that p sends in one response (at least one, at most
// MaxBlocksPerResponse and about 8 MiB), so a caller can start on them
// while it asks for the rest. Errors are as for FetchBlocks.
func (n *Host) FetchBlocksOnce(ctx context.Context, p peer.ID, from, to uint64, verify func(CertifiedBlock) error) ([]CertifiedBlock, error) {
	if from == 0 || to < from {
		return nil, fmt.Errorf("%w: bad range %d..%d", ErrSync, from, to)
	}
	to = min(to, from+MaxBlocksPerResponse-1)
	var out []CertifiedBlock
	e := chain.NewEncoder(17)
	e.Uint8(reqBlocks)
	e.Uint64(from)
	e.Uint64(to)
	next := from
	err := n.requestChecked(ctx, p, e.Bytes(), func(f []byte) error {
		if next > to {
			return fmt.Errorf("%w: %s sent blocks beyond %d", ErrVerify, p, to)
		}
		cb, err := decodeCertified(f)
		if err == nil && (cb.Block.Height() != next || cb.Commit.Height != next) {
			err = fmt.Errorf("got block %d, want %d", cb.Block.Height(), next)
		}
		if err == nil {
			err = verify(cb)
		}
		if err != nil {
			return fmt.Errorf("%w: block %d from %s: %w", ErrVerify, next, p, err)
		}
		out = append(out, cb)
		next++
		return nil
	})
	if err != nil {
		return out, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no blocks from %d", ErrSync, p, from)
	}
	return out, nil
}

// punish lowers p's score and drops its connections. An authority is
// redialled later by the reconnect loop; its lowered score keeps it out of
// our mesh meanwhile.
func (n *Host) punish(p peer.ID, why error) {
	n.log.Warn("peer served invalid sync data; disconnecting", "peer", p, "err", why)
	n.penalties.add(p, syncPenalty)
	_ = n.h.Network().ClosePeer(p)
}

// SyncPenalty returns the application-level penalty currently held against p
// (after decay), 0 if none.
func (n *Host) SyncPenalty(p peer.ID) float64 { return -n.penalties.score(p) }
