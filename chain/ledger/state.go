package ledger

import (
	"io"

	"github.com/zwnode/zwnode/chain"
)

var ioEOF = io.EOF

// Role is what an account may do within its department.
type Role string

// Roles. Admins manage their department (accounts, keys, schemas, grants,
// governance votes) and may also do what operators do; operators write
// records, logs, applications, contributions and credit events; auditors
// only read.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleAuditor  Role = "auditor"
)

func (r Role) valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleAuditor }

func (r Role) in(rs []Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// Account is an ed25519 key bound to a department and a role.
type Account struct {
	PubKey     chain.PublicKey `json:"pub_key"`
	Department string          `json:"department"`
	Role       Role            `json:"role"`
	Name       string          `json:"name,omitempty"`
	// Nonce is the last nonce used; the next tx carries Nonce+1.
	Nonce  uint64 `json:"nonce"`
	Active bool   `json:"active"`
	// AddedHeight/RemovedHeight are 0 for genesis / still active.
	AddedHeight   uint64 `json:"added_height,omitempty"`
	RemovedHeight uint64 `json:"removed_height,omitempty"`
}

// Department is a participating government department.
type Department struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// NodeKey is the consensus key when the department is an authority.
	NodeKey   chain.PublicKey `json:"node_key"`
	Authority bool            `json:"authority"`
	// EncKey is the X25519 public key confidential records are sealed to.
	EncKey       []byte `json:"enc_key,omitempty"`
	EncKeyHeight uint64 `json:"enc_key_height,omitempty"`
}
