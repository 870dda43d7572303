//go:build peers

// The peers (client-go's leaderelection and an embedded etcd) build only
// with -tags peers (make bench sets it): their code is about a gigabyte of
// compiled packages, which a fresh machine's make test need not build.

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/klog/v2"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// peersBuilt: this binary measures the peers.
const peersBuilt = true

func init() {
	// client-go's leader election logs through klog; the bench prints tables.
	klog.SetLogger(logr.Discard())
}

// peerSystems are client-go's and etcd's elections at lease duration l.
func peerSystems(l time.Duration) []system {
	return []system{clientGoSystem(clientGoSetting(l)), etcdSystem(etcdSetting(l))}
}

// ---- client-go ----

// clientGoSetting is client-go leaderelection's defaults (LeaseDuration
// 15 s, RenewDeadline 10 s, RetryPeriod 2 s), scaled to lease duration l in
// the same 15:10:2 ratio. Renew is the RetryPeriod (the leader writes the
// record every RetryPeriod); Poll is the RetryPeriod too (a standby sleeps
// RetryPeriod × (1 + 1.2 × U[0,1)) between tries, 2 to 4.4 s at defaults).
func clientGoSetting(l time.Duration) setting {
	s := newSetting("client-go", l, l*2/15, l*2/15,
		fmt.Sprintf("client-go tools/leaderelection itself (v0.37.2) over a blob with ETag-conditional writes: LeaseDuration %v, RenewDeadline %v, RetryPeriod %v (its defaults 15/10/2 s scaled to L), ReleaseOnCancel", l, l*10/15, l*2/15))
	s.MarginS = (l - l*10/15).Seconds()
	return s
}

func clientGoConfig(s setting, lock *blobLock, cb leaderelection.LeaderCallbacks) leaderelection.LeaderElectionConfig {
	if cb.OnStartedLeading == nil {
		cb.OnStartedLeading = func(context.Context) {}
	}
	if cb.OnStoppedLeading == nil {
		cb.OnStoppedLeading = func() {}
	}
	return leaderelection.LeaderElectionConfig{Lock: lock, LeaseDuration: s.Lease, RenewDeadline: s.Lease * 10 / 15,
		RetryPeriod: s.Renew, ReleaseOnCancel: true, Callbacks: cb, Name: lock.describe}
}

// cgHolder is one side of client-go: take runs a LeaderElector until it
// leads; giving up cancels it, which releases the record (ReleaseOnCancel:
// holder emptied) before Run returns.
type cgHolder struct {
	s    setting
	lock *blobLock
}

func (h cgHolder) take(ctx context.Context) (func(context.Context) error, error) {
	runCtx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	le, err := leaderelection.NewLeaderElector(clientGoConfig(h.s, h.lock, leaderelection.LeaderCallbacks{
		OnStartedLeading: func(context.Context) { close(started) },
	}))
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		le.Run(runCtx)
	}()
	giveUp := func(context.Context) error {
		cancel()
		<-done
		return nil
	}
	select {
	case <-started:
		return giveUp, nil
	case <-done:
		cancel()
		return nil, errors.New("client-go: Run returned without leading")
	case <-ctx.Done():
		_ = giveUp(ctx)
		return nil, ctx.Err()
	}
}

func clientGoSystem(s setting) system {
	return system{Name: "client-go", Setting: s, Billed: true,
		newContender: func(ctx context.Context, group, id string) (contender, error) {
			c := newCounter(newHTTPClient(4))
			lock, err := newBlobLock(ctx, connString(), group, id, c)
			if err != nil {
				return contender{}, err
			}
			return contender{holder: cgHolder{s, lock}, counts: counterCounts(c), close: func() {}}, nil
		},
		crashOnce: func(ctx context.Context, group string) (crashSample, error) { return clientGoCrashOnce(ctx, s, group) },
		newMember: func(ctx context.Context, group, who string, tl *timeline) (member, error) {
			return startCgMember(ctx, s, group, who, tl)
		},
	}
}

// clientGoCrashOnce: a leader and a standby LeaderElector, each with a lock
// and an HTTP client of its own; once the standby has seen the leader, the
// leader's lock dies at a random phase of its renew cycle (every call fails
// at once, none reaches storage: a crash as storage sees it) and its context
// is cancelled (its release fails too). The failover is from the kill to the
// standby's OnStartedLeading.
func clientGoCrashOnce(ctx context.Context, s setting, group string) (crashSample, error) {
	leaderLock, err := newBlobLock(ctx, connString(), group, "leader", newCounter(newHTTPClient(4)))
	if err != nil {
		return crashSample{}, err
	}
	standbyLock, err := newBlobLock(ctx, connString(), group, "standby", newCounter(newHTTPClient(4)))
	if err != nil {
		return crashSample{}, err
	}
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	leading := make(chan struct{})
	leader, err := leaderelection.NewLeaderElector(clientGoConfig(s, leaderLock, leaderelection.LeaderCallbacks{
		OnStartedLeading: func(context.Context) { close(leading) },
	}))
	if err != nil {
		return crashSample{}, err
	}
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		leader.Run(lctx)
	}()
	defer func() { <-leaderDone }()
	defer lcancel()
	select {
	case <-leading:
	case <-time.After(30 * time.Second):
		return crashSample{}, errors.New("leader not elected")
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}

	sctx, scancel := context.WithCancel(ctx)
	sawLeader := make(chan struct{}, 1)
	elected := make(chan time.Time, 1)
	standby, err := leaderelection.NewLeaderElector(clientGoConfig(s, standbyLock, leaderelection.LeaderCallbacks{
		OnStartedLeading: func(context.Context) { elected <- time.Now() },
		OnNewLeader: func(id string) {
			if id == "leader" {
				select {
				case sawLeader <- struct{}{}:
				default:
				}
			}
		},
	}))
	if err != nil {
		scancel()
		return crashSample{}, err
	}
	standbyDone := make(chan struct{})
	go func() {
		defer close(standbyDone)
		standby.Run(sctx)
	}()
	defer func() {
		scancel()
		<-standbyDone
	}()
	select {
	case <-sawLeader:
	case <-elected:
		return crashSample{}, errors.New("standby elected while the leader lived")
	case <-time.After(10*s.Poll + 10*time.Second):
		return crashSample{}, errors.New("standby never saw the leader")
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}
	time.Sleep(s.Renew + rand.N(s.Renew))
	killed := time.Now()
	leaderLock.dead.Store(true)
	lcancel()
	renewed := time.Unix(0, leaderLock.lastWrite.Load())
	limit := s.Lease + 10*s.Poll + 15*time.Second
	select {
	case at := <-elected:
		return crashSample{failover: at.Sub(killed), sinceRenew: killed.Sub(renewed),
			afterExpiry: at.Sub(renewed.Add(s.Lease))}, nil
	case <-time.After(limit):
		return crashSample{}, fmt.Errorf("no takeover within %v of the kill", limit)
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}
}

// ---- etcd ----

// etcdSetting is etcd's concurrency.Election with a session TTL of l: the
// session's lease is kept alive every TTL/3 (Renew); a standby watches the
// key before its own instead of polling (Poll 0).
func etcdSetting(l time.Duration) setting {
	s := newSetting("etcd", l, l/3, 0,
		fmt.Sprintf("embedded etcd v3.7.3 (one member, loopback), client/v3 concurrency.Election; session TTL %v (lease kept alive every TTL/3), standbys watch", l))
	s.MarginS = 0
	return s
}

// etcdServer is the one embedded etcd member of a bench run.
var etcdServer struct {
	once     sync.Once
	e        *embed.Etcd
	dir      string
	endpoint string
	err      error
}

func freeLoopbackPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// startEtcd starts the embedded etcd once: data in a temporary directory,
// client and peer URLs on free loopback ports, no logs.
func startEtcd() (string, error) {
	etcdServer.once.Do(func() {
		etcdServer.err = func() error {
			dir, err := os.MkdirTemp("", "leasebench-etcd-")
			if err != nil {
				return err
			}
			etcdServer.dir = dir
			clientAddr, err := freeLoopbackPort()
			if err != nil {
				return err
			}
			peerAddr, err := freeLoopbackPort()
			if err != nil {
				return err
			}
			cu, pu := url.URL{Scheme: "http", Host: clientAddr}, url.URL{Scheme: "http", Host: peerAddr}
			cfg := embed.NewConfig()
			cfg.Dir = dir
			cfg.Name = "leasebench"
			cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
			cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
			cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
			cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
			e, err := embed.StartEtcd(cfg)
			if err != nil {
				return fmt.Errorf("etcd: %w", err)
			}
			select {
			case <-e.Server.ReadyNotify():
			case <-time.After(30 * time.Second):
				e.Close()
				return errors.New("etcd: not ready within 30 s")
			}
			etcdServer.e, etcdServer.endpoint = e, cu.String()
			return nil
		}()
	})
	return etcdServer.endpoint, etcdServer.err
}

// stopEtcd stops the embedded etcd, if it was started, and removes its data.
// It is safe to call more than once.
func stopEtcd() {
	if etcdServer.e != nil {
		etcdServer.e.Close()
		etcdServer.e = nil
	}
	if etcdServer.dir != "" {
		_ = os.RemoveAll(etcdServer.dir)
		etcdServer.dir = ""
	}
}

// rpcCounter counts a client's gRPC requests: each unary call and each
// message sent on a stream (a lease keep-alive is one message on the
// LeaseKeepAlive stream), by method. lastKeepAlive is when the last
// keep-alive was sent.
type rpcCounter struct {
	mu            sync.Mutex // guards counts and lastKeepAlive
	counts        map[string]int64
	lastKeepAlive time.Time
}

func (c *rpcCounter) add(method string) {
	short := method[strings.LastIndex(method, "/")+1:]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int64{}
	}
	c.counts[short]++
	if short == "LeaseKeepAlive" {
		c.lastKeepAlive = time.Now()
	}
}

func (c *rpcCounter) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int64, len(c.counts))
	for k, v := range c.counts {
		m[k] = v
	}
	return m
}

func (c *rpcCounter) keepAliveSent() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastKeepAlive
}

type countedStream struct {
	grpc.ClientStream
	c      *rpcCounter
	method string
}

func (s countedStream) SendMsg(m any) error {
	s.c.add(s.method)
	return s.ClientStream.SendMsg(m)
}

func (c *rpcCounter) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			c.add(method)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			cs, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				return nil, err
			}
			return countedStream{cs, c, method}, nil
		}),
	}
}

// etcdCandidate is one etcd client (its own connection) with a session of
// TTL L and an election on prefix.
type etcdCandidate struct {
	cli  *clientv3.Client
	sess *concurrency.Session
	el   *concurrency.Election
	rpc  *rpcCounter
	id   string
}

func newEtcdCandidate(s setting, prefix, id string) (*etcdCandidate, error) {
	endpoint, err := startEtcd()
	if err != nil {
		return nil, err
	}
	rc := &rpcCounter{}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second,
		DialOptions: rc.dialOptions(), Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(int(s.Lease/time.Second)))
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("etcd session: %w", err)
	}
	return &etcdCandidate{cli: cli, sess: sess, el: concurrency.NewElection(sess, "/leasebench/"+prefix+"/"), rpc: rc, id: id}, nil
}

// close ends the session (revoking its lease) and the client.
func (c *etcdCandidate) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.el.Resign(ctx)
	_ = c.sess.Close()
	_ = c.cli.Close()
}

func (c *etcdCandidate) take(ctx context.Context) (func(context.Context) error, error) {
	if err := c.el.Campaign(ctx, c.id); err != nil {
		return nil, err
	}
	return c.el.Resign, nil
}

func etcdSystem(s setting) system {
	return system{Name: "etcd", Setting: s, Billed: false,
		newContender: func(_ context.Context, group, id string) (contender, error) {
			c, err := newEtcdCandidate(s, group, id)
			if err != nil {
				return contender{}, err
			}
			return contender{holder: c, counts: c.rpc.snapshot, close: c.close}, nil
		},
		crashOnce: func(ctx context.Context, group string) (crashSample, error) { return etcdCrashOnce(ctx, s, group) },
		newMember: func(_ context.Context, group, who string, tl *timeline) (member, error) {
			return startEtcdMember(s, group, who, tl)
		},
	}
}

// etcdCrashOnce: the leader campaigns and wins; a standby campaigns (and
// waits on the leader's key); at a random phase of the keep-alive cycle the
// leader's client is closed without revoking its session's lease, so the
// key goes only when the lease expires. The failover is from the close to
// the standby's Campaign returning.
func etcdCrashOnce(ctx context.Context, s setting, group string) (crashSample, error) {
	leader, err := newEtcdCandidate(s, group, "leader")
	if err != nil {
		return crashSample{}, err
	}
	killed := false
	defer func() {
		if !killed {
			leader.close()
		}
	}()
	if _, err := leader.take(ctx); err != nil {
		return crashSample{}, fmt.Errorf("leader: %w", err)
	}
	standby, err := newEtcdCandidate(s, group, "standby")
	if err != nil {
		return crashSample{}, err
	}
	defer standby.close()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	elected := make(chan time.Time, 1)
	errc := make(chan error, 1)
	go func() {
		if err := standby.el.Campaign(sctx, "standby"); err != nil {
			errc <- err
			return
		}
		elected <- time.Now()
	}()
	// The standby's key is in and its watch set up within a few round trips.
	time.Sleep(time.Second)
	select {
	case <-elected:
		return crashSample{}, errors.New("standby elected while the leader lived")
	case err := <-errc:
		return crashSample{}, fmt.Errorf("standby: %w", err)
	default:
	}
	time.Sleep(s.Renew + rand.N(s.Renew))
	renewed := leader.rpc.keepAliveSent()
	killed = true
	at0 := time.Now()
	_ = leader.cli.Close() // no Resign, no revoke: the lease must expire
	limit := s.Lease + 15*time.Second
	select {
	case at := <-elected:
		return crashSample{failover: at.Sub(at0), sinceRenew: at0.Sub(renewed), afterExpiry: at.Sub(renewed.Add(s.Lease))}, nil
	case err := <-errc:
		return crashSample{}, fmt.Errorf("standby: %w", err)
	case <-time.After(limit):
		return crashSample{}, fmt.Errorf("no takeover within %v of the kill", limit)
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}
}

// ---- the rollout sections' members ----

// cgMember is one client-go incarnation: a LeaderElector with a lock, an
// HTTP client and a counter of its own, identity who.
type cgMember struct {
	who    string
	tl     *timeline
	lock   *blobLock
	c      *counter
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
}

func startCgMember(ctx context.Context, s setting, group, who string, tl *timeline) (member, error) {
	c := newCounter(newHTTPClient(4))
	lock, err := newBlobLock(ctx, connString(), group, who, c)
	if err != nil {
		return nil, err
	}
	le, err := leaderelection.NewLeaderElector(clientGoConfig(s, lock, leaderelection.LeaderCallbacks{
		OnStartedLeading: func(ctx context.Context) {
			tl.elected(who, time.Now())
			<-ctx.Done()
			tl.ended(who, time.Now())
		},
	}))
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m := &cgMember{who: who, tl: tl, lock: lock, c: c, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		le.Run(runCtx)
	}()
	return m, nil
}

// stop cancels the elector: with ReleaseOnCancel a leader empties the
// record before Run returns.
func (m *cgMember) stop() (int64, error) {
	m.cancel()
	select {
	case <-m.done:
		return m.c.snapshot().total(), nil
	case <-time.After(30 * time.Second):
		return m.c.snapshot().total(), fmt.Errorf("client-go %s: Run still running 30 s after cancel", m.who)
	}
}

// kill: every call of the lock fails at once from now on, none reaching
// storage (a crash as storage sees it), and the elector stops.
func (m *cgMember) kill() {
	m.tl.ended(m.who, time.Now())
	m.lock.dead.Store(true)
	m.cancel()
	<-m.done
}

func (m *cgMember) calls() (int64, error)     { return m.c.snapshot().total(), nil }
func (m *cgMember) nextInLine() (bool, error) { return false, errNoSeats }

// etcdMember is one etcd incarnation: a client and a session of its own,
// campaigning with value who.
type etcdMember struct {
	who      string
	tl       *timeline
	c        *etcdCandidate
	cancel   context.CancelFunc
	campDone chan struct{} // closed when Campaign has returned
}

func startEtcdMember(s setting, group, who string, tl *timeline) (member, error) {
	c, err := newEtcdCandidate(s, group, who)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	m := &etcdMember{who: who, tl: tl, c: c, cancel: cancel, campDone: make(chan struct{})}
	go func() {
		defer close(m.campDone)
		if err := c.el.Campaign(cctx, who); err == nil {
			tl.elected(who, time.Now())
		}
	}()
	return m, nil
}

func (m *etcdMember) rpcs() int64 {
	var n int64
	for _, v := range m.c.rpc.snapshot() {
		n += v
	}
	return n
}

// stop: a leader stops leading, then resigns; a standby stops waiting
// (Campaign, cancelled, withdraws its key); then the session (its lease
// revoked) and the client are closed.
func (m *etcdMember) stop() (int64, error) {
	m.tl.ended(m.who, time.Now())
	m.cancel()
	<-m.campDone
	m.tl.ended(m.who, time.Now()) // elected just as it was cancelled
	m.c.close()
	return m.rpcs(), nil
}

// kill closes the client without resigning or revoking: the session's
// lease must expire.
func (m *etcdMember) kill() {
	m.tl.ended(m.who, time.Now())
	_ = m.c.cli.Close()
	<-m.campDone
}

func (m *etcdMember) calls() (int64, error)     { return m.rpcs(), nil }
func (m *etcdMember) nextInLine() (bool, error) { return false, errNoSeats }
