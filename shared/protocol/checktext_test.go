package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// CheckText words its refusal with the field's name and says why through
// errors.Is, so a caller can put it in its own words.
func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		s        string
		required bool
		want     error
		msg      string
	}{
		{"hello", true, nil, ""},
		{"", false, nil, ""},
		{"  \n", true, ErrTextEmpty, "comment is empty"},
		{"\xff", false, ErrTextInvalid, "comment is not valid UTF-8"},
		{strings.Repeat("é", MaxTextRunes), true, nil, ""},
		{strings.Repeat("é", MaxTextRunes+1), true, ErrTextTooLong, fmt.Sprintf("comment has %d characters; the limit is %d", MaxTextRunes+1, MaxTextRunes)},
	} {
		err := CheckText("comment", tc.s, tc.required)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckText(%.20q, %t) = %v, want %v", tc.s, tc.required, err, tc.want)
			continue
		}
		if err != nil && err.Error() != tc.msg {
			t.Errorf("message %q, want %q", err, tc.msg)
		}
	}
}
