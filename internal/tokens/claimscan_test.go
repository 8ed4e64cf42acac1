package tokens

import (
	"encoding/json"
	"testing"
)

// TestJScan checks the scanner on its own: what it must see that encoding/json hides
// (duplicate members at any depth), the integers it accepts, and strings with escapes.
func TestJScan(t *testing.T) {
	skip := func(s *jscan) error { return s.skipValue(0) }
	integer := func(s *jscan) error { _, err := s.intValue(); return err }
	tests := []struct {
		name string
		json string
		read func(*jscan) error
		ok   bool
	}{
		{"NestedObject", `{"a":{"b":1,"c":[1,{"d":true}]}}`, skip, true},
		{"NestedDuplicate", `{"a":{"b":1,"b":2}}`, skip, false},
		{"DuplicateInArray", `[{"x":null,"x":null}]`, skip, false},
		{"TooDeep", `[[[[[[[[[[1]]]]]]]]]]`, skip, false},
		{"MaxDepth", `[[[[[[[[1]]]]]]]]`, skip, true},
		{"Integer", `1772355600`, integer, true},
		{"NegativeInteger", `-5`, integer, true},
		{"Fraction", `1.5`, integer, false},
		{"Exponent", `1e9`, integer, false},
		{"SixteenDigits", `1234567890123456`, integer, false},
		{"NotANumber", `"1"`, integer, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid([]byte(tt.json)) {
				t.Fatalf("test input %s is not JSON", tt.json)
			}
			s := &jscan{b: []byte(tt.json)}
			if err := tt.read(s); (err == nil) != tt.ok {
				t.Errorf("%s: got error %v, want ok %v", tt.json, err, tt.ok)
			}
		})
	}
}

// TestJScan_String checks that names and values are decoded, escapes included, so that
// "s\u0075b" is seen as a second "sub".
func TestJScan_String(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"sub"`, "sub"},
		{`"s\u0075b"`, "sub"},
		{`"a\"b"`, `a"b`},
		{`""`, ""},
	} {
		s := &jscan{b: []byte(tt.in)}
		got, err := s.stringValue()
		if err != nil || string(got) != tt.want {
			t.Errorf("stringValue(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	s := &jscan{b: []byte(`{"sub":"a","s\u0075b":"b"}`)}
	var names []string
	if err := s.object(func(key []byte) error {
		names = append(names, string(key))
		_, err := s.stringValue()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "sub" || names[1] != "sub" {
		t.Errorf("member names %q, want two \"sub\"", names)
	}
}
