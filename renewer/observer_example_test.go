package renewer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Many named locks in one place, and one process waiting on several of
// them through one Observer: one List per poll interval serves every
// waiter. In production the locks are azlease.NewBlob(cc, name, opts) and
// the Observer azlease.NewObserver(cc, nil), for one container.
func ExampleNewObserver() {
	ctx := context.Background()
	locks := leasetest.NewNamed() // a container of named locks, in memory

	// Another process holds three locks.
	var held []*renewer.Lease
	for _, name := range []string{"tenant/a", "tenant/b", "tenant/c"} {
		l, _ := locks.Lease(name)
		r, _ := renewer.New(l, renewer.WithIdentity("other"))
		ls, _ := r.TryAcquire(ctx)
		held = append(held, ls)
	}

	// This process waits on all three, through one Observer.
	obs, err := renewer.NewObserver(locks, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	got := make(chan string)
	for _, name := range []string{"tenant/a", "tenant/b", "tenant/c"} {
		l, _ := locks.Lease(name)
		r, err := renewer.New(l, renewer.WithIdentity("me"), renewer.WithObserver(obs),
			renewer.WithPollInterval(100*time.Millisecond))
		if err != nil {
			fmt.Println(err)
			return
		}
		go func() {
			ls, err := r.Acquire(ctx)
			if err != nil {
				got <- err.Error()
				return
			}
			defer ls.Release(ctx)
			got <- fmt.Sprintf("%s: term %d", name, ls.Term())
		}()
	}

	time.Sleep(time.Second)
	fmt.Println("lists while all were held:", locks.Lists() <= 13)
	_ = held[1].Release(ctx) // tenant/b is freed
	fmt.Println(<-got)
	for _, ls := range []*renewer.Lease{held[0], held[2]} {
		_ = ls.Release(ctx)
		fmt.Println(<-got)
	}
	// Output:
	// lists while all were held: true
	// tenant/b: term 2
	// tenant/a: term 2
	// tenant/c: term 2
}
