package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node"
	"github.com/zwnode/zwnode/node/keyfile"
)

// defaultAPI is where the client commands look for a node unless --api says
// otherwise: the default api.listen of a node on the same machine.
const defaultAPI = "http://127.0.0.1:7480"

// maxResponse bounds what the client reads from a node: a record history or
// a block is well below this.
const maxResponse = 64 << 20

// errNoKey is returned when a command needs an account key and none was given.
var errNoKey = errors.New("this command signs with an account key: give --key FILE (create one with `zwnode keys new FILE`)")

// errTxFailed means a transaction was included in a block but its result
// code was not 0, so it changed nothing but its nonce.
var errTxFailed = errors.New("transaction failed")

// errTxDropped means a submitted transaction is no longer known to the
// node and was not finalized.
var errTxDropped = errors.New("the node no longer knows this transaction and has not finalized it (dropped from its mempool)")

// apiError is an error response of the node API, shown as
// "code: message (field)".
type apiError struct {
	Status int
	node.APIError
}

func (e *apiError) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	return s
}

// apiClient talks to one node's HTTP API on behalf of one (optional)
// account key. It caches the chain id, which a node never changes.
type apiClient struct {
	base    string
	http    *http.Client
	key     *chain.PrivateKey
	chainID string
	// poll is the interval between transaction status checks with --wait.
	poll time.Duration
}

func newAPIClient(base string, key *chain.PrivateKey) *apiClient {
	return &apiClient{
		base: strings.TrimRight(base, "/"),
		http: &http.Client{Timeout: 30 * time.Second},
		key:  key,
		poll: 200 * time.Millisecond,
	}
}

// loadAccountKey reads an account key file (node/keyfile format); an empty
// path means no key.
func loadAccountKey(path string) (*chain.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	k, err := keyfile.Load(path)
	if err != nil {
		return nil, fmt.Errorf("account key: %w", err)
	}
	return k.Chain(), nil
}

// do sends one request. When signed, it adds the Authorization header the
// node checks (node.AuthHeader) over the exact path and query sent.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, signed bool, out any) error {
	u, err := url.Parse(c.base + path)
	if err != nil {
		return fmt.Errorf("api url %q: %w", c.base+path, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if signed {
		if c.key == nil {
			return errNoKey
		}
		chainID, err := c.ChainID(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", node.AuthHeader(chainID, c.key, method, u.RequestURI(), body, time.Now()))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach node API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("read %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		ae := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, &ae.APIError) != nil || ae.Code == "" {
			ae.Code = fmt.Sprintf("http_%d", resp.StatusCode)
			ae.Message = strings.TrimSpace(string(data))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// Get fetches path and decodes its JSON body into out.
func (c *apiClient) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, false, out)
}

// GetSigned is Get with a signed request.
func (c *apiClient) GetSigned(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, true, out)
}

// ChainID returns the node's chain id from /v1/status.
func (c *apiClient) ChainID(ctx context.Context) (string, error) {
	if c.chainID != "" {
		return c.chainID, nil
	}
	var st node.Status
	if err := c.Get(ctx, "/v1/status", &st); err != nil {
		return "", fmt.Errorf("chain id: %w", err)
	}
	if st.ChainID == "" {
		return "", errors.New("chain id: node reported none")
	}
	c.chainID = st.ChainID
	return st.ChainID, nil
}

// Account returns the client key's account with its next nonce.
func (c *apiClient) Account(ctx context.Context) (*node.AccountView, error) {
	if c.key == nil {
		return nil, errNoKey
	}
	pk := c.key.Public()
	var acct node.AccountView
	if err := c.Get(ctx, "/v1/accounts/"+hex.EncodeToString(pk[:]), &acct); err != nil {
		return nil, fmt.Errorf("account %s: %w", pk.Short(), err)
	}
	if acct.Account == nil {
		return nil, fmt.Errorf("account %s: node returned no account", pk.Short())
	}
	return &acct, nil
}

// Pseudonym asks the node to turn a resident ID number into a person
// subject. The number only travels in this signed request body.
func (c *apiClient) Pseudonym(ctx context.Context, residentID string) (string, error) {
	body, err := json.Marshal(map[string]string{"resident_id": residentID})
	if err != nil {
		return "", err
	}
	var resp struct {
		Subject string `json:"subject"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/pseudonym", body, true, &resp); err != nil {
		return "", fmt.Errorf("pseudonym: %w", err)
	}
	return resp.Subject, nil
}

// BuildTx makes a signed transaction of type txType carrying payload as
// JSON, with the chain id and the account's next nonce from the node.
func (c *apiClient) BuildTx(ctx context.Context, txType string, payload any) (*chain.Tx, error) {
	if c.key == nil {
		return nil, errNoKey
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", txType, err)
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	acct, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	if !acct.Active {
		return nil, fmt.Errorf("account %s of %s was removed; it can no longer sign transactions", acct.PubKey.Short(), acct.Department)
	}
	tx := &chain.Tx{ChainID: chainID, Nonce: acct.NextNonce, Type: txType, Payload: body}
	tx.Sign(c.key)
	return tx, nil
}

// SubmitTx posts a signed transaction and returns its hash.
func (c *apiClient) SubmitTx(ctx context.Context, tx *chain.Tx) (chain.Hash, error) {
	body, err := json.Marshal(tx)
	if err != nil {
		return chain.Hash{}, err
	}
	var resp struct {
		Hash chain.Hash `json:"hash"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/txs", body, false, &resp); err != nil {
		return chain.Hash{}, fmt.Errorf("submit %s: %w", tx.Type, err)
	}
	if want := tx.Hash(); resp.Hash != want {
		return chain.Hash{}, fmt.Errorf("submit %s: node answered hash %s, want %s", tx.Type, resp.Hash, want)
	}
	return resp.Hash, nil
}

// txState is GET /v1/txs/{hash} with the ledger result decoded.
type txState struct {
	Hash   chain.Hash `json:"hash"`
	Status string     `json:"status"`
	Height uint64     `json:"height,omitempty"`
	Index  uint32     `json:"index,omitempty"`
	Result *struct {
		Code    uint32 `json:"code"`
		Message string `json:"message,omitempty"`
	} `json:"result,omitempty"`
}

// code is the ledger result code of a finalized transaction.
func (s *txState) code() uint32 {
	if s.Result == nil {
		return 0
	}
	return s.Result.Code
}

func (s *txState) message() string {
	if s.Result == nil || s.Result.Message == "" {
		return "ok"
	}
	return s.Result.Message
}

// TxStatus returns where a transaction is; an unknown hash is not an error.
func (c *apiClient) TxStatus(ctx context.Context, h chain.Hash) (*txState, error) {
	var st txState
	err := c.Get(ctx, "/v1/txs/"+h.String(), &st)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return &txState{Hash: h, Status: "unknown"}, nil
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// droppedAfter is how many polls in a row must find a submitted
// transaction unknown (neither pending nor finalized) before WaitTx gives
// up on it: the node dropped it, e.g. behind a nonce gap or when another
// transaction with its nonce won.
const droppedAfter = 5

// WaitTx polls until the transaction is finalized, the node has dropped
// it, or ctx ends.
func (c *apiClient) WaitTx(ctx context.Context, h chain.Hash) (*txState, error) {
	t := time.NewTicker(c.poll)
	defer t.Stop()
	unknown := 0
	for {
		st, err := c.TxStatus(ctx, h)
		if err != nil {
			return nil, err
		}
		if st.Status == "finalized" {
			return st, nil
		}
		if st.Status == "unknown" {
			unknown++
		} else {
			unknown = 0
		}
		if unknown >= droppedAfter {
			return st, fmt.Errorf("tx %s: %w", h.Short(), errTxDropped)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("tx %s still %s: %w", h.Short(), st.Status, ctx.Err())
		case <-t.C:
		}
	}
}
