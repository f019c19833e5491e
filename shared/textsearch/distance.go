// Package textsearch holds the pieces of typo-tolerant search that the
// server's article index and the agent's offline copy both use, so a typo
// is forgiven the same way online and offline.
package textsearch

// Distance is the optimal string alignment distance between a and b:
// Levenshtein plus swapping two neighbours, so "pritner" is one edit from
// "printer". It is exact up to limit and limit+1 for anything further;
// once every cell of a row is past limit it gives up, which keeps a scan of
// a large vocabulary cheap.
func Distance(a, b []rune, limit int) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			c := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				c = min(c, prev2[j-2]+1)
			}
			cur[j] = c
			rowMin = min(rowMin, c)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}
