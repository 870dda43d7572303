package leasetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrAnswerLost is wrapped by the error a caller gets when the network lost
// the answer to a request that storage received and applied
// ([Delivery.LoseAnswer]). It is not one of renewer's sentinels: like a
// transport failure of the Azure adapter (a connection reset after the
// request was sent), it says nothing about what storage did, so renewer
// treats it as transient.
var ErrAnswerLost = errors.New("leasetest: answer lost in the network")

// Delivery says how the network carries one call between its caller and
// storage. The zero value carries it at once, both ways.
//
// Durations must not be negative; a Delivery with a negative one fails the
// call with an error saying so, before anything is sent.
type Delivery struct {
	// RequestDelay is how long the request takes to reach storage. If the
	// caller gives up (its context ends) meanwhile, the request still
	// reaches storage when the delay is over and is applied there.
	RequestDelay time.Duration
	// ResponseDelay is how long the answer takes to come back after
	// storage applied the request. A caller that gives up meanwhile gets
	// its context's error; the request stays applied.
	ResponseDelay time.Duration
	// LoseAnswer makes storage apply the request and the network lose its
	// answer: the caller gets an error wrapping [ErrAnswerLost] (after
	// ResponseDelay), whatever storage answered.
	LoseAnswer bool
	// Duplicate makes the request reach storage twice, as when a client
	// (the SDK's retry policy, a proxy) sends it again after losing the
	// first answer: the first copy is applied and its answer lost, the
	// second copy reaches storage DuplicateDelay later, and the caller gets
	// the second copy's answer (subject to ResponseDelay and LoseAnswer).
	Duplicate bool
	// DuplicateDelay is the time between the first copy's landing and the
	// second's. Only with Duplicate.
	DuplicateDelay time.Duration
}

func (d Delivery) check() error {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"RequestDelay", d.RequestDelay}, {"ResponseDelay", d.ResponseDelay}, {"DuplicateDelay", d.DuplicateDelay}} {
		if f.v < 0 {
			return fmt.Errorf("leasetest: network: Delivery.%s is %v, want 0 or more", f.name, f.v)
		}
	}
	return nil
}

// Landing is one copy of a request as it reached storage, reported to the
// hook set by [Network.SetLanded] once storage answered it.
type Landing struct {
	// Call is the request.
	Call Call
	// Copy is 1 for the request, 2 for its duplicate ([Delivery.Duplicate]).
	Copy int
	// Late says the caller had given up (its context had ended) before
	// this copy reached storage.
	Late bool
	// Err is storage's answer: nil for success, else the refusal (which
	// wraps a renewer sentinel for the service's definitive answers).
	Err error
}

// landingTimeout bounds each copy of a request sent with a Delivery: it is
// sent with the caller's context values but not its cancellation (the
// caller's giving up does not recall a request already on the wire), and
// storage gives up on it after this long.
const landingTimeout = time.Minute

// Network models the network between callers and storage: a function set
// by [Network.SetDelivery] decides, call by call, a [Delivery] that can make
// a request reach storage after its caller gave up, reach it twice, lose its
// answer, or take a chosen time each way. [Faulty] has one (see
// [Faulty.Network]); an adapter of another kind (an HTTP transport, say)
// can carry its requests through one with [Deliver].
//
// A request whose caller's context ended before it was sent is not sent. A
// request that was sent always reaches storage: nothing here drops it.
//
// It works with real time and inside a testing/synctest bubble (make it, or
// the Faulty that holds it, inside the bubble). Call [Network.Settle] before
// a test ends, so that no request is still on its way.
//
// The zero value is a network that carries every call at once. A Network is
// safe for concurrent use and must not be copied after first use.
type Network struct {
	// mu protects every field below. Hooks run without it.
	mu       sync.Mutex
	delivery func(Call) Delivery
	landed   func(Landing)
	inFlight int             // goroutines carrying requests or answers
	settled  []chan struct{} // closed, and cleared, when inFlight drops to 0
}

// SetDelivery sets the function that decides each call's Delivery. It runs
// once per call, after the call's context was found live, and must be safe
// for concurrent use. A nil fn carries every call at once. Calls already on
// their way keep the Delivery they got.
func (n *Network) SetDelivery(fn func(Call) Delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delivery = fn
}

// SetLanded sets a hook that sees every copy of every request reach
// storage, with storage's answer, late ones included. It must be safe for
// concurrent use and must not block for long. A nil fn removes it.
//
// While either SetDelivery's function or this hook is set, every call
// travels as a Delivery does (even a zero one): its request is sent with the
// caller's context values but not its cancellation, so a caller that gives
// up mid-call leaves its request to land.
func (n *Network) SetLanded(fn func(Landing)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.landed = fn
}

// InFlight returns how many calls have a request or an answer on its way.
func (n *Network) InFlight() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inFlight
}

// Settle waits until no request or answer is on its way: every request
// sent so far (duplicates included) has reached storage and its landing was
// reported. It returns ctx's error if ctx ends first. Inside a synctest
// bubble the wait takes no real time.
func (n *Network) Settle(ctx context.Context) error {
	n.mu.Lock()
	if n.inFlight == 0 {
		n.mu.Unlock()
		return nil
	}
	ch := make(chan struct{}) // made by the waiter, so in the waiter's bubble
	n.settled = append(n.settled, ch)
	n.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("leasetest: network: settle with %d in flight: %w", n.InFlight(), ctx.Err())
	}
}

func (n *Network) start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inFlight++
}

func (n *Network) finish() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inFlight--
	if n.inFlight == 0 {
		for _, ch := range n.settled {
			close(ch)
		}
		n.settled = nil
	}
}

// plan returns the Delivery for call, and whether the call takes the plain
// path (no function, no hook: sent with the caller's own context).
func (n *Network) plan(call Call) (Delivery, bool) {
	n.mu.Lock()
	delivery, landed := n.delivery, n.landed
	n.mu.Unlock()
	if delivery == nil {
		return Delivery{}, landed == nil
	}
	return delivery(call), false
}

// report gives l to the landing hook, if one is set.
func (n *Network) report(l Landing) {
	n.mu.Lock()
	landed := n.landed
	n.mu.Unlock()
	if landed != nil {
		landed(l)
	}
}

// Deliver carries one call through n: send makes the request to storage and
// returns storage's answer. Deliver decides the call's Delivery, calls send
// (twice for a duplicate) on its own goroutine after the request delay, and
// returns send's answer after the response delay, or the caller's context
// error as soon as ctx ends, leaving the request to land later.
//
// If ctx has already ended, nothing is sent and Deliver returns its error.
// send gets a context with ctx's values that ctx's end does not cancel,
// bounded by a minute; when n has neither a delivery function nor a landing
// hook, send gets ctx itself and runs on the caller's goroutine.
func Deliver[T any](ctx context.Context, n *Network, call Call, send func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, fmt.Errorf("leasetest: %s: not sent: %w", call.Op, err)
	}
	return deliver(ctx, n, call, send)
}

// deliver is Deliver for a request already sent: it delivers it even if ctx
// has ended since (a Faulty whose before hook outlasted the caller).
func deliver[T any](ctx context.Context, n *Network, call Call, send func(context.Context) (T, error)) (T, error) {
	var zero T
	d, plain := n.plan(call)
	if plain && ctx.Err() == nil {
		return send(ctx)
	}
	if err := d.check(); err != nil {
		return zero, fmt.Errorf("%w (%s not sent)", err, call.Op)
	}

	type answer struct {
		v   T
		err error
	}
	answers := make(chan answer, 1) // buffered: the caller may have gone
	n.start()
	go func() {
		defer n.finish()
		v, err := land(ctx, n, call, 1, d.RequestDelay, send)
		if d.Duplicate {
			v, err = land(ctx, n, call, 2, d.DuplicateDelay, send)
		}
		sleep(d.ResponseDelay)
		if d.LoseAnswer {
			v, err = zero, fmt.Errorf("leasetest: %s: %w", call.Op, ErrAnswerLost)
		}
		answers <- answer{v: v, err: err}
	}()

	if ctx.Err() != nil {
		// Sent as the caller gave up: it lands, the caller does not wait.
		return zero, fmt.Errorf("leasetest: %s: gave up waiting for the answer: %w", call.Op, ctx.Err())
	}
	select {
	case a := <-answers:
		return a.v, a.err
	case <-ctx.Done():
		select {
		case a := <-answers: // it came in the same instant: take it
			return a.v, a.err
		default:
		}
		return zero, fmt.Errorf("leasetest: %s: gave up waiting for the answer: %w", call.Op, ctx.Err())
	}
}

// land sends one copy of a request after delay and reports its landing.
func land[T any](ctx context.Context, n *Network, call Call, copyNo int, delay time.Duration,
	send func(context.Context) (T, error)) (T, error) {
	sleep(delay)
	late := ctx.Err() != nil
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), landingTimeout)
	defer cancel()
	v, err := send(sctx)
	n.report(Landing{Call: call, Copy: copyNo, Late: late, Err: err})
	return v, err
}

func sleep(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}
