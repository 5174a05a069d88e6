package ledger

import (
	"encoding/hex"
	"strings"

	"github.com/zwnode/zwnode/chain"
)

// State key layout. Every key starts with a short namespace and "/"; the
// parts after it are fixed-width numbers (20 decimal digits, so byte order
// is numeric order) or names validated to contain no "/". Values are JSON
// except Account, RecordHead and RecordVersion, which are binary (see
// codec.go and STATE.md).
//
//	acct/<hex key>                         Account
//	dept/<id>                              Department
//	auth                                   current authority list
//	schema/<name>                          Schema
//	grant/<schema>/<dept>                  Grant
//	rec/<subject>/<schema>                 RecordHead (latest version number and the version itself)
//	recv/<schema>/<subject>/<ver>          RecordVersion (versions before the latest)
//	ix/time/<schema>/<time>/<height>       versions written in that block (timeindex.go)
//	acc/<height>/<txidx>                   AccessEntry
//	ix/accs/<subject>/<height>/<txidx>     "" (access log by subject)
//	ix/accd/<dept>/<height>/<txidx>        "" (access log by reader department)
//	app/<id>                               Application
//	dl/<deadline>/<id>/<check>             "" (pending checks by deadline)
//	st/type/<type>/<duration>/<id>         "" (decided applications)
//	st/dept/<dept>/<duration>/<id>/<check> "" (decided checks)
//	si/c/<subject>/<period>/<insurance>    Contribution
//	si/a/<subject>                         SIAccount
//	cr/s/<subject>                         CreditScore
//	cr/e/<subject>/<height>/<txidx>        CreditEvent
//	cr/black/<subject>                     "" (subjects below the threshold)
//	gov/p/<id>                             Proposal
//	al/<height>/<seq>                      Alert
//	mon/read/<dept>                        readWindow (monitoring state)
const (
	keyAuthorities = "auth"
	pfxAccount     = "acct/"
	pfxDept        = "dept/"
	pfxSchema      = "schema/"
	pfxGrant       = "grant/"
	pfxRecord      = "rec/"
	pfxRecVersion  = "recv/"
	pfxIxTime      = "ix/time/"
	pfxAccess      = "acc/"
	pfxIxAccSubj   = "ix/accs/"
	pfxIxAccDept   = "ix/accd/"
	pfxApp         = "app/"
	pfxDeadline    = "dl/"
	pfxStatType    = "st/type/"
	pfxStatDept    = "st/dept/"
	pfxSIContrib   = "si/c/"
	pfxSIAccount   = "si/a/"
	pfxCreditScore = "cr/s/"
	pfxCreditEvent = "cr/e/"
	pfxBlacklist   = "cr/black/"
	pfxProposal    = "gov/p/"
	pfxAlert       = "al/"
	pfxMonRead     = "mon/read/"
)

// num formats n with 20 digits so that byte order equals numeric order.
func num(n uint64) string {
	var b [20]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// tnum formats a block time (Unix ms, never negative after validation).
func tnum(t int64) string {
	if t < 0 {
		t = 0
	}
	return num(uint64(t))
}

// k joins key parts with "/".
func k(parts ...string) string { return strings.Join(parts, "/") }

// acctKey is built in one allocation: every tx reads and writes it.
func acctKey(pk chain.PublicKey) []byte {
	b := make([]byte, len(pfxAccount)+2*len(pk))
	copy(b, pfxAccount)
	hex.Encode(b[len(pfxAccount):], pk[:])
	return b
}
func deptKey(id string) []byte     { return []byte(pfxDept + id) }
func schemaKey(name string) []byte { return []byte(pfxSchema + name) }
func grantKey(schema, dept string) []byte {
	return []byte(pfxGrant + schema + "/" + dept)
}

// recordKey puts the subject first: a subject's heads, one per schema,
// are then the keys under rec/<subject>/, which is what a query by
// subject scans, so no separate index key is written per new record.
func recordKey(schema, subject string) []byte { return []byte(pfxRecord + subject + "/" + schema) }
func recVersionKey(schema, subject string, ver uint64) []byte {
	return []byte(pfxRecVersion + schema + "/" + subject + "/" + num(ver))
}
func appKey(id string) []byte         { return []byte(pfxApp + id) }
func proposalKey(id string) []byte    { return []byte(pfxProposal + id) }
func creditKey(subject string) []byte { return []byte(pfxCreditScore + subject) }
func siAccountKey(subject string) []byte {
	return []byte(pfxSIAccount + subject)
}
func siContribKey(subject, period, ins string) []byte {
	return []byte(pfxSIContrib + subject + "/" + period + "/" + ins)
}
func txPos(height uint64, idx int) string { return num(height) + "/" + num(uint64(idx)) }
