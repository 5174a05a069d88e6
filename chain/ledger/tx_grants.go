package ledger

import (
	"fmt"
	"unicode/utf8"

	"github.com/zwnode/zwnode/chain"
)

// Grant lets a department read a confidential schema's records written
// while it is active. Revoked grants stay for the audit trail.
type Grant struct {
	Schema        string          `json:"schema"`
	Department    string          `json:"department"`
	Active        bool            `json:"active"`
	GrantedBy     chain.PublicKey `json:"granted_by"`
	GrantedHeight uint64          `json:"granted_height"`
	GrantedTime   int64           `json:"granted_time"`
	RevokedBy     chain.PublicKey `json:"revoked_by"`
	RevokedHeight uint64          `json:"revoked_height,omitempty"`
	RevokedTime   int64           `json:"revoked_time,omitempty"`
}

// GrantTx (grant, admin of the schema owner): grants a department access
// to the schema's future records.
type GrantTx struct {
	Schema     string `json:"schema"`
	Department string `json:"department"`
}

func (p *GrantTx) validate() error {
	if err := chain.ValidateName(p.Schema, 64); err != nil {
		return invalid("schema: %v", err)
	}
	if err := chain.ValidateName(p.Department, 64); err != nil {
		return invalid("department: %v", err)
	}
	return nil
}

func (p *GrantTx) apply(c *txCtx) error {
	s, err := loadSchema(c.st, p.Schema)
	if err != nil {
		return err
	}
	if s.Owner != c.dept() {
		return unauthorized("%s may not grant on schema %s owned by %s", c.who(), s.Name, s.Owner)
	}
	if p.Department == s.Owner {
		return invalid("%s owns %s; owners need no grant", p.Department, s.Name)
	}
	if !s.Confidential {
		return invalid("schema %s is public: every department may read it without a grant", s.Name)
	}
	d, err := loadDept(c.st, p.Department)
	if err != nil {
		return err
	}
	if len(d.EncKey) == 0 {
		return invalid("department %s has no encryption key yet (dept.set_key); records could not be sealed to it", d.ID)
	}
	var g Grant
	ok, err := getJSON(c.st, grantKey(s.Name, d.ID), &g)
	if err != nil {
		return err
	}
	if ok && g.Active {
		return fmt.Errorf("%w: %s already holds a grant on %s", ErrExists, d.ID, s.Name)
	}
	g = Grant{Schema: s.Name, Department: d.ID, Active: true, GrantedBy: c.acct.PubKey, GrantedHeight: c.height(), GrantedTime: c.time()}
	c.event(TxGrant, string(grantKey(s.Name, d.ID)), "")
	return putJSON(c.st, grantKey(s.Name, d.ID), g)
}

// RevokeTx (revoke, admin of the schema owner): ends a grant. Records
// written afterwards are no longer sealed to the department; what it could
// read before stays readable to it (the key was already shared).
type RevokeTx struct {
	Schema     string `json:"schema"`
	Department string `json:"department"`
}

func (p *RevokeTx) validate() error { return (*GrantTx)(p).validate() }

func (p *RevokeTx) apply(c *txCtx) error {
	s, err := loadSchema(c.st, p.Schema)
	if err != nil {
		return err
	}
	if s.Owner != c.dept() {
		return unauthorized("%s may not revoke on schema %s owned by %s", c.who(), s.Name, s.Owner)
	}
	var g Grant
	ok, err := getJSON(c.st, grantKey(s.Name, p.Department), &g)
	if err != nil {
		return err
	}
	if !ok || !g.Active {
		return fmt.Errorf("%w: active grant of %s to %s", ErrNotFound, s.Name, p.Department)
	}
	g.Active, g.RevokedBy, g.RevokedHeight, g.RevokedTime = false, c.acct.PubKey, c.height(), c.time()
	c.event(TxRevoke, string(grantKey(s.Name, p.Department)), "")
	return putJSON(c.st, grantKey(s.Name, p.Department), g)
}

func activeGrants(kv ScanKV, schema string) ([]Grant, error) {
	var out []Grant
	err := scanJSON(kv, []byte(pfxGrant+schema+"/"), 0, func(_, v []byte) error {
		var g Grant
		if err := jsonUnmarshal(v, &g); err != nil {
			return err
		}
		if g.Active {
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// AccessEntry is one logged read of a record.
type AccessEntry struct {
	Reader       string          `json:"reader"`
	Account      chain.PublicKey `json:"account"`
	Subject      string          `json:"subject"`
	Schema       string          `json:"schema"`
	Version      uint64          `json:"version"`
	Purpose      string          `json:"purpose"`
	Confidential bool            `json:"confidential"`
	Height       uint64          `json:"height"`
	Time         int64           `json:"time"`
	TxHash       chain.Hash      `json:"tx_hash"`
}

// AccessLog (access.log, admin/operator): records on chain that the
// sender's department read one record version, and why.
type AccessLog struct {
	Subject string `json:"subject"`
	Schema  string `json:"schema"`
	Version uint64 `json:"version"`
	Purpose string `json:"purpose"`
}

func (p *AccessLog) validate() error {
	if err := ValidateSubject(p.Subject); err != nil {
		return err
	}
	if err := chain.ValidateName(p.Schema, 64); err != nil {
		return invalid("schema: %v", err)
	}
	if p.Version == 0 {
		return invalid("version starts at 1")
	}
	if p.Purpose == "" || len(p.Purpose) > 200 || !utf8.ValidString(p.Purpose) {
		return invalid("purpose must be 1..200 bytes of UTF-8 (why the record was read)")
	}
	return nil
}

func (p *AccessLog) apply(c *txCtx) error {
	s, err := loadSchema(c.st, p.Schema)
	if err != nil {
		return err
	}
	v, ok, err := getVersion(c.st, s.Name, p.Subject, p.Version)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: version %d of %s for %s", ErrNotFound, p.Version, s.Name, p.Subject)
	}
	if s.Confidential && !contains(v.Readers, c.dept()) {
		return unauthorized("%s: department %s holds no sealed key for version %d of %s/%s (no grant when it was written)", c.who(), c.dept(), p.Version, s.Name, p.Subject)
	}
	e := AccessEntry{Reader: c.dept(), Account: c.acct.PubKey, Subject: p.Subject, Schema: s.Name, Version: p.Version,
		Purpose: p.Purpose, Confidential: s.Confidential, Height: c.height(), Time: c.time(), TxHash: c.hash}
	pos := txPos(c.height(), c.index)
	if err := putJSON(c.st, []byte(pfxAccess+pos), e); err != nil {
		return err
	}
	c.st.mark(pfxIxAccSubj + p.Subject + "/" + pos)
	c.st.mark(pfxIxAccDept + c.dept() + "/" + pos)
	c.event(TxAccessLog, pfxAccess+pos, c.dept())
	if s.Confidential {
		return c.noteConfidentialRead(p.Subject)
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
