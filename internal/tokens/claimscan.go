package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// jscan reads JSON that json.Valid has accepted. It exists to see what encoding/json hides:
// duplicate member names (encoding/json and go-jose keep the last), and to read the few claims
// we need without reflection.
type jscan struct {
	b []byte
	i int
}

var errJSON = errors.New("unexpected JSON")

// maxDepth bounds nesting in claims we skip.
const maxDepth = 8

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object reads an object, calling member with each name (decoded) positioned at its value;
// member must consume the value.
func (s *jscan) object(member func(key []byte) error) error {
	if s.peek() != '{' {
		return errJSON
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, err := s.stringValue()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errJSON
		}
		s.i++
		s.ws()
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// array reads an array, calling elem positioned at each element; elem must consume it.
func (s *jscan) array(elem func() error) error {
	if s.peek() != '[' {
		return errJSON
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// stringValue reads a string and returns its decoded bytes (aliasing the input when it has no
// escapes).
func (s *jscan) stringValue() ([]byte, error) {
	if s.peek() != '"' {
		return nil, errJSON
	}
	start := s.i
	escaped := false
	j := start + 1
	for ; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
			continue
		case '"':
		default:
			continue
		}
		break
	}
	if j >= len(s.b) {
		return nil, errJSON
	}
	s.i = j + 1
	if !escaped {
		return s.b[start+1 : j], nil
	}
	var out string
	if err := json.Unmarshal(s.b[start:j+1], &out); err != nil {
		return nil, errJSON
	}
	// encoding/json turns an unpaired surrogate escape (\ud800) into U+FFFD; a strict parser
	// refuses it. Refuse it too, unless U+FFFD was really written.
	if strings.ContainsRune(out, utf8.RuneError) && !bytes.Contains(s.b[start:j+1], []byte("\xef\xbf\xbd")) &&
		!bytes.Contains(bytes.ToLower(s.b[start:j+1]), []byte(`\ufffd`)) {
		return nil, errJSON
	}
	return []byte(out), nil
}

func (s *jscan) nonEmptyString() (string, error) {
	v, err := s.stringValue()
	if err != nil || len(v) == 0 {
		return "", errJSON
	}
	return string(v), nil
}

// intValue reads a JSON number that is an integer of at most 15 digits (NumericDates we issue).
func (s *jscan) intValue() (int64, error) {
	s.ws()
	neg := false
	if s.i < len(s.b) && s.b[s.i] == '-' {
		neg = true
		s.i++
	}
	var n int64
	digits := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
		digits++
	}
	if digits == 0 || digits > 15 {
		return 0, errJSON
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, errJSON
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// skipValue skips any value, refusing duplicate member names in nested objects.
func (s *jscan) skipValue(depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deeply")
	}
	switch s.peek() {
	case '"':
		_, err := s.stringValue()
		return err
	case '{':
		var names [][]byte
		return s.object(func(key []byte) error {
			for _, n := range names {
				if bytes.Equal(n, key) {
					return errors.New("duplicate member")
				}
			}
			names = append(names, key)
			return s.skipValue(depth + 1)
		})
	case '[':
		return s.array(func() error { return s.skipValue(depth + 1) })
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil
			}
			s.i++
		}
		return nil
	}
}
