package node

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// Signed API requests prove which account is asking. The header is
//
//	Authorization: ZW <account public key, base64>:<unix ms>:<signature, base64>
//
// where the signature is ed25519 over
// SignBytes("api-auth", chainID, str(method) ‖ str(path with query) ‖ u64(unix ms) ‖ SHA-256(body)).
// The body hash (of the empty string for GET) stops a captured header from
// being reused with another body.
// The time must be within authSkew of the node's clock, so a captured
// header is only good for a short while.
const authSkew = 5 * time.Minute

// AuthSignBytes returns the bytes a client signs for a request.
func AuthSignBytes(chainID, method, pathAndQuery string, unixMS int64, body []byte) []byte {
	e := chain.NewEncoder(len(method) + len(pathAndQuery) + 48)
	e.String(method)
	e.String(pathAndQuery)
	e.Int64(unixMS)
	bh := chain.HashBytes(body)
	e.Raw(bh[:])
	return chain.SignBytes(chain.DomainAPIAuth, chainID, e.Bytes())
}

// AuthHeader builds the Authorization header value for a request.
func AuthHeader(chainID string, key *chain.PrivateKey, method, pathAndQuery string, body []byte, now time.Time) string {
	ms := now.UnixMilli()
	sig := key.Sign(AuthSignBytes(chainID, method, pathAndQuery, ms, body))
	return fmt.Sprintf("ZW %s:%d:%s", key.Public(), ms, base64.StdEncoding.EncodeToString(sig[:]))
}

var errNoAuth = errors.New("this endpoint needs a request signed by an account key (Authorization: ZW <key>:<unix ms>:<signature>)")

// authenticate checks the request's signature over its body (nil for
// GET) and returns the active account that signed it.
func (n *Node) authenticate(r *http.Request, body []byte) (*ledger.Account, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errNoAuth
	}
	rest, ok := strings.CutPrefix(h, "ZW ")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 {
		return nil, errors.New("authorization header is not ZW <key>:<unix ms>:<signature>")
	}
	pk, err := chain.ParsePublicKey(parts[0])
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("authorization: time %q is not unix milliseconds", parts[1])
	}
	if d := time.Since(time.UnixMilli(ms)); d > authSkew || d < -authSkew {
		return nil, fmt.Errorf("authorization: signed at %s, more than %s from this node's clock", time.UnixMilli(ms).UTC().Format(time.RFC3339), authSkew)
	}
	var sig chain.Signature
	if err := sig.UnmarshalText([]byte(parts[2])); err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	if !pk.Verify(AuthSignBytes(n.chainID, r.Method, r.URL.RequestURI(), ms, body), sig) {
		return nil, fmt.Errorf("authorization: %w", chain.ErrBadSignature)
	}
	acct, err := n.ledger.Account(n.stateKV(), pk)
	if err != nil {
		return nil, fmt.Errorf("authorization: account %s: %w", pk.Short(), err)
	}
	if !acct.Active {
		return nil, fmt.Errorf("authorization: account %s was removed", pk.Short())
	}
	return acct, nil
}
