package node

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/store"
)

// registerLedgerRoutes adds the data-sharing ledger's queries. Public data
// (departments, schemas, public records, application progress with its
// access code, the credit record) needs no account; confidential records,
// social-insurance accounts and pseudonymisation need a signed request.
func (n *Node) registerLedgerRoutes(mux *http.ServeMux) {
	q := func(path string, fn func(r *http.Request) (any, error)) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(r)
			if err != nil {
				writeLedgerError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	st := n.stateKV
	l := n.ledger
	q("/v1/departments", func(r *http.Request) (any, error) { return l.Departments(st()) })
	q("/v1/departments/{id}", func(r *http.Request) (any, error) { return l.Department(st(), r.PathValue("id")) })
	q("/v1/departments/{id}/accounts", func(r *http.Request) (any, error) { return l.Accounts(st(), r.PathValue("id")) })
	q("/v1/departments/{id}/access", func(r *http.Request) (any, error) {
		return l.AccessByDepartment(st(), r.PathValue("id"), limitParam(r))
	})
	q("/v1/departments/{id}/pending-checks", func(r *http.Request) (any, error) {
		return l.PendingChecks(st(), r.PathValue("id"), limitParam(r))
	})
	q("/v1/accounts/{key}", n.queryAccount)
	q("/v1/schemas", func(r *http.Request) (any, error) { return l.Schemas(st()) })
	q("/v1/schemas/{name}", func(r *http.Request) (any, error) { return l.Schema(st(), r.PathValue("name")) })
	q("/v1/schemas/{name}/grants", func(r *http.Request) (any, error) { return l.Grants(st(), r.PathValue("name")) })
	q("/v1/schemas/{name}/records", n.querySchemaRecords)
	q("/v1/schemas/{name}/recipients", func(r *http.Request) (any, error) { return l.Recipients(st(), r.PathValue("name")) })
	q("/v1/records/{schema}/{subject}", n.queryRecord)
	q("/v1/subjects/{subject}/records", n.querySubjectRecords)
	q("/v1/subjects/{subject}/access", func(r *http.Request) (any, error) {
		return l.AccessBySubject(st(), r.PathValue("subject"), limitParam(r))
	})
	q("/v1/applications/stats", func(r *http.Request) (any, error) { return l.ApplicationStats(st()) })
	q("/v1/applications/{id}", n.queryApplication)
	q("/v1/si/{subject}", n.querySocialInsurance)
	q("/v1/credit/blacklist", func(r *http.Request) (any, error) { return l.Blacklist(st(), limitParam(r)) })
	q("/v1/credit/{subject}", func(r *http.Request) (any, error) { return l.Credit(st(), r.PathValue("subject")) })
	q("/v1/alerts", func(r *http.Request) (any, error) {
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		return l.Alerts(st(), from, limitParam(r))
	})
	q("/v1/governance/proposals", func(r *http.Request) (any, error) { return l.Proposals(st()) })
	q("/v1/governance/proposals/{id}", func(r *http.Request) (any, error) { return l.GetProposal(st(), r.PathValue("id")) })
	mux.HandleFunc("POST /v1/pseudonym", n.handlePseudonym)
}

func limitParam(r *http.Request) int {
	v, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || v <= 0 || v > ledger.DefaultLimit {
		return ledger.DefaultLimit
	}
	return v
}

// apiError carries an HTTP status through the query helpers.
type apiError struct {
	status int
	code   string
	field  string
	err    error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

func forbidden(err error) error {
	return &apiError{status: http.StatusForbidden, code: "forbidden", err: err}
}
func unauthorized(err error) error {
	return &apiError{status: http.StatusUnauthorized, code: "unauthorized", err: err}
}

func writeLedgerError(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.field, "%v", ae.err)
	case errors.Is(err, ledger.ErrNotFound), errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "", "%v", err)
	case errors.Is(err, ledger.ErrAccessDenied):
		writeError(w, http.StatusForbidden, "access_denied", "code", "%v", err)
	case errors.Is(err, ledger.ErrInvalidSubject), errors.Is(err, ledger.ErrInvalidUSCC):
		writeError(w, http.StatusBadRequest, "invalid_subject", "subject", "%v", err)
	case errors.Is(err, ledger.ErrInvalidResidentID):
		writeError(w, http.StatusBadRequest, "invalid_resident_id", "resident_id", "resident id number fails its check (GB 11643-1999)")
	case errors.Is(err, ledger.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", "", "%v", err)
	default:
		writeError(w, http.StatusInternalServerError, "internal", "", "%v", err)
	}
}

// AccountView is an account with the nonce its next transaction must carry.
type AccountView struct {
	*ledger.Account
	NextNonce uint64 `json:"next_nonce"`
}

func (n *Node) queryAccount(r *http.Request) (any, error) {
	pk, err := chain.ParsePublicKey(r.PathValue("key"))
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "bad_key", field: "key", err: err}
	}
	acct, err := n.ledger.Account(n.stateKV(), pk)
	if err != nil {
		return nil, err
	}
	next, ok := n.mempool.PendingNonce(pk)
	if !ok {
		if next, err = n.ledger.NextNonce(n.stateKV(), pk); err != nil {
			return nil, err
		}
	}
	return AccountView{Account: acct, NextNonce: next}, nil
}

// RecordResponse is a record's latest version and its history.
type RecordResponse struct {
	Latest  *ledger.RecordVersion  `json:"latest"`
	History []ledger.RecordVersion `json:"history"`
}

// queryRecord returns a record. A confidential record is returned only to
// a signed request: to its owner department, or to a recipient department
// that has submitted the access.log transaction for that read (named by
// ?access_tx=<hash>), so every read by another department is on chain.
func (n *Node) queryRecord(r *http.Request) (any, error) {
	schemaName, subject := r.PathValue("schema"), r.PathValue("subject")
	if err := ledger.ValidateSubject(subject); err != nil {
		return nil, err
	}
	schema, err := n.ledger.Schema(n.stateKV(), schemaName)
	if err != nil {
		return nil, err
	}
	hist, err := n.ledger.RecordHistory(n.stateKV(), schemaName, subject)
	if err != nil {
		return nil, err
	}
	if len(hist) == 0 {
		return nil, &apiError{status: http.StatusNotFound, code: "not_found", err: errors.New("no record of " + schemaName + " for " + subject)}
	}
	if !schema.Confidential {
		return RecordResponse{Latest: &hist[len(hist)-1], History: hist}, nil
	}
	acct, err := n.authenticate(r, nil)
	if err != nil {
		return nil, unauthorized(err)
	}
	if acct.Department == schema.Owner {
		return RecordResponse{Latest: &hist[len(hist)-1], History: hist}, nil
	}
	version, err := n.checkAccessTx(r, acct, schemaName, subject)
	if err != nil {
		return nil, err
	}
	if version == 0 || version > uint64(len(hist)) {
		return nil, forbidden(errors.New("the access.log transaction names a version that does not exist"))
	}
	v := hist[version-1]
	if !slices.Contains(v.Readers, acct.Department) {
		return nil, forbidden(errors.New("department " + acct.Department + " holds no grant for this version of " + schemaName))
	}
	return RecordResponse{Latest: &v, History: []ledger.RecordVersion{v}}, nil
}

// querySchemaRecords lists the versions of a schema's records written at
// block times in [?from, ?to) (Unix ms; to absent or 0: no upper bound),
// oldest first, at most ?limit. A confidential schema's list is served
// only to a signed request from its owner department: another department
// reads each record on its own, through an access.log transaction.
func (n *Node) querySchemaRecords(r *http.Request) (any, error) {
	name := r.PathValue("name")
	var bounds [2]int64
	for i, p := range []string{"from", "to"} {
		raw := r.URL.Query().Get(p)
		if raw == "" {
			continue
		}
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 {
			return nil, &apiError{status: http.StatusBadRequest, code: "bad_time", field: p, err: errors.New(p + " must be a block time in Unix milliseconds")}
		}
		bounds[i] = v
	}
	schema, err := n.ledger.Schema(n.stateKV(), name)
	if err != nil {
		return nil, err
	}
	if schema.Confidential {
		acct, err := n.authenticate(r, nil)
		if err != nil {
			return nil, unauthorized(err)
		}
		if acct.Department != schema.Owner {
			return nil, forbidden(errors.New(name + " is confidential: only its owner " + schema.Owner + " lists its records; other departments read each record with ?access_tx"))
		}
	}
	out, err := n.ledger.RecordsBySchema(n.stateKV(), name, bounds[0], bounds[1], limitParam(r))
	if out == nil && err == nil {
		out = []ledger.RecordVersion{}
	}
	return out, err
}

// checkAccessTx finds the access.log transaction named by ?access_tx and
// checks it was finalized successfully, signed by the requesting account,
// for this record. A pending log is not enough: it might never be
// committed (stuck behind a nonce gap, or beaten by another tx with the
// same nonce), and the read would then leave no trace.
func (n *Node) checkAccessTx(r *http.Request, acct *ledger.Account, schema, subject string) (uint64, error) {
	raw := r.URL.Query().Get("access_tx")
	if raw == "" {
		return 0, forbidden(errors.New("reading another department's confidential record needs ?access_tx=<hash of your finalized access.log tx>"))
	}
	h, err := chain.ParseHash(raw)
	if err != nil {
		return 0, &apiError{status: http.StatusBadRequest, code: "bad_hash", field: "access_tx", err: err}
	}
	tx, _, err := n.store.Tx(r.Context(), h)
	if err != nil {
		if n.mempool.Has(h) {
			return 0, &apiError{status: http.StatusConflict, code: "access_log_pending", field: "access_tx", err: errors.New("access_tx " + h.Short() + " is not finalized yet; retry once it is")}
		}
		return 0, forbidden(errors.New("access_tx " + h.Short() + " is not a finalized transaction on this node"))
	}
	if res := n.txResult(h); res.Code != ledger.CodeOK {
		return 0, forbidden(errors.New("access_tx " + h.Short() + " failed: " + res.Message))
	}
	var entry ledger.AccessLog
	if tx.Type != ledger.TxAccessLog || tx.Account != acct.PubKey || json.Unmarshal(tx.Payload, &entry) != nil ||
		entry.Schema != schema || entry.Subject != subject {
		return 0, forbidden(errors.New("access_tx is not your access.log for this schema and subject"))
	}
	return entry.Version, nil
}

// querySubjectRecords lists every record about a subject. Confidential
// versions are listed without their ciphertext: reading one goes through
// queryRecord and leaves an access entry.
func (n *Node) querySubjectRecords(r *http.Request) (any, error) {
	subject := r.PathValue("subject")
	if err := ledger.ValidateSubject(subject); err != nil {
		return nil, err
	}
	recs, err := n.ledger.RecordsBySubject(n.stateKV(), subject)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		recs[i].Envelope = nil
	}
	return recs, nil
}

// queryApplication shows progress to the applicant (with ?code=<access
// code>) or to any department's signed request.
func (n *Node) queryApplication(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if code := r.URL.Query().Get("code"); code != "" {
		return n.ledger.Application(n.stateKV(), id, code)
	}
	if _, err := n.authenticate(r, nil); err != nil {
		return nil, unauthorized(errors.New("give the application's access code as ?code=, or sign the request with an account key"))
	}
	return n.ledger.ApplicationForDepartment(n.stateKV(), id)
}

// SIResponse is a person's social-insurance account and contributions.
type SIResponse struct {
	Account       *ledger.SIAccount     `json:"account"`
	Contributions []ledger.Contribution `json:"contributions"`
}

func (n *Node) querySocialInsurance(r *http.Request) (any, error) {
	if _, err := n.authenticate(r, nil); err != nil {
		return nil, unauthorized(err)
	}
	subject := r.PathValue("subject")
	view, err := n.ledger.SIAccountView(n.stateKV(), subject)
	if err != nil {
		return nil, err
	}
	cons, err := n.ledger.SIContributions(n.stateKV(), subject)
	if err != nil {
		return nil, err
	}
	return SIResponse{Account: view, Contributions: cons}, nil
}

// handlePseudonym turns a resident ID number into the subject the chain
// uses. The number is validated and hashed with the network's pseudonym
// key; it is never logged or stored.
func (n *Node) handlePseudonym(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1024))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "", "request body over 1024 bytes")
		return
	}
	if _, err := n.authenticate(r, body); err != nil {
		writeLedgerError(w, unauthorized(err))
		return
	}
	var req struct {
		ResidentID string `json:"resident_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "malformed", "", "body must be {\"resident_id\": \"...\"}")
		return
	}
	if len(n.opts.PseudonymKey) == 0 {
		writeError(w, http.StatusServiceUnavailable, "no_pseudonym_key", "", "this node has no pseudonym key configured (ledger.pseudonym_key_file)")
		return
	}
	subject, err := ledger.Pseudonym(n.opts.PseudonymKey, req.ResidentID)
	if err != nil {
		writeLedgerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"subject": subject})
}
