package main

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// FlatPercent is the largest change, in percent either way, that still counts as flat.
const FlatPercent = 1.0

// Point is a close on a date.
type Point struct {
	Date  string `json:"date"`
	Close int    `json:"close"`
}

// Summary is what a screen reader user needs to know about a series before (or instead of)
// listening to it. It is the JSON of GET /charts/{symbol}.
type Summary struct {
	Symbol        string  `json:"symbol"`
	Name          string  `json:"name"`
	NameEn        string  `json:"name_en"`
	Currency      string  `json:"currency"`
	Synthetic     bool    `json:"synthetic"`
	Days          int     `json:"days"`
	Start         Point   `json:"start"`
	End           Point   `json:"end"`
	ChangePercent float64 `json:"change_percent"` // rounded to one decimal
	High          Point   `json:"high"`
	Low           Point   `json:"low"`
	Trend         string  `json:"trend"` // up, down or flat
	Text          Texts   `json:"summary"`
	AudioURL      string  `json:"audio_url"`
}

// Texts are the same sentences in Korean and in English.
type Texts struct {
	Ko string `json:"ko"`
	En string `json:"en"`
}

// In returns the text in lang ("ko" or "en").
func (t Texts) In(lang string) string {
	if lang == "en" {
		return t.En
	}
	return t.Ko
}

// Summarize describes s: first and last close, change, the period's high and low (their first
// day, when a close repeats) and the trend.
func Summarize(s *Series) Summary {
	first, last := s.Prices[0], s.Prices[len(s.Prices)-1]
	hi, lo := highLow(s.Prices)
	change := math.Round(float64(last.Close-first.Close)/float64(first.Close)*1000) / 10
	trend := "flat"
	switch {
	case change > FlatPercent:
		trend = "up"
	case change < -FlatPercent:
		trend = "down"
	}
	sum := Summary{
		Symbol: s.Symbol, Name: s.Name, NameEn: s.NameEn, Currency: s.Currency, Synthetic: true,
		Days: len(s.Prices), Start: Point(first), End: Point(last), ChangePercent: change,
		High: Point(s.Prices[hi]), Low: Point(s.Prices[lo]), Trend: trend,
		AudioURL: "/charts/" + s.Symbol + ".wav",
	}
	sum.Text = Texts{Ko: sentenceKo(sum), En: sentenceEn(sum)}
	return sum
}

// highLow returns the index of the first highest and the first lowest close.
func highLow(ps []Price) (hi, lo int) {
	for i, p := range ps {
		if p.Close > ps[hi].Close {
			hi = i
		}
		if p.Close < ps[lo].Close {
			lo = i
		}
	}
	return hi, lo
}

func sentenceKo(s Summary) string {
	from := fmt.Sprintf("%s %s원에서 %s %s원으로", dateKo(s.Start.Date), won(s.Start.Close), dateKo(s.End.Date), won(s.End.Close))
	pct := percent(math.Abs(s.ChangePercent))
	var move string
	switch {
	case s.Trend == "up":
		move = pct + "% 올랐습니다."
	case s.Trend == "down":
		move = pct + "% 내렸습니다."
	case s.ChangePercent < 0:
		move = pct + "% 내려 거의 변하지 않았습니다."
	case s.ChangePercent > 0:
		move = pct + "% 올라 거의 변하지 않았습니다."
	default:
		move = "변하지 않았습니다."
	}
	return fmt.Sprintf("%s(예시 데이터)는 %d거래일 동안 %s %s 최고가는 %s %s원, 최저가는 %s %s원이었습니다.",
		s.Name, s.Days, from, move, dateKo(s.High.Date), won(s.High.Close), dateKo(s.Low.Date), won(s.Low.Close))
}

func sentenceEn(s Summary) string {
	pct := percent(math.Abs(s.ChangePercent))
	span := fmt.Sprintf("from %s won on %s to %s won on %s", won(s.Start.Close), dateEn(s.Start.Date), won(s.End.Close), dateEn(s.End.Date))
	var move string
	switch {
	case s.Trend == "up":
		move = "rose " + pct + "% " + span
	case s.Trend == "down":
		move = "fell " + pct + "% " + span
	case s.ChangePercent < 0:
		move = "was almost unchanged, down " + pct + "% " + span
	case s.ChangePercent > 0:
		move = "was almost unchanged, up " + pct + "% " + span
	default:
		move = "did not change " + span
	}
	return fmt.Sprintf("%s (sample data) %s, over %d trading days. The high was %s won on %s and the low was %s won on %s.",
		s.NameEn, move, s.Days, won(s.High.Close), dateEn(s.High.Date), won(s.Low.Close), dateEn(s.Low.Date))
}

// won writes n with thousands separators: 71200 → "71,200".
func won(n int) string {
	s := strconv.Itoa(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// percent writes a rounded percentage with one decimal: 6.5, 24.4, 0.8.
func percent(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) }

func dateKo(d string) string {
	t, _ := time.Parse(time.DateOnly, d)
	return fmt.Sprintf("%d월 %d일", t.Month(), t.Day())
}

func dateEn(d string) string {
	t, _ := time.Parse(time.DateOnly, d)
	return t.Format("January 2")
}
