package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// updateVectors rewrites testdata/vectors.json from the current code. Use it
// only for a deliberate encoding change: every vector that moves is a
// consensus-breaking change for deployed nodes.
var updateVectors = flag.Bool("update", false, "rewrite testdata/vectors.json from the current encoding")

const vectorsFile = "vectors.json"

// vectorFile is the on-disk layout of the golden file. Values are lowercase
// hex of raw bytes.
type vectorFile struct {
	Comment string            `json:"comment"`
	Vectors map[string]string `json:"vectors"`
}

// computeVectors derives every pinned value from fixed seeds.
func computeVectors(t *testing.T) map[string]string {
	t.Helper()
	v := make(map[string]string)
	put := func(name string, b []byte) { v[name] = hex.EncodeToString(b) }

	keys := testKeys(4)
	for i, k := range keys {
		pub := k.Public()
		put("key."+testDepartments[i]+".public", pub[:])
	}
	put("sign_bytes.generic", SignBytes(DomainTx, testChainID, []byte("body")))

	tx := fixedTx()
	put("tx.encoding", tx.Encode())
	put("tx.sign_bytes", tx.SignBytes())
	put("tx.signature", tx.Signature[:])
	h := tx.Hash()
	put("tx.hash", h[:])
	put("tx.merkle_leaf", leafBytes(MerkleLeafHash(tx.Encode())))

	for _, typ := range []VoteType{Prevote, Precommit} {
		vote := signedVote(keys[2], typ, 9, 3, fixedHash(0x99))
		put("vote."+typ.String()+".encoding", vote.Encode())
		put("vote."+typ.String()+".sign_bytes", vote.SignBytes(testChainID))
		put("vote."+typ.String()+".signature", vote.Signature[:])
	}
	nilVote := signedVote(keys[3], Prevote, 9, 3, Hash{})
	put("vote.prevote_nil.encoding", nilVote.Encode())

	prop := signedProposal(keys[1], 9, 3, 1, fixedHash(0x99))
	put("proposal.encoding", prop.Encode())
	put("proposal.sign_bytes", prop.SignBytes(testChainID))
	put("proposal.signature", prop.Signature[:])

	block := testBlock(t, 3, 40)
	put("header.encoding", block.Header.Encode())
	bh := block.Hash()
	put("block.hash", bh[:])
	put("block.tx_root", block.Header.TxRoot[:])
	put("block.encoding", block.Encode())

	commit := block.LastCommit
	put("commit.encoding", commit.Encode())
	ch := commit.Hash()
	put("commit.hash", ch[:])

	dv := testDuplicateVote(keys[3])
	put("evidence.duplicate_vote.encoding", dv.Encode())
	dh := dv.Hash()
	put("evidence.duplicate_vote.hash", dh[:])
	cp := testConflictingProposal(keys[2])
	put("evidence.conflicting_proposal.encoding", cp.Encode())
	cph := cp.Hash()
	put("evidence.conflicting_proposal.hash", cph[:])
	eh := EvidenceHash([]Evidence{*dv, *cp})
	put("evidence.list_hash", eh[:])

	set, err := NewAuthoritySet(testAuthorities(keys))
	if err != nil {
		t.Fatal(err)
	}
	sh := set.Hash()
	put("authority_set.hash", sh[:])
	gh := testGenesis().Hash()
	put("genesis.hash", gh[:])

	for _, n := range []int{0, 1, 2, 3, 5, 8, 13} {
		leaves := make([]Hash, n)
		for i := range leaves {
			leaves[i] = MerkleLeafHash([]byte{byte(i)})
		}
		put("merkle.root."+strconv.Itoa(n), leafBytes(MerkleRoot(leaves)))
	}

	voteMsg := &Message{Vote: signedVote(keys[0], Precommit, 9, 3, fixedHash(0x99))}
	put("message.vote.encoding", voteMsg.Encode())
	proposalMsg := &Message{Proposal: signedProposal(keys[1], 5, 0, -1, block.Hash()), Block: block}
	put("message.proposal.encoding", proposalMsg.Encode())
	put("tx_list.encoding", EncodeTxs([]Tx{tx, tx}))
	return v
}

func leafBytes(h Hash) []byte { return h[:] }

func TestVectors(t *testing.T) {
	got := computeVectors(t)
	path := filepath.Join("testdata", vectorsFile)
	if *updateVectors {
		out, err := json.MarshalIndent(vectorFile{
			Comment: "Canonical encoding test vectors; regenerate only with: go test ./chain -run TestVectors -update",
			Vectors: got,
		}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d vectors to %s", len(got), path)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (regenerate with -update): %v", err)
	}
	var want vectorFile
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	names := make([]string, 0, len(got)+len(want.Vectors))
	for name := range got {
		names = append(names, name)
	}
	for name := range want.Vectors {
		if _, ok := got[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		g, w := got[name], want.Vectors[name]
		switch {
		case w == "":
			t.Errorf("%s: not in golden file (new vector? regenerate deliberately with -update)", name)
		case g == "":
			t.Errorf("%s: in golden file but no longer computed", name)
		case g != w:
			t.Errorf("%s changed: the canonical encoding is consensus-critical\n got %s\nwant %s", name, g, w)
		}
	}
}

// TestVectorLayout rebuilds some encodings by hand from the documented
// layout in doc.go, independently of the Encoder, so the golden file is not
// merely "whatever the code produced".
func TestVectorLayout(t *testing.T) {
	str := func(s string) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	tx := fixedTx()
	body := cat(tx.Account[:], u64(tx.Nonce), str(tx.Type), str(string(tx.Payload)))
	wantSign := cat(str("zwnode/sig/v1"), str("tx"), str(testChainID), body)
	if !bytes.Equal(tx.SignBytes(), wantSign) {
		t.Errorf("tx sign bytes do not follow the documented layout\n got %x\nwant %x", tx.SignBytes(), wantSign)
	}
	wantEnc := cat(str(testChainID), body, tx.Signature[:])
	if !bytes.Equal(tx.Encode(), wantEnc) {
		t.Errorf("tx encoding does not follow the documented layout")
	}
	if got, want := tx.Hash(), Hash(sha256.Sum256(wantEnc)); got != want {
		t.Errorf("tx hash %s, want SHA-256 of the encoding %s", got, want)
	}
	if len(wantEnc) != tx.EncodedLen() {
		t.Errorf("EncodedLen %d, encoding is %d bytes", tx.EncodedLen(), len(wantEnc))
	}

	key := testKey(3)
	vote := signedVote(key, Precommit, 9, 3, fixedHash(0x99))
	h := fixedHash(0x99)
	vbody := cat([]byte{2}, u64(9), binary.BigEndian.AppendUint32(nil, 3), h[:], vote.Validator[:])
	if want := cat(str("zwnode/sig/v1"), str("precommit"), str(testChainID), vbody); !bytes.Equal(vote.SignBytes(testChainID), want) {
		t.Errorf("precommit sign bytes do not follow the documented layout")
	}
	if want := cat(vbody, vote.Signature[:]); !bytes.Equal(vote.Encode(), want) || len(want) != VoteEncodedLen {
		t.Errorf("vote encoding does not follow the documented layout")
	}

	prop := signedProposal(key, 9, 3, -1, h)
	pbody := cat(u64(9), binary.BigEndian.AppendUint32(nil, 3), u64(^uint64(0)), h[:], prop.Proposer[:])
	if want := cat(pbody, prop.Signature[:]); !bytes.Equal(prop.Encode(), want) || len(want) != ProposalEncodedLen {
		t.Errorf("proposal encoding does not follow the documented layout (POLRound -1 is two's complement)")
	}

	b := testBlock(t, 2, 10)
	if got := b.Header.Encode(); len(got) != HeaderEncodedLen+len(testChainID) {
		t.Errorf("header encoding is %d bytes, want %d", len(got), HeaderEncodedLen+len(testChainID))
	}
	if got, want := b.Hash(), HashBytes(b.Header.Encode()); got != want {
		t.Errorf("block hash is not SHA-256 of the encoded header")
	}
}
