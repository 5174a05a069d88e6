package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

// SchemaRegister (schema.register, admin): registers a schema owned by the
// sender's department; the name must start with "<department>.".
type SchemaRegister struct {
	Name         string  `json:"name"`
	Title        string  `json:"title,omitempty"`
	Fields       []Field `json:"fields,omitempty"`
	Confidential bool    `json:"confidential,omitempty"`
}

func (p *SchemaRegister) validate() error {
	if err := chain.ValidateName(p.Name, 64); err != nil {
		return invalid("schema name: %v", err)
	}
	return nil
}

func (p *SchemaRegister) apply(c *txCtx) error {
	owner, _, _ := strings.Cut(p.Name, ".")
	if owner != c.dept() {
		return unauthorized("%s may not register schema %s: its name says it is owned by %s", c.who(), p.Name, owner)
	}
	s := Schema{Name: p.Name, Owner: c.dept(), Title: p.Title, Fields: p.Fields, Confidential: p.Confidential}
	if err := validateSchema(&s, map[string]bool{c.dept(): true}); err != nil {
		return invalid("%v", err)
	}
	ok, err := has(c.st, schemaKey(s.Name))
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: schema %s", ErrExists, s.Name)
	}
	c.event(TxSchemaRegister, string(schemaKey(s.Name)), s.Owner)
	return putJSON(c.st, schemaKey(s.Name), s)
}

// RecordPut (record.put, admin/operator of the schema owner): writes a new
// version of the record (schema, subject). Public schemas take Fields;
// confidential schemas take an Envelope sealed to exactly the owner and the
// current grantees.
type RecordPut struct {
	Schema   string            `json:"schema"`
	Subject  string            `json:"subject"`
	Fields   json.RawMessage   `json:"fields,omitempty"`
	Envelope *sharing.Envelope `json:"envelope,omitempty"`
}

func (p *RecordPut) validate() error {
	if err := chain.ValidateName(p.Schema, 64); err != nil {
		return invalid("schema: %v", err)
	}
	if err := ValidateSubject(p.Subject); err != nil {
		return err
	}
	if (p.Fields == nil) == (p.Envelope == nil) {
		return fmt.Errorf("%w: exactly one of fields and envelope is required", ErrBadPayload)
	}
	if p.Envelope != nil {
		if err := p.Envelope.ValidateBasic(); err != nil {
			return fmt.Errorf("%w: %v", ErrEnvelope, err)
		}
	}
	return nil
}

// RecordVersion is one stored version of a record with its provenance.
type RecordVersion struct {
	Schema     string          `json:"schema"`
	Subject    string          `json:"subject"`
	Version    uint64          `json:"version"`
	Writer     chain.PublicKey `json:"writer"`
	Department string          `json:"department"`
	Time       int64           `json:"time"`
	Height     uint64          `json:"height"`
	TxHash     chain.Hash      `json:"tx_hash"`
	// Fields is the canonical JSON object of a public record.
	Fields json.RawMessage `json:"fields,omitempty"`
	// Envelope is the ciphertext of a confidential record; Readers lists
	// the departments it was sealed to.
	Envelope *sharing.Envelope `json:"envelope,omitempty"`
	Readers  []string          `json:"readers,omitempty"`
}

// RecordHead is the number of a record's latest version, monitoring
// counters, and the latest version itself. A version is stored once: in
// the head while it is the latest, then under its version key, where the
// next record.put moves it. A new record is then one key, not two (Pebble's
// flushes and compactions cost per key), and reading a record's latest
// version is one lookup.
type RecordHead struct {
	Version uint64
	// Recent holds the block times of versions within the last 24 hours.
	Recent []int64
	// AlertedUntil suppresses repeated amendment alerts within one window.
	AlertedUntil int64
	// Latest is the stored form of version Version (encodeVersion).
	Latest []byte
}

func (p *RecordPut) apply(c *txCtx) error {
	s, err := loadSchema(c.st, p.Schema)
	if err != nil {
		return err
	}
	if s.Owner != c.dept() {
		return unauthorized("%s may not write schema %s owned by %s", c.who(), s.Name, s.Owner)
	}
	v := RecordVersion{Schema: s.Name, Subject: p.Subject, Writer: c.acct.PubKey, Department: c.dept(),
		Time: c.time(), Height: c.height(), TxHash: c.hash}
	if s.Confidential {
		if p.Envelope == nil {
			return invalid("schema %s is confidential: send an envelope, not fields", s.Name)
		}
		readers, err := checkEnvelope(c.st, s, p.Envelope)
		if err != nil {
			return err
		}
		v.Envelope, v.Readers = p.Envelope, readers
	} else {
		if p.Fields == nil {
			return invalid("schema %s is public: send fields, not an envelope", s.Name)
		}
		canon, err := checkFields(s, p.Fields)
		if err != nil {
			return err
		}
		v.Fields = canon
	}
	head, exists, err := getHead(c.st, s.Name, p.Subject)
	if err != nil {
		return err
	}
	prev := head.Latest
	v.Version = head.Version + 1
	head.Version = v.Version
	head.Recent = pruneBefore(append(head.Recent, c.time()), c.time()-dayMS)
	if err := c.checkAmendments(&head, &v); err != nil {
		return err
	}
	enc, err := encodeVersion(&v)
	if err != nil {
		return err
	}
	head.Latest = enc
	headKey := string(recordKey(s.Name, p.Subject))
	c.st.put(headKey, encodeHead(&head))
	if exists {
		// The superseded version moves from the head to its own key.
		c.st.put(string(recVersionKey(s.Name, p.Subject, v.Version-1)), bytes.Clone(prev))
	}
	c.versions = append(c.versions, versionRef{schema: s.Name, subject: p.Subject, version: v.Version})
	c.event(TxRecordPut, headKey, "version "+strconv.FormatUint(v.Version, 10))
	return nil
}

// checkEnvelope requires the recipients to be exactly the owner and the
// current grantees, each with its current key. Extra recipients would leak
// to departments without a grant; missing ones would silently cut a
// grantee off.
func checkEnvelope(kv ScanKV, s *Schema, env *sharing.Envelope) ([]string, error) {
	want := []string{s.Owner}
	grants, err := activeGrants(kv, s.Name)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		want = append(want, g.Department)
	}
	sortStrings(want)
	got := make(map[string]sharing.Recipient, len(env.Recipients))
	for _, r := range env.Recipients {
		got[r.Department] = r
	}
	for _, d := range want {
		r, ok := got[d]
		if !ok {
			if d == s.Owner {
				return nil, fmt.Errorf("%w: no sealed key for the owner %s", ErrEnvelope, d)
			}
			return nil, fmt.Errorf("%w: no sealed key for current grantee %s of %s", ErrEnvelope, d, s.Name)
		}
		dept, err := loadDept(kv, d)
		if err != nil {
			return nil, err
		}
		if len(dept.EncKey) == 0 {
			return nil, fmt.Errorf("%w: department %s has no encryption key (dept.set_key)", ErrEnvelope, d)
		}
		if !bytes.Equal(dept.EncKey, r.Key) {
			return nil, fmt.Errorf("%w: key for %s is not its current key (set at height %d)", ErrEnvelope, d, dept.EncKeyHeight)
		}
		delete(got, d)
	}
	for _, r := range env.Recipients {
		if _, extra := got[r.Department]; extra {
			return nil, fmt.Errorf("%w: sealed key for %s, which holds no grant on %s", ErrEnvelope, r.Department, s.Name)
		}
	}
	return want, nil
}

// checkFields validates a public record against its schema and returns it
// re-encoded canonically (keys sorted, numbers as given; canonjson.go).
func checkFields(s *Schema, raw json.RawMessage) (json.RawMessage, error) {
	mp := memberLists.Get().(*[]jsonMember)
	defer func() {
		clear((*mp)[:cap(*mp)]) // drop the references into raw
		memberLists.Put(mp)
	}()
	ms, err := parseObject(*mp, raw)
	if ms != nil && cap(ms) <= maxPooledMembers {
		*mp = ms[:0]
	}
	if err != nil {
		return nil, fmt.Errorf("%w: fields must be a JSON object", ErrBadPayload)
	}
	// Check in name order (ms is sorted): with several bad fields every
	// node must report the same one.
	for i := range ms {
		m := &ms[i]
		f := s.fieldBytes(m.key)
		if f == nil {
			return nil, invalid("schema %s has no field %q", s.Name, m.key)
		}
		if err := checkFieldValue(f, m); err != nil {
			return nil, invalid("schema %s field %s: %v", s.Name, m.key, err)
		}
	}
	for i := range s.Fields {
		if f := &s.Fields[i]; f.Required && !hasMember(ms, f.Name) {
			return nil, invalid("schema %s: required field %s is missing", s.Name, f.Name)
		}
	}
	out, err := appendCanonicalObject(make([]byte, 0, len(raw)), ms, 1)
	if err != nil {
		return nil, invalid("fields: %v", err)
	}
	return out, nil
}

// memberLists holds checkFields' member lists for reuse: a new list per
// record was about 5 % of the bytes a node allocated at full load. One
// grown past maxPooledMembers is not kept.
var memberLists = sync.Pool{New: func() any { ms := make([]jsonMember, 0, 16); return &ms }}

const maxPooledMembers = 64

// hasMember reports whether members include name.
func hasMember(ms []jsonMember, name string) bool {
	for i := range ms {
		if string(ms[i].key) == name {
			return true
		}
	}
	return false
}

func checkFieldValue(f *Field, m *jsonMember) error {
	switch f.Type {
	case FieldString:
		if m.kind != kindString {
			return fmt.Errorf("want a string")
		}
		n := len(m.val) - 2
		if !plainString(m.val) {
			s, err := decodeJSONString(m.val)
			if err != nil {
				return fmt.Errorf("want a string")
			}
			n = len(s)
		}
		if n > 4096 {
			return fmt.Errorf("string longer than 4096 bytes")
		}
	case FieldInt:
		if m.kind != kindNumber {
			return fmt.Errorf("want an integer")
		}
		i, err := strconv.ParseInt(string(m.val), 10, 64)
		if err != nil || i == math.MinInt64 {
			return fmt.Errorf("%s is not a 64-bit integer (amounts are integer fen)", m.val)
		}
	case FieldBool:
		if m.kind != kindTrue && m.kind != kindFalse {
			return fmt.Errorf("want true or false")
		}
	}
	return nil
}

func loadSchema(kv KV, name string) (*Schema, error) {
	s, ok, err := getCached(kv, schemaKey(name), decodeSchema)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown schema %s", ErrNotFound, name)
	}
	return s, nil
}

// decodeSchema decodes a stored schema, through schemaCache: outside a
// block (CheckTx, queries) there is no block cache.
func decodeSchema(b []byte, s *Schema) error {
	if c, ok := schemaCache.get(b); ok {
		*s = *c
		return nil
	}
	if err := json.Unmarshal(b, s); err != nil {
		return fatal{fmt.Errorf("%w: decode schema: %v", ErrState, err)}
	}
	schemaCache.put(b, s)
	return nil
}

// schemaCache maps a stored schema's exact bytes to its decoded form. Every
// record.put reads its schema, and decoding the same JSON thousands of
// times per block was a quarter of execution. Keyed by content, it can
// never serve a stale schema: a changed schema has other bytes.
var schemaCache = &decodedSchemas{m: make(map[string]*Schema)}

type decodedSchemas struct {
	mu sync.Mutex
	m  map[string]*Schema
}

func (c *decodedSchemas) get(raw []byte) (*Schema, bool) {
	c.mu.Lock()
	s, ok := c.m[string(raw)]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	cp := *s // callers get their own copy of the top-level fields
	return &cp, true
}

func (c *decodedSchemas) put(raw []byte, s *Schema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 1024 {
		clear(c.m)
	}
	cp := *s
	c.m[string(raw)] = &cp
}

const (
	hourMS = int64(3600_000)
	dayMS  = 24 * hourMS
)

// pruneBefore drops times earlier than cutoff from an ascending slice.
func pruneBefore(ts []int64, cutoff int64) []int64 {
	i := 0
	for i < len(ts) && ts[i] < cutoff {
		i++
	}
	return append([]int64(nil), ts[i:]...)
}
