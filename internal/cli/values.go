package cli

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The flag values below give errors that say what a valid value looks like;
// the standard library's say only "parse error".

type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 500ms, 5s or 2m")
	}
	if d < 0 {
		return errors.New("want a duration of zero or more")
	}
	*v.d = d
	return nil
}

type intValue struct {
	n        *int
	min, max int
}

func (v intValue) String() string {
	if v.n == nil {
		return ""
	}
	return strconv.Itoa(*v.n)
}

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < v.min || n > v.max {
		return fmt.Errorf("want a whole number from %d to %d", v.min, v.max)
	}
	*v.n = n
	return nil
}

// listValue is a comma-separated list; repeating the flag appends.
type listValue struct {
	l       *[]string
	touched bool
}

func (v *listValue) String() string {
	if v.l == nil {
		return ""
	}
	return strings.Join(*v.l, ",")
}

func (v *listValue) Set(s string) error {
	if !v.touched {
		*v.l = nil // the first explicit value replaces the default
		v.touched = true
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*v.l = append(*v.l, p)
		}
	}
	return nil
}

// hostPortsValue is a list of host:port addresses.
type hostPortsValue struct{ listValue }

func (v *hostPortsValue) Set(s string) error {
	var tmp []string
	inner := listValue{l: &tmp, touched: true}
	if err := inner.Set(s); err != nil {
		return err
	}
	for _, a := range tmp {
		if err := checkHostPort(a); err != nil {
			return err
		}
	}
	return v.listValue.Set(s)
}

type hostPortValue struct{ s *string }

func (v hostPortValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v hostPortValue) Set(s string) error {
	if s != "" {
		if err := checkHostPort(s); err != nil {
			return err
		}
	}
	*v.s = s
	return nil
}

func checkHostPort(a string) error {
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q is not host:port", a)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q has no valid port", a)
	}
	return nil
}

// choiceValue accepts one of a fixed set.
type choiceValue struct {
	s       *string
	choices []string
}

func (v choiceValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.s = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.choices, ", "))
}

type locationValue struct{ loc **time.Location }

func (v locationValue) String() string {
	if v.loc == nil || *v.loc == nil {
		return "UTC"
	}
	return (*v.loc).String()
}

func (v locationValue) Set(s string) error {
	l, err := time.LoadLocation(s)
	if err != nil {
		return errors.New("want an IANA time zone such as UTC or Asia/Tokyo")
	}
	*v.loc = l
	return nil
}
