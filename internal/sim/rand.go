package sim

import (
	mrand "math/rand/v2"
	"time"
)

// mix is SplitMix64's finalizer: a fast, well-spread 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hash combines its arguments into one well-spread number.
func hash(xs ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, x := range xs {
		h = mix(h ^ x)
	}
	return h
}

// newRand returns a random stream that depends only on its key. Streams
// are never shared between goroutines: a draw's value then cannot depend
// on which goroutine the scheduler ran first.
func newRand(key ...uint64) *mrand.Rand {
	h := hash(key...)
	return mrand.New(mrand.NewPCG(h, mix(h)))
}

// between returns a duration uniform in [lo, hi).
func between(r *mrand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// strHash hashes a string (FNV-1a), for keying draws by a lease name.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}
