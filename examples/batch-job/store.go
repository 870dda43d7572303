package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// A fencedStore is the resource the lock guards: a JSON file of records
// that accepts a write only if its fencing token is at least the highest it
// has seen. It stands in for a database row with a token column
// (UPDATE ... WHERE token <= $token) or an object store with conditional
// writes. Writers on one machine are serialized by flock on a lock file
// next to it. A fencedStore is safe for concurrent use by processes that
// share its directory.
type fencedStore struct {
	dir string
}

// record is one accepted write.
type record struct {
	Token int64  `json:"token"`
	Term  int64  `json:"term"`
	Data  string `json:"data"`
}

// storeFile is the file's content.
type storeFile struct {
	Highest int64    `json:"highest_token"`
	Records []record `json:"records"`
}

// errStale is returned for a write whose token is lower than the highest
// the store has seen: it came from a holder that lost the lock.
var errStale = errors.New("fenced store: stale fencing token")

func openStore(dir string) (*fencedStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &fencedStore{dir: dir}, nil
}

// Write appends data if token is at least the highest token seen, and
// returns an error wrapping errStale otherwise.
func (s *fencedStore) Write(token, term int64, data string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if token < f.Highest {
		return fmt.Errorf("%w: write with token %d rejected, the store has seen %d", errStale, token, f.Highest)
	}
	f.Highest = token
	f.Records = append(f.Records, record{Token: token, Term: term, Data: data})
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("store write: %w", err)
	}
	tmp := filepath.Join(s.dir, "store.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("store write: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, "store.json")); err != nil {
		return fmt.Errorf("store write: %w", err)
	}
	return nil
}

// Read returns the store's content.
func (s *fencedStore) Read() (storeFile, error) {
	unlock, err := s.lock()
	if err != nil {
		return storeFile{}, err
	}
	defer unlock()
	return s.read()
}

func (s *fencedStore) read() (storeFile, error) {
	var f storeFile
	b, err := os.ReadFile(filepath.Join(s.dir, "store.json"))
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("store read: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("store read: %w", err)
	}
	return f, nil
}

// lock takes the store's file lock, which serializes writers on this
// machine (it is not the distributed lock: that is the lease).
func (s *fencedStore) lock() (unlock func(), err error) {
	lf, err := os.OpenFile(filepath.Join(s.dir, "store.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store lock: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, fmt.Errorf("store lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		lf.Close()
	}, nil
}
