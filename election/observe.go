package election

import (
	"context"
	"time"

	"github.com/leasehold/leasehold/internal/wait"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// Leader is who leads: an identity, its term, and what it published with
// the term. The zero Leader means no leader. It is a plain value,
// comparable with ==.
type Leader struct {
	// Identity is the leader's identity (renewer.WithIdentity).
	Identity string
	// Term is the leader's term, its fencing number.
	Term int64
	// Payload is what the leader published with its term
	// (renewer.WithPayload), for example the address it serves on; "" if
	// nothing. Anyone who can write the container's metadata can write it:
	// check it before acting on it.
	Payload string
}

// tracker turns lease states into leaders. It remembers the highest term
// it knows has ended (seen with no lease held, or its own term that ended):
// a lease held under such a term is a new holder that has acquired but not
// yet written its term, still showing its predecessor's, and counts as no
// leader until it does.
//
// A tracker is not safe for concurrent use.
type tracker struct {
	over int64 // highest term known to have ended
}

// leader returns who leads according to st. A term its holder marked
// released (st.Released) has ended: a lease held under it is another
// client's, or a new holder's before its term write, and no leader.
func (t *tracker) leader(st renewer.Status) Leader {
	if !st.Held() || st.Released {
		t.ended(st.Term)
		return Leader{}
	}
	if st.Term == 0 || st.Term <= t.over {
		return Leader{} // acquired, term not written yet
	}
	return Leader{Identity: st.Holder, Term: st.Term, Payload: st.Payload}
}

// ended records that term is over.
func (t *tracker) ended(term int64) { t.over = max(t.over, term) }

// Leader returns the current leader, or ErrNoLeader. While this candidate
// leads it answers from memory; otherwise it reads the lease's state, one
// storage call.
//
// Right after a new holder acquires the lease, the container still names
// the previous holder and term until the new holder writes its own (one
// round trip). Leader reports a leader only by a term it has not seen
// released: if this Election has seen the lease free under term T, a lease
// held under term T is reported as ErrNoLeader until term T+1 appears. If
// it has not seen the free state (the previous leader's lease expired
// between two reads), it may name the previous leader for that round trip.
func (e *Election) Leader(ctx context.Context) (Leader, error) {
	if ld := e.current(); ld != nil {
		return e.self(ld.Term()), nil
	}
	st, err := e.r.Inspect(ctx)
	if err != nil {
		return Leader{}, err
	}
	l := e.saw(st)
	if l == (Leader{}) {
		return Leader{}, ErrNoLeader
	}
	return l, nil
}

// Observe returns a channel of leader changes: first the current leader,
// then each change, including to no leader (the zero Leader). It reads the
// lease's state every poll interval (jittered), one storage call each,
// with the rules of [Election.Leader]. Changes are coalesced: a receiver
// that falls behind gets the latest leader, never a value equal to the
// one it received last. A read that fails is logged and skipped: Observe
// reports what it last saw rather than guess.
//
// The channel is closed, by Observe's goroutine, when ctx ends. Observe may
// be called any number of times; each call polls on its own.
func (e *Election) Observe(ctx context.Context) <-chan Leader {
	out := make(chan Leader)
	go e.observe(ctx, out)
	return out
}

// observe polls until ctx ends, and closes out.
func (e *Election) observe(ctx context.Context, out chan<- Leader) {
	defer close(out)
	var (
		t         tracker
		sent      Leader  // the last value received from out
		pending   *Leader // a change not yet received
		delivered bool    // sent is set
	)
	poll := time.NewTimer(0) // first read at once
	defer poll.Stop()
	for {
		var send chan<- Leader
		var v Leader
		if pending != nil {
			send, v = out, *pending
		}
		select {
		case <-ctx.Done():
			return
		case send <- v:
			sent, delivered, pending = v, true, nil
		case <-poll.C:
			st, err := e.r.Inspect(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				e.log.Debug("observe: read failed; keeping the last leader seen", zap.Error(err))
			default:
				e.saw(st)
				l := t.leader(st)
				if delivered && l == sent {
					pending = nil
				} else {
					pending = &l
				}
			}
			poll.Reset(wait.From(ctx).Jitter(e.timing.PollInterval))
		}
	}
}
