package sweep

import (
	"encoding/json"
	"fmt"
	"math"
)

// Aggregate is the mean and spread of one metric over repeated trials, with
// a Student-t confidence interval of the mean (AIPerf's multi-run
// aggregates: mean, std, min, max, CV, standard error, ci_low, ci_high).
type Aggregate struct {
	N          int     `json:"n"`
	Mean       float64 `json:"mean"`
	Std        float64 `json:"std"` // sample standard deviation (n−1)
	Min        float64 `json:"min"`
	Max        float64 `json:"max"`
	CV         float64 `json:"cv"`
	StdErr     float64 `json:"std_err"`
	CILow      float64 `json:"ci_low"`
	CIHigh     float64 `json:"ci_high"`
	TCritical  float64 `json:"t_critical"`
	Confidence float64 `json:"confidence"`
}

// Summarize computes the aggregate of xs at the given confidence level
// (e.g. 0.95). With one value the interval collapses to it.
func Summarize(xs []float64, confidence float64) Aggregate {
	a := Aggregate{N: len(xs), Confidence: confidence}
	if len(xs) == 0 {
		return a
	}
	a.Min, a.Max = xs[0], xs[0]
	sum := 0.0
	for _, x := range xs {
		sum += x
		a.Min = math.Min(a.Min, x)
		a.Max = math.Max(a.Max, x)
	}
	a.Mean = sum / float64(len(xs))
	a.CILow, a.CIHigh = a.Mean, a.Mean
	if len(xs) < 2 {
		return a
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - a.Mean) * (x - a.Mean)
	}
	a.Std = math.Sqrt(ss / float64(len(xs)-1))
	if a.Mean != 0 {
		a.CV = a.Std / math.Abs(a.Mean)
	}
	a.StdErr = a.Std / math.Sqrt(float64(len(xs)))
	a.TCritical = tCritical(confidence, len(xs)-1)
	a.CILow = a.Mean - a.TCritical*a.StdErr
	a.CIHigh = a.Mean + a.TCritical*a.StdErr
	return a
}

// TCritical returns the two-sided Student-t critical value: the t with
// P(|T| <= t) = confidence for df degrees of freedom.
func tCritical(confidence float64, df int) float64 {
	if df < 1 || confidence <= 0 || confidence >= 1 {
		return math.NaN()
	}
	target := 1 - (1-confidence)/2 // upper quantile
	lo, hi := 0.0, 1.0
	for tCDF(hi, float64(df)) < target {
		hi *= 2
	}
	for i := 0; i < 200 && hi-lo > 1e-12; i++ {
		mid := (lo + hi) / 2
		if tCDF(mid, float64(df)) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// tCDF is the Student-t cumulative distribution for t >= 0.
func tCDF(t, df float64) float64 {
	x := df / (df + t*t)
	return 1 - 0.5*regIncBeta(df/2, 0.5, x)
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (Lentz's method).
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	lbeta, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lbeta - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, 1-x)
	}
	const tiny = 1e-300
	f, c, d := 1.0, 1.0, 0.0
	for i := 0; i <= 400; i++ {
		m := float64(i / 2)
		var num float64
		switch {
		case i == 0:
			num = 1
		case i%2 == 0:
			num = m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		default:
			num = -((a + m) * (a + b + m) * x) / ((a + 2*m) * (a + 2*m + 1))
		}
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		d = 1 / d
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		cd := c * d
		f *= cd
		if math.Abs(1-cd) < 1e-14 {
			break
		}
	}
	return front * (f - 1) / a
}

// MarshalJSON writes non-finite numbers as null (JSON has no NaN).
func (a Aggregate) MarshalJSON() ([]byte, error) {
	f := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{
		"n": a.N, "mean": f(a.Mean), "std": f(a.Std), "min": f(a.Min), "max": f(a.Max), "cv": f(a.CV),
		"std_err": f(a.StdErr), "ci_low": f(a.CILow), "ci_high": f(a.CIHigh), "t_critical": f(a.TCritical),
		"confidence": a.Confidence,
	})
}

// String renders "mean ± half-width (ci%)".
func (a Aggregate) String() string {
	if a.N < 2 {
		return fmt.Sprintf("%.4g", a.Mean)
	}
	return fmt.Sprintf("%.4g ± %.2g (%g%% CI, n=%d)", a.Mean, (a.CIHigh-a.CILow)/2, a.Confidence*100, a.N)
}

// TCDF is the Student-t cumulative distribution function with df degrees
// of freedom (df may be fractional: Welch's test).
func TCDF(t, df float64) float64 {
	if t < 0 {
		return 1 - tCDF(-t, df)
	}
	return tCDF(t, df)
}
