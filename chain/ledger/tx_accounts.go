package ledger

import (
	"crypto/ecdh"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// AccountAdd (account.add, admin): adds an account to the admin's own
// department.
type AccountAdd struct {
	PubKey chain.PublicKey `json:"pub_key"`
	Role   Role            `json:"role"`
	Name   string          `json:"name,omitempty"`
}

func (p *AccountAdd) validate() error {
	if p.PubKey.IsZero() {
		return fmt.Errorf("%w: pub_key is missing", ErrBadPayload)
	}
	if !p.Role.valid() {
		return invalid("role %q is not admin, operator or auditor", p.Role)
	}
	if len(p.Name) > 100 {
		return invalid("name longer than 100 bytes")
	}
	return nil
}

func (p *AccountAdd) apply(c *txCtx) error {
	ok, err := has(c.st, acctKey(p.PubKey))
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: account %s exists (keys are never reused, even after removal)", ErrExists, p.PubKey.Short())
	}
	a := Account{PubKey: p.PubKey, Department: c.dept(), Role: p.Role, Name: p.Name, Active: true, AddedHeight: c.height()}
	c.event(TxAccountAdd, string(acctKey(p.PubKey)), c.dept()+"/"+string(p.Role))
	putAccount(c.st, &a)
	return nil
}

// AccountRemove (account.remove, admin): deactivates an account of the
// admin's own department. The nonce record stays so the key can never
// sign again. The last active admin of a department cannot be removed.
type AccountRemove struct {
	PubKey chain.PublicKey `json:"pub_key"`
}

func (p *AccountRemove) validate() error {
	if p.PubKey.IsZero() {
		return fmt.Errorf("%w: pub_key is missing", ErrBadPayload)
	}
	return nil
}

func (p *AccountRemove) apply(c *txCtx) error {
	a, ok, err := getAccount(c.st, p.PubKey)
	if err != nil {
		return err
	}
	if !ok || !a.Active {
		return fmt.Errorf("%w: active account %s", ErrNotFound, p.PubKey.Short())
	}
	if a.Department != c.dept() {
		return unauthorized("%s may not remove account %s of department %s", c.who(), p.PubKey.Short(), a.Department)
	}
	if a.Role == RoleAdmin {
		n, err := countActiveAdmins(c.st, a.Department)
		if err != nil {
			return err
		}
		if n <= 1 {
			return invalid("account %s is the last active admin of %s; add another admin first", p.PubKey.Short(), a.Department)
		}
	}
	a.Active = false
	a.RemovedHeight = c.height()
	c.event(TxAccountRemove, string(acctKey(p.PubKey)), a.Department)
	putAccount(c.st, a)
	return nil
}

func countActiveAdmins(kv ScanKV, dept string) (int, error) {
	n := 0
	err := scanJSON(kv, []byte(pfxAccount), 0, func(_, v []byte) error {
		var a Account
		if err := decodeAccount(v, &a); err != nil {
			return err
		}
		if a.Active && a.Role == RoleAdmin && a.Department == dept {
			n++
		}
		return nil
	})
	return n, err
}

// DeptSetKey (dept.set_key, admin): sets the department's X25519 public
// key that confidential records are sealed to. Records written before a
// change stay sealed to the old key.
type DeptSetKey struct {
	EncKey []byte `json:"enc_key"`
}

func (p *DeptSetKey) validate() error {
	if len(p.EncKey) != 32 {
		return invalid("enc_key must be 32 bytes (X25519 public key, base64), got %d", len(p.EncKey))
	}
	if _, err := ecdh.X25519().NewPublicKey(p.EncKey); err != nil {
		return invalid("enc_key: %v", err)
	}
	zero := true
	for _, b := range p.EncKey {
		zero = zero && b == 0
	}
	if zero {
		return invalid("enc_key is all zeros")
	}
	return nil
}

func (p *DeptSetKey) apply(c *txCtx) error {
	d, err := loadDept(c.st, c.dept())
	if err != nil {
		return err
	}
	d.EncKey = p.EncKey
	d.EncKeyHeight = c.height()
	c.event(TxDeptSetKey, string(deptKey(d.ID)), "")
	return putJSON(c.st, deptKey(d.ID), d)
}

func loadDept(kv KV, id string) (*Department, error) {
	d, ok, err := getCached(kv, deptKey(id), decodeJSONState[Department])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: department %q", ErrNotFound, id)
	}
	return d, nil
}
