// Package consensus is zwnode's round-robin BFT engine: the Tendermint
// algorithm of "The latest gossip on BFT consensus" (Buchman, Kwon,
// Milosevic, arXiv:1807.04938), Algorithm 1, as a pure state machine.
//
// The engine is shaped like etcd's raft. It starts no goroutine and knows
// no clock, network or disk. The caller feeds it verified messages
// ([Engine.Step]), fired timers ([Engine.Timeout]), candidate blocks
// ([Engine.Propose]) and blocks obtained by sync ([Engine.SyncTo]), and then
// takes the accumulated outputs with [Engine.Ready]:
//
//  1. persist (fsync) Ready.SignState and Ready.Valid, if set — before
//     anything else;
//  2. broadcast Ready.Messages;
//  3. arm Ready.Timers;
//  4. build a block for Ready.ProposeRequest and hand it to [Engine.Propose];
//  5. store and apply Ready.Decisions in order;
//  6. gossip or commit Ready.Evidence.
//
// Paper vocabulary maps onto the code as follows: "2f+1" is the quorum
// q = AuthoritySet.Quorum() = ⌊2n/3⌋+1 and "f+1" is MaxFaulty()+1, so the
// engine is correct for every n, not only n = 3f+1. proposer(h, r) is
// AuthoritySet.Proposer(h, r). The upon-rules live in rules.go, each under
// the line number it has in the paper.
//
// Safety never depends on time: timers only move rounds forward. Double
// signing is prevented by the sign-state ([SignState]): the engine refuses
// to sign anything that is not strictly after the last thing it signed,
// except the byte-identical message, and the sign-state (which also carries
// the lock) must be made durable before messages leave the process. The
// valid value and its proof ([ValidState]) are persisted too, so that a
// restarted node can still re-propose the block it may be locked on.
//
// Restart: build the Config from the store (height, previous block and
// certificate, authority sets) plus the persisted SignState and
// ValidState, then Start. Mid-height, the engine re-emits its last vote
// (byte-identical) and continues in the round after it.
package consensus
