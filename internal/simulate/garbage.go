package simulate

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The garbage generators derive a malformed record from a valid one. Each
// variant breaks one syntax rule of the feed's parser, and every variant
// keeps the feed's framing intact, so one garbage record is framed as
// exactly one rejected record.

// garbageSBS breaks an SBS MSG line.
func garbageSBS(r *rand.Rand, valid string) string {
	f := strings.Split(valid, ",")
	switch r.IntN(9) {
	case 0: // cut short: too few fields
		return strings.Join(f[:4+r.IntN(14)], ",")
	case 1:
		f[4] = "ZZ" + f[4][2:]
	case 2:
		f[6] = f[6][:5] + "02/30"
	case 3:
		f[0] = "MSX"
	case 4:
		f[1] = "9"
	case 5:
		return valid + ",0"
	case 6:
		return ""
	case 7:
		return valid[:10] + "\x07" + valid[11:]
	case 8:
		return valid + strings.Repeat("9", 1100)
	}
	return strings.Join(f, ",")
}

// arcidOf finds the callsign in an ADEXP or ATS message, for garbage that
// looks like it belongs to a real flight.
func arcidOf(msg string) string {
	if i := strings.Index(msg, "-ARCID "); i >= 0 {
		s := msg[i+len("-ARCID "):]
		return s[:strings.IndexAny(s+" \n", " \n")]
	}
	if i := strings.IndexByte(msg, '-'); i >= 0 {
		s := msg[i+1:]
		return s[:strings.IndexAny(s+"-/)", "-/)")]
	}
	return "SIM1"
}

// garbageADEXP breaks an ADEXP message; every variant starts with -TITLE
// or is one line of free text, so adexp.Split frames it alone.
func garbageADEXP(r *rand.Rand, valid string) string {
	id := arcidOf(valid)
	switch r.IntN(7) {
	case 0:
		return fmt.Sprintf("-TITLE IFPL -ARCID %s -ADEP EDDM -ADES EDDH -EOBT 1304", id) // no EOBD
	case 1:
		return fmt.Sprintf("-TITLE IFPL -ARCID %s -ADEP EDDM -ADES EDDH -EOBD 261399 -EOBT 1304", id)
	case 2:
		return fmt.Sprintf("-TITLE DLA -ARCID %s -ADEP EDDM -ADES EDDH -EOBT 2460", id)
	case 3:
		return fmt.Sprintf("-TITLE CHG -ARCID %s -ADEP EDDM -ADES EDDH -EOBT 1304 -ROUTE N0450F350 DCT [..]", id)
	case 4:
		return fmt.Sprintf("-TITLE IFPL -ARCID %s -BEGIN RTEPTS -PT -PTID EDDM", id)
	case 5:
		return fmt.Sprintf("-TITLE CNL -ARCID %s -ADEP EDDM -ADES EDDH -EOBT 1304", strings.ToLower(id))
	default:
		return "AOBT: 1304 " + id
	}
}

// garbageATS breaks an ICAO ATS message; every variant is one
// parenthesised message or text without parentheses, so ats.Split frames
// it alone.
func garbageATS(r *rand.Rand, valid string) string {
	id := arcidOf(valid)
	switch r.IntN(7) {
	case 0:
		return fmt.Sprintf("(FPL-%s-IS-A320/M-S/C-EDDM2460-N0450F350 DCT-EDDH0100-0)", id)
	case 1:
		return fmt.Sprintf("(FPL-%s-IS-A320/M-S/C-EDDM1200-N0450F350 DCT-EDDH0100)", id)
	case 2:
		return fmt.Sprintf("ZCZC SIM%03d 011200", r.IntN(1000))
	case 3:
		return fmt.Sprintf("(XX-%s)", id)
	case 4:
		return fmt.Sprintf("(CNL-%s-EDDM1304-EDDH-DOF/261399)", id)
	case 5:
		return fmt.Sprintf("(CHG-%s-EDDM1304-EDDH-DOF/260101)", id)
	default:
		return "(\x01" + valid[1:]
	}
}
