package post

import "herald/internal/address"

// normalize lower-cases an address, or returns "" for one that is not.
func normalize(a string) string {
	n, err := address.Normalize(a)
	if err != nil {
		return ""
	}
	return n
}
