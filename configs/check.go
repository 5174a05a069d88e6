package configs

import (
	"errors"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/keyfile"
)

// Check is the operator's pre-flight check of a home directory, behind
// `zwnode config check`: it loads and validates node.toml, then checks the
// files it names — the node key (exists, mode 0600, parses), the genesis
// (parses and validates), that this node's key and department agree with
// genesis, the pseudonym key and the optional PSK — and that bootstrap peers
// and observers make sense against genesis. It returns every problem found;
// errors mean the node would not start or would misbehave. When node.toml has
// syntax or type errors, only its own problems are reported: the paths it
// names cannot be trusted until they are fixed.
func Check(home string) Problems {
	path := Path(home)
	data, err := readConfig(path)
	if err != nil {
		var ps Problems
		if errors.As(err, &ps) {
			return ps
		}
		return Problems{{File: path, Message: err.Error(), Severity: SeverityError}}
	}
	cfg, probs, decoded := parse(data, path)
	if !decoded {
		return probs
	}
	lines, _ := indexLines(data)
	col := &collector{file: path, lines: lines, out: probs}
	rc := cfg.Resolve(home)

	key := checkKey(col, rc)
	g := checkGenesis(col, rc)
	if rc.Ledger.PseudonymKeyFile != "" {
		if _, err := keyfile.LoadSecret(rc.Ledger.PseudonymKeyFile); err != nil {
			col.errorf("ledger.pseudonym_key_file", "%s", fileHint(err, rc.Ledger.PseudonymKeyFile,
				"every department needs the network's shared pseudonym key; copy it from another department's operator"))
		}
	}
	if rc.P2P.PSKFile != "" {
		if _, err := keyfile.LoadPSK(rc.P2P.PSKFile); err != nil {
			col.errorf("p2p.psk_file", "%s", fileHint(err, rc.P2P.PSKFile, "copy the network's PSK file from another operator, or remove psk_file"))
		}
	}
	if fi, err := os.Stat(rc.Node.DataDir); err == nil && !fi.IsDir() {
		col.errorf("node.data_dir", "%s is not a directory", rc.Node.DataDir)
	}
	if key != nil && g != nil {
		checkMembership(col, cfg, key, g)
	}
	return col.out
}

// fileHint rewrites a missing-file error into an instruction.
func fileHint(err error, path, hint string) string {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("%s does not exist; %s", path, hint)
	}
	return err.Error()
}

func checkKey(col *collector, rc Config) *keyfile.Key {
	if rc.Node.KeyFile == "" {
		return nil
	}
	k, err := keyfile.Load(rc.Node.KeyFile)
	if err != nil {
		col.errorf("node.key_file", "%s", fileHint(err, rc.Node.KeyFile,
			"create a key with `zwnode init`, or fix the path"))
		return nil
	}
	return k
}

func checkGenesis(col *collector, rc Config) *chain.Genesis {
	if rc.Node.GenesisFile == "" {
		return nil
	}
	data, err := os.ReadFile(rc.Node.GenesisFile)
	if err != nil {
		col.errorf("node.genesis_file", "%s", fileHint(err, rc.Node.GenesisFile,
			"get the network's genesis.json from its operators (or build it with `zwnode genesis new`)"))
		return nil
	}
	g, err := chain.ParseGenesis(data)
	if err != nil {
		col.out = append(col.out, Problem{File: rc.Node.GenesisFile, Message: err.Error(), Severity: SeverityError})
		return nil
	}
	return g
}

// checkMembership compares this node's key and department, its bootstrap
// peers and its observers with the genesis authorities.
func checkMembership(col *collector, cfg Config, key *keyfile.Key, g *chain.Genesis) {
	set := g.AuthoritySet()
	dept := cfg.Node.Department
	if i, ok := set.Index(key.PublicKey()); ok {
		a := set.At(i)
		if a.Department != dept {
			col.errorf("node.department", "%q does not match genesis: this node's key %s is the authority of department %q",
				dept, key.PeerID(), a.Department)
		}
	} else if a, ok := set.ByDepartment(dept); ok {
		id, _ := keyfile.PeerIDFromPublicKey(a.PubKey)
		col.errorf("node.key_file", "genesis names department %q's authority key %s, but this node's key is %s: wrong key file, or genesis was built with another key",
			dept, id, key.PeerID())
	} else {
		col.warnf("node.key_file", "node key %s is not an authority in genesis; it will run as an observer (the authorities must list it in p2p.observers to admit it)",
			key.PeerID())
	}

	observers := make(map[peer.ID]bool)
	for i, s := range cfg.P2P.Observers {
		id, err := peer.Decode(s)
		if err != nil {
			continue // reported by Validate
		}
		observers[id] = true
		if pk, err := keyfile.PublicKeyFromPeerID(id); err == nil && set.Contains(pk) {
			col.warnf(fmt.Sprintf("p2p.observers[%d]", i), "%s is a genesis authority already; listing it as an observer has no effect", s)
		}
	}
	for i, info := range bootstrapInfos(cfg.P2P.Bootstrap) {
		if info == nil {
			continue
		}
		field := fmt.Sprintf("p2p.bootstrap[%d]", i)
		if info.ID == key.PeerID() {
			col.warnf(field, "is this node itself (%s)", info.ID)
			continue
		}
		pk, err := keyfile.PublicKeyFromPeerID(info.ID)
		if err == nil && !set.Contains(pk) && !observers[info.ID] {
			col.warnf(field, "peer %s is neither a genesis authority nor in p2p.observers; admission will refuse it", info.ID)
		}
	}
	if want := set.Size() - 1 + len(observers); cfg.P2P.MaxPeers < want {
		col.warnf("p2p.max_peers", "%d is fewer than the %d authorities and observers this node should connect to", cfg.P2P.MaxPeers, want)
	}
}
