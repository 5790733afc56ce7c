package flight

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// LoadStars reads STAR reference data: one aerodrome per line, its ICAO
// indicator followed by its STAR designators, separated by white space, e.g.
//
//	# aerodrome  STARs
//	EGLL OCK1A BIG2B LAM3A BNN1B
//
// Blank lines and lines starting with # are ignored. An aerodrome listed
// twice gets the STARs of both lines. An aerodrome must be 4 upper-case
// letters and a STAR 2 to 7 upper-case letters and digits starting with a
// letter; anything else is an error naming the line.
func LoadStars(r io.Reader) (Stars, error) {
	stars := Stars{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if !isAerodrome(f[0]) {
			return nil, fmt.Errorf("load STARs line %d: aerodrome %q, want 4 upper-case letters", n, f[0])
		}
		if len(f) == 1 {
			return nil, fmt.Errorf("load STARs line %d: aerodrome %s has no STAR", n, f[0])
		}
		for _, star := range f[1:] {
			if !isSTAR(star) {
				return nil, fmt.Errorf("load STARs line %d: STAR %q, want 2-7 upper-case letters and digits starting with a letter", n, star)
			}
			stars[f[0]] = append(stars[f[0]], star)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load STARs: %w", err)
	}
	return stars, nil
}

func isAerodrome(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isSTAR(s string) bool {
	if len(s) < 2 || len(s) > 7 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
