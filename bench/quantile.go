package bench

import "slices"

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of xs, interpolating
// linearly between the two nearest ranks, so Quantile(xs, 0.5) is the
// median of an even count too; 0 if xs is empty. The report commands
// share it so every table computes medians alike.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
