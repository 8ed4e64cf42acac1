package main

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// rawSeries reads a data file straight from disk, apart from the code under test.
func rawSeries(t *testing.T, file string) Series {
	t.Helper()
	b, err := os.ReadFile("data/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var s Series
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantSummary works out what the summary must say from the raw data, in a plain loop.
func wantSummary(s Series) (start, end, high, low Point, pct float64) {
	start, end = Point(s.Prices[0]), Point(s.Prices[len(s.Prices)-1])
	high, low = start, start
	for _, p := range s.Prices {
		if p.Close > high.Close {
			high = Point(p)
		}
		if p.Close < low.Close {
			low = Point(p)
		}
	}
	pct = math.Round(100*float64(end.Close-start.Close)/float64(start.Close)*10) / 10
	return start, end, high, low, pct
}

func TestSummarize_NumbersMatchTheData(t *testing.T) {
	for _, c := range []struct{ file, trend string }{{"hanbit.json", "up"}, {"bada.json", "down"}, {"soop.json", "flat"}} {
		raw := rawSeries(t, c.file)
		got := Summarize(catalogSeries(t, raw.Symbol))
		start, end, high, low, pct := wantSummary(raw)
		if got.Start != start || got.End != end || got.High != high || got.Low != low || got.ChangePercent != pct {
			t.Errorf("%s: start %v end %v high %v low %v change %v; want %v %v %v %v %v",
				c.file, got.Start, got.End, got.High, got.Low, got.ChangePercent, start, end, high, low, pct)
		}
		if got.Days != len(raw.Prices) || got.Days != 60 || got.Trend != c.trend || !got.Synthetic {
			t.Errorf("%s: %d days, trend %q, synthetic %v; want 60, %q, true", c.file, got.Days, got.Trend, got.Synthetic, c.trend)
		}
		for _, num := range []int{start.Close, end.Close, high.Close, low.Close} {
			if !strings.Contains(got.Text.Ko, won(num)+"원") || !strings.Contains(got.Text.En, won(num)+" won") {
				t.Errorf("%s: the sentences do not name %s won:\n%s\n%s", c.file, won(num), got.Text.Ko, got.Text.En)
			}
		}
		if !strings.Contains(got.Text.Ko, "(예시 데이터)") || !strings.Contains(got.Text.En, "(sample data)") {
			t.Errorf("%s: the sentences do not say the data is a sample:\n%s\n%s", c.file, got.Text.Ko, got.Text.En)
		}
	}
}

func TestSummarize_Sentences(t *testing.T) {
	for _, c := range []struct {
		name   string
		closes []int
		trend  string
		ko, en string
	}{
		{"up", []int{71200, 69500, 78000, 75800}, "up",
			"시험전자(예시 데이터)는 4거래일 동안 4월 1일 71,200원에서 4월 4일 75,800원으로 6.5% 올랐습니다. 최고가는 4월 3일 78,000원, 최저가는 4월 2일 69,500원이었습니다.",
			"Test Electronics (sample data) rose 6.5% from 71,200 won on April 1 to 75,800 won on April 4, over 4 trading days. The high was 78,000 won on April 3 and the low was 69,500 won on April 2."},
		{"down", []int{20000, 21000, 15000}, "down",
			"시험전자(예시 데이터)는 3거래일 동안 4월 1일 20,000원에서 4월 3일 15,000원으로 25.0% 내렸습니다. 최고가는 4월 2일 21,000원, 최저가는 4월 3일 15,000원이었습니다.",
			"Test Electronics (sample data) fell 25.0% from 20,000 won on April 1 to 15,000 won on April 3, over 3 trading days. The high was 21,000 won on April 2 and the low was 15,000 won on April 3."},
		{"flat, a little down", []int{50000, 52000, 49600}, "flat",
			"시험전자(예시 데이터)는 3거래일 동안 4월 1일 50,000원에서 4월 3일 49,600원으로 0.8% 내려 거의 변하지 않았습니다. 최고가는 4월 2일 52,000원, 최저가는 4월 3일 49,600원이었습니다.",
			"Test Electronics (sample data) was almost unchanged, down 0.8% from 50,000 won on April 1 to 49,600 won on April 3, over 3 trading days. The high was 52,000 won on April 2 and the low was 49,600 won on April 3."},
		{"flat, no change", []int{900, 900}, "flat",
			"시험전자(예시 데이터)는 2거래일 동안 4월 1일 900원에서 4월 2일 900원으로 변하지 않았습니다. 최고가는 4월 1일 900원, 최저가는 4월 1일 900원이었습니다.",
			"Test Electronics (sample data) did not change from 900 won on April 1 to 900 won on April 2, over 2 trading days. The high was 900 won on April 1 and the low was 900 won on April 1."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Summarize(series(c.closes...))
			if got.Trend != c.trend {
				t.Errorf("trend %q, want %q", got.Trend, c.trend)
			}
			if diff := cmp.Diff(Texts{Ko: c.ko, En: c.en}, got.Text); diff != "" {
				t.Errorf("sentences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWon(t *testing.T) {
	for n, want := range map[int]string{5: "5", 900: "900", 1000: "1,000", 71200: "71,200", 1234567: "1,234,567"} {
		if got := won(n); got != want {
			t.Errorf("won(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLoadCatalog_RefusesBadData(t *testing.T) {
	good := `{"symbol":"A","name":"가","name_en":"A","prices":[{"date":"2026-03-02","close":10},{"date":"2026-03-03","close":11}]}`
	for _, c := range []struct {
		name, file, want string
	}{
		{"not JSON", `{`, "unexpected end"},
		{"one day", `{"symbol":"B","prices":[{"date":"2026-03-02","close":10}]}`, "at least 2"},
		{"dates out of order", `{"symbol":"B","prices":[{"date":"2026-03-03","close":10},{"date":"2026-03-02","close":11}]}`, "does not follow"},
		{"bad date", `{"symbol":"B","prices":[{"date":"3/2","close":10},{"date":"2026-03-03","close":11}]}`, "cannot parse"},
		{"zero close", `{"symbol":"B","prices":[{"date":"2026-03-02","close":0},{"date":"2026-03-03","close":11}]}`, "not positive"},
		{"lower-case symbol", `{"symbol":"b","prices":[{"date":"2026-03-02","close":1},{"date":"2026-03-03","close":11}]}`, "upper case"},
		{"symbol twice", good, "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadCatalog(fstest.MapFS{"a.json": {Data: []byte(good)}, "b.json": {Data: []byte(c.file)}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := LoadCatalog(fstest.MapFS{}); err == nil {
		t.Error("an empty catalog loaded without error")
	}
}

func TestDefaultCatalog_SaysItIsSynthetic(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.All()) != 3 {
		t.Errorf("%d series, want 3", len(c.All()))
	}
	for _, s := range c.All() {
		if !strings.Contains(s.Note, "synthetic, not real prices") || s.Currency != "KRW" {
			t.Errorf("%s: note %q, currency %q; want it labelled synthetic, in KRW", s.Symbol, s.Note, s.Currency)
		}
	}
	if _, ok := c.Lookup("hanbit"); !ok {
		t.Error("lookup is not case-insensitive")
	}
}
