// Command benchtable reads `go test -bench` output on stdin and prints one
// table: each workload, our figure, the raw baseline measured in the same
// run, and the ratio (issue 8: `make bench` prints one table).
//
// A baseline is found two ways: a benchmark that reports its own baseline
// as raw-… metrics and a ratio metric (the interleaved ones), or a pair of
// benchmarks named X and XRawBolt / XRaw, compared on their main metric
// (ns/op, or a rate such as cases/s).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

type result struct {
	name    string
	metrics map[string]float64
	order   []string
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) []result {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		res := result{name: strings.TrimPrefix(m[1], "Benchmark"), metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res.metrics[f[i+1]] = v
			res.order = append(res.order, f[i+1])
		}
		out = append(out, res)
	}
	return out
}

// rates are metrics where more is better.
func isRate(unit string) bool { return strings.HasSuffix(unit, "/s") }

func mainMetric(r result) string {
	for _, u := range r.order {
		if isRate(u) {
			return u
		}
	}
	return "ns/op"
}

func format(v float64, unit string) string {
	switch {
	case unit == "ns/op" && v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case unit == "ns/op" && v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	case unit == "ns/op":
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.4g %s", v, unit)
}

func extras(r result, skip map[string]bool) string {
	var parts []string
	for _, u := range r.order {
		if skip[u] || u == "B/op" || u == "allocs/op" || strings.HasPrefix(u, "raw-") {
			continue
		}
		parts = append(parts, format(r.metrics[u], u))
	}
	return strings.Join(parts, ", ")
}

func main() {
	results := parse(os.Stdin)
	byName := map[string]result{}
	for _, r := range results {
		byName[r.name] = r
	}
	var rows [][4]string
	done := map[string]bool{}
	for _, r := range results {
		if done[r.name] {
			continue
		}
		done[r.name] = true
		if _, ok := r.metrics["ratio"]; ok {
			var raw string
			for _, u := range r.order {
				if strings.HasPrefix(u, "raw-") {
					raw = format(r.metrics[u], strings.TrimPrefix(u, "raw-"))
					break
				}
			}
			rows = append(rows, [4]string{r.name, extras(r, map[string]bool{"ratio": true}), raw, fmt.Sprintf("%.2f×", r.metrics["ratio"])})
			continue
		}
		var base result
		found := false
		for _, suffix := range []string{"RawBolt", "Raw", "Baseline"} {
			if b, ok := byName[r.name+suffix]; ok {
				base, found = b, true
				done[b.name] = true
			}
		}
		if strings.HasSuffix(r.name, "RawBolt") || strings.HasSuffix(r.name, "Raw") {
			continue // shown with its pair
		}
		if !found {
			rows = append(rows, [4]string{r.name, extras(r, nil), "—", "—"})
			continue
		}
		u := mainMetric(r)
		ours, theirs := r.metrics[u], base.metrics[u]
		ratio := ours / theirs // ours/raw: for a time lower is better, for a rate higher
		rows = append(rows, [4]string{r.name, extras(r, nil), extras(base, nil), fmt.Sprintf("%.2f× (%s)", ratio, u)})
	}
	fmt.Println("| workload | ours | raw baseline (same run) | ratio |")
	fmt.Println("|---|---|---|---|")
	for _, row := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
	}
}
