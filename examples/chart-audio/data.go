package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// dataFS holds the bundled price series: synthetic, not real prices (see data/*.json).
//
//go:embed data/*.json
var dataFS embed.FS

// Price is one trading day's close, in won.
type Price struct {
	Date  string `json:"date"` // YYYY-MM-DD
	Close int    `json:"close"`
}

// Series is the price history of one symbol over a period.
type Series struct {
	Symbol   string  `json:"symbol"`
	Name     string  `json:"name"`    // Korean name
	NameEn   string  `json:"name_en"` // English name
	Currency string  `json:"currency"`
	Note     string  `json:"note"`
	Prices   []Price `json:"prices"`
}

// Catalog is the set of series the service offers, by symbol, in a fixed order.
type Catalog struct {
	bySymbol map[string]*Series
	order    []*Series
}

// LoadCatalog reads every *.json series of fsys and checks it: a symbol of its own, at least
// two days, dates in increasing order and positive closes.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	c := &Catalog{bySymbol: map[string]*Series{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		s := &Series{}
		if err := json.Unmarshal(b, s); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c.bySymbol[s.Symbol] != nil {
			return nil, fmt.Errorf("%s: symbol %s appears twice", name, s.Symbol)
		}
		c.bySymbol[s.Symbol] = s
		c.order = append(c.order, s)
	}
	if len(c.order) == 0 {
		return nil, fmt.Errorf("no price series found")
	}
	sort.Slice(c.order, func(i, j int) bool { return c.order[i].Symbol < c.order[j].Symbol })
	return c, nil
}

// DefaultCatalog is the bundled sample data.
func DefaultCatalog() (*Catalog, error) {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		return nil, err
	}
	return LoadCatalog(sub)
}

// Lookup finds a series by symbol, in any letter case.
func (c *Catalog) Lookup(symbol string) (*Series, bool) {
	s, ok := c.bySymbol[strings.ToUpper(symbol)]
	return s, ok
}

// All lists the series in symbol order.
func (c *Catalog) All() []*Series { return c.order }

func (s *Series) check() error {
	if s.Symbol == "" || s.Symbol != strings.ToUpper(s.Symbol) {
		return fmt.Errorf("symbol %q must be upper case and not empty", s.Symbol)
	}
	if len(s.Prices) < 2 {
		return fmt.Errorf("%s: %d days, want at least 2", s.Symbol, len(s.Prices))
	}
	var prev time.Time
	for i, p := range s.Prices {
		d, err := time.Parse(time.DateOnly, p.Date)
		if err != nil {
			return fmt.Errorf("%s day %d: %w", s.Symbol, i, err)
		}
		if i > 0 && !d.After(prev) {
			return fmt.Errorf("%s day %d: %s does not follow %s", s.Symbol, i, p.Date, s.Prices[i-1].Date)
		}
		if p.Close <= 0 {
			return fmt.Errorf("%s day %d: close %d is not positive", s.Symbol, i, p.Close)
		}
		prev = d
	}
	return nil
}

// NameIn returns the series' name in lang ("ko" or "en").
func (s *Series) NameIn(lang string) string {
	if lang == "en" {
		return s.NameEn
	}
	return s.Name
}
