package adexp_test

import (
	"fmt"
	"strings"

	"github.com/contrail-atm/contrail/ingest/adexp"
)

func ExampleParser_Check() {
	var p adexp.Parser
	key, ts, err := p.Check([]byte("-TITLE DLA -ARCID DLH5KF -ADEP EDDM -EOBT 1345 -ADES EDDH -EOBD 181022 -FILTIM 221250"))
	fmt.Println(key, ts, err)

	_, _, err = p.Check([]byte("-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 991399 -EOBT 1304"))
	fmt.Println(err.(*adexp.SyntaxError).ReasonCode(), err)
	// Output:
	// EDDM/181022/1345/DLH5KF/EDDH 2018-10-22 12:50:00 +0000 UTC <nil>
	// adexp.bad_field -EOBD is "991399", want a date YYMMDD
}

func ExampleParser_Parse() {
	var p adexp.Parser
	m, err := p.Parse([]byte("-TITLE IFPL -BEGIN ADDR -FAC R -FAC DM -END ADDR -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304 -IFPLID AA00000113 -BEGIN RTEPTS -PT -PTID EDDM -ETO 181022130413 -PT -PTID DM066 -ETO 181022131239 -FL F070 -END RTEPTS"))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Title, m.RecordKey(), m.Key.IFPLID)
	pts, _ := m.List("RTEPTS")
	for _, f := range pts {
		if f.Name == "PTID" {
			fmt.Print(f.Value, " ")
		}
	}
	fmt.Println()
	// Output:
	// IFPL EDDM/181022/1304/DLH5KF/EDDH AA00000113
	// EDDM DM066
}

func ExampleNewScanner() {
	dump := `181022-130556
-TITLE LAM -REFDATA -SENDER -FAC TDM -RECVR -FAC DM -SEQNUM 002

 AOBT: 1304

-TITLE RRV
  -ARCID DLH5KF -ADEP EDDM -ADES EDDH
  -COORDATA -PTID EKSOS -TO 1325 -TFL F220
`
	var p adexp.Parser
	sc := adexp.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		key, _, err := p.Check(sc.Bytes())
		if err != nil {
			fmt.Printf("rejected %q: %s\n", sc.Text(), err.(*adexp.SyntaxError).Code)
			continue
		}
		fmt.Printf("accepted %s (%d bytes)\n", key, len(sc.Bytes()))
	}
	// Output:
	// rejected "181022-130556": adexp.no_title
	// accepted LAM (63 bytes)
	// rejected " AOBT: 1304": adexp.no_title
	// accepted EDDM///DLH5KF/EDDH (91 bytes)
}
