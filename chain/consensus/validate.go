package consensus

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// judge computes the paper's valid(v) for a block at the current height,
// once per block hash: the engine's consensus fields first, then the
// Application. The block has passed ValidateBasic.
func (e *Engine) judge(b *chain.Block) *verdict {
	hash := b.Hash()
	if v, ok := e.verdicts[hash]; ok {
		return v
	}
	v := &verdict{err: e.checkConsensusFields(b)}
	if v.err == nil {
		v.next, v.err = e.app.ValidateBlock(b)
		if v.err != nil {
			v.err = fmt.Errorf("application: %w", v.err)
		}
	}
	if v.err == nil && v.next != nil {
		set, err := chain.NewAuthoritySet(v.next)
		if err != nil {
			v.err = fmt.Errorf("application scheduled an unusable authority set: %w", err)
		}
		v.nextSet = set
	}
	e.verdicts[hash] = v
	return v
}

// checkConsensusFields checks what the engine itself knows: the block
// extends our previous block at our height, names our authority set and
// carries a valid certificate of the previous block. The header's Proposer
// is not checked: a re-proposed block keeps the header of its first
// proposer.
func (e *Engine) checkConsensusFields(b *chain.Block) error {
	h := &b.Header
	switch {
	case h.ChainID != e.chainID:
		return fmt.Errorf("block for chain %q", h.ChainID)
	case h.Height != e.height:
		return fmt.Errorf("block height %d, want %d", h.Height, e.height)
	case h.PrevHash != e.prevHash:
		return fmt.Errorf("block %d extends %s, want %s", h.Height, h.PrevHash.Short(), e.prevHash.Short())
	case h.AuthoritySetHash != e.set.Hash():
		return fmt.Errorf("block %d names authority set %s, want %s", h.Height, h.AuthoritySetHash.Short(), e.set.Hash().Short())
	case len(b.Txs) > e.params.MaxBlockTxs:
		return fmt.Errorf("block %d has %d txs, limit %d", h.Height, len(b.Txs), e.params.MaxBlockTxs)
	case b.EncodedLen() > e.params.MaxBlockBytes:
		return fmt.Errorf("block %d is %d bytes, limit %d", h.Height, b.EncodedLen(), e.params.MaxBlockBytes)
	}
	if e.height == 1 {
		if b.LastCommit != nil {
			return fmt.Errorf("block 1 carries a last commit")
		}
		return nil
	}
	if b.LastCommit == nil {
		return fmt.Errorf("block %d carries no last commit", h.Height)
	}
	ch := b.LastCommit.Hash()
	if e.commitOK[ch] {
		return nil
	}
	if err := e.verifyLastCommit(b.LastCommit); err != nil {
		return fmt.Errorf("block %d last commit: %w", h.Height, err)
	}
	e.commitOK[ch] = true
	return nil
}

// verifyLastCommit checks a certificate of the previous block. Proposers
// carry their own certificate, usually made of precommits we counted
// ourselves (signatures the caller verified); when every signature is one
// of those, only the certificate's shape, signers and quorum are checked,
// otherwise Commit.Verify checks everything.
func (e *Engine) verifyLastCommit(c *chain.Commit) error {
	for _, s := range c.Signatures {
		if e.knownPrecommits[s.Validator] != s.Signature || c.Round != e.lastCommit.Round {
			return c.Verify(e.chainID, e.lastSet, e.height-1, e.prevHash)
		}
	}
	if err := c.ValidateBasic(); err != nil {
		return err
	}
	if c.Height != e.height-1 || c.BlockHash != e.prevHash {
		return fmt.Errorf("%w: certificate for %d/%s", chain.ErrInvalid, c.Height, c.BlockHash.Short())
	}
	if len(c.Signatures) < e.lastSet.Quorum() {
		return fmt.Errorf("%w: %d of %d needed", chain.ErrNoQuorum, len(c.Signatures), e.lastSet.Quorum())
	}
	for _, s := range c.Signatures {
		if !e.lastSet.Contains(s.Validator) {
			return fmt.Errorf("signer %s: %w", s.Validator.Short(), chain.ErrUnknownAuthority)
		}
	}
	return nil
}
