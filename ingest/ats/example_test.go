package ats_test

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/contrail-atm/contrail/ingest/ats"
)

func ExampleParser_Check() {
	var p ats.Parser
	key, ts, err := p.Check([]byte("(FPL-DLH5KF-IS\r\n-A320/M-SDE3FGHIJ1RWY/LB1\r\n-EDDM1304\r\n" +
		"-N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO\r\n-EDDH0105 EDDV\r\n" +
		"-PBN/A1B1C1D1 DOF/181022 REG/DAIPX EET/EDVV0025 RMK/TCAS)"))
	fmt.Println(key, ts.IsZero(), err)

	_, _, err = p.Check([]byte("(CNL-DLH5KF-EDDM1304-EDDH-DOF/181332)"))
	var se *ats.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Code, se.Reason)
	}
	// Output:
	// EDDM/181022/1304/DLH5KF/EDDH true <nil>
	// ats.bad_field field 18 (other information) has DOF/181332, want a valid date yymmdd such as DOF/181022
}

func ExampleSplit() {
	stream := "ZCZC ABC123\r\n(CNL-DLH5KF-EDDM1304-EDDH-DOF/181022)\r\n\r\n(DLA-DLH5KF-EDDM1330-EDDH-DOF/181022)\r\nNNNN\r\n"
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Split(ats.Split)
	var p ats.Parser
	for sc.Scan() {
		key, _, err := p.Check(sc.Bytes())
		if err != nil {
			var se *ats.SyntaxError
			errors.As(err, &se)
			fmt.Printf("reject %q: %s\n", sc.Text(), se.Code)
			continue
		}
		fmt.Printf("accept %s\n", key)
	}
	// Output:
	// reject "ZCZC ABC123": ats.no_parens
	// accept EDDM/181022/1304/DLH5KF/EDDH
	// accept EDDM/181022/1330/DLH5KF/EDDH
	// reject "NNNN": ats.no_parens
}
