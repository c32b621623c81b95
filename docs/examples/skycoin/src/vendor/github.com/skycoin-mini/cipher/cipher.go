// Package cipher is the vendored dependency of the skycoin example: a stand-in
// for skycoin's own cipher package, so the build needs the vendor/ tree.
package cipher

// Checksum is FNV-1a over b, printed as 16 hex digits.
func Checksum(b []byte) string {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		out[i] = hex[h&15]
		h >>= 4
	}
	return string(out)
}
