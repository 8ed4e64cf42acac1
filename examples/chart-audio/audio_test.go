package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/go-audio/wav"
)

// series builds a series of closes on consecutive days, for tests.
func series(closes ...int) *Series {
	s := &Series{Symbol: "TEST", Name: "시험전자", NameEn: "Test Electronics", Currency: "KRW"}
	for i, c := range closes {
		s.Prices = append(s.Prices, Price{Date: "2026-04-" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)), Close: c})
	}
	return s
}

func catalogSeries(t *testing.T, symbol string) *Series {
	t.Helper()
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := c.Lookup(symbol)
	if !ok {
		t.Fatalf("no %s in the sample data", symbol)
	}
	return s
}

// le reads a little-endian field of a WAV header.
func le(b []byte, off, size int) int {
	if size == 2 {
		return int(binary.LittleEndian.Uint16(b[off:]))
	}
	return int(binary.LittleEndian.Uint32(b[off:]))
}

func TestWAV_RIFFHeader(t *testing.T) {
	s := catalogSeries(t, "HANBIT")
	b, err := DefaultSound.WAV(s)
	if err != nil {
		t.Fatal(err)
	}
	perDay := DefaultSound.Tone + DefaultSound.Gap
	dataBytes := len(s.Prices) * perDay * 2
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"RIFF id", string(b[0:4]), "RIFF"},
		{"RIFF size", le(b, 4, 4), len(b) - 8},
		{"WAVE id", string(b[8:12]), "WAVE"},
		{"fmt id", string(b[12:16]), "fmt "},
		{"fmt size", le(b, 16, 4), 16},
		{"format (1 = PCM)", le(b, 20, 2), 1},
		{"channels", le(b, 22, 2), 1},
		{"sample rate", le(b, 24, 4), 22050},
		{"byte rate", le(b, 28, 4), 22050 * 2},
		{"block align", le(b, 32, 2), 2},
		{"bits per sample", le(b, 34, 2), 16},
		{"data id", string(b[36:40]), "data"},
		{"data size", le(b, 40, 4), dataBytes},
		{"file size", len(b), 44 + dataBytes},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// decode reads a WAV file with go-audio's decoder and returns its samples.
func decode(t *testing.T, b []byte) (*wav.Decoder, []int) {
	t.Helper()
	d := wav.NewDecoder(bytes.NewReader(b))
	if !d.IsValidFile() {
		t.Fatalf("not a valid WAV file (%d bytes)", len(b))
	}
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return d, buf.Data
}

func TestWAV_DurationIsDaysTimesToneAndGap(t *testing.T) {
	for _, symbol := range []string{"BADA", "HANBIT", "SOOP"} {
		s := catalogSeries(t, symbol)
		b, err := DefaultSound.WAV(s)
		if err != nil {
			t.Fatal(err)
		}
		d, samples := decode(t, b)
		if got, want := len(samples), len(s.Prices)*(DefaultSound.Tone+DefaultSound.Gap); got != want {
			t.Errorf("%s: %d samples, want %d days × (tone + gap)", symbol, got, want)
		}
		// 150 ms of tone and 30 ms of silence a day, to within one sample.
		if dur, want := seconds(d, samples), float64(len(s.Prices))*0.180; math.Abs(dur-want) > 1.0/22050 {
			t.Errorf("%s: duration %.6fs, want %.3fs", symbol, dur, want)
		}
		if d.SampleRate != 22050 || d.NumChans != 1 || d.BitDepth != 16 {
			t.Errorf("%s: %d Hz, %d channels, %d bits; want 22050 Hz mono 16-bit", symbol, d.SampleRate, d.NumChans, d.BitDepth)
		}
	}
}

// seconds is the playing time of the decoded samples. (The decoder's own Duration counts
// the 36 bytes of header before the data as sound, 0.8 ms too long here.)
func seconds(d *wav.Decoder, samples []int) float64 {
	return float64(len(samples)) / float64(d.NumChans) / float64(d.SampleRate)
}

// frequency estimates the pitch of samples from their zero crossings.
func frequency(samples []int, rate int) float64 {
	crossings, last := 0, 0
	for _, v := range samples {
		if v == 0 {
			continue
		}
		if last != 0 && (v > 0) != (last > 0) {
			crossings++
		}
		last = v
	}
	return float64(crossings) * float64(rate) / (2 * float64(len(samples)))
}

// halves returns the estimated pitch of the first and second half of day i's tone.
func halves(snd Sound, samples []int, i int) (first, second float64) {
	start := i * (snd.Tone + snd.Gap)
	mid, end := start+snd.Tone/2, start+snd.Tone
	return frequency(samples[start:mid], snd.SampleRate), frequency(samples[mid:end], snd.SampleRate)
}

func TestSamples_HigherCloseIsHigherPitch(t *testing.T) {
	closes := []int{1000, 1500, 1200, 2000, 1100, 1800}
	snd := DefaultSound
	samples := snd.Samples(series(closes...))
	tolerance := 2 * float64(snd.SampleRate) / float64(snd.Tone) // two zero crossings
	pitch := make([]float64, len(closes))
	for i, c := range closes {
		pitch[i], _ = halves(snd, samples, i)
		if want := snd.Pitch(c, 1000, 2000); math.Abs(pitch[i]-want) > tolerance {
			t.Errorf("day %d (close %d): %.1f Hz, want %.1f Hz", i, c, pitch[i], want)
		}
	}
	for i := range closes {
		for j := range closes {
			if closes[i] > closes[j] && pitch[i] <= pitch[j] {
				t.Errorf("close %d sounds at %.1f Hz, not above close %d at %.1f Hz", closes[i], pitch[i], closes[j], pitch[j])
			}
		}
	}
	if lo, hi := pitch[0], pitch[3]; math.Abs(lo-220) > tolerance || math.Abs(hi-880) > tolerance {
		t.Errorf("lowest close at %.1f Hz, highest at %.1f Hz; want 220 and 880", lo, hi)
	}
}

func TestSamples_HighAndLowMarkersDiffer(t *testing.T) {
	// High on day 1, low on day 3. A half tone of 75 ms at 110 Hz has about 16 zero crossings,
	// so the estimate is good to about 10%; an octave is a factor of 2.
	closes := []int{1500, 2000, 1400, 1000, 1600}
	snd := DefaultSound
	samples := snd.Samples(series(closes...))
	ratio := func(i int) float64 {
		a, b := halves(snd, samples, i)
		return b / a
	}
	for _, c := range []struct {
		day  int
		what string
		want float64
	}{
		{0, "an ordinary day keeps its pitch", 1},
		{1, "the high jumps an octave up", 2},
		{3, "the low drops an octave", 0.5},
		{4, "an ordinary day keeps its pitch", 1},
	} {
		if got := ratio(c.day); math.Abs(got-c.want)/c.want > 0.1 {
			t.Errorf("day %d: %s: second half / first half = %.2f, want %.2f", c.day, c.what, got, c.want)
		}
	}
}

func TestSamples_FlatSeriesSoundsInTheMiddle(t *testing.T) {
	snd := DefaultSound
	samples := snd.Samples(series(500, 500, 500))
	first, _ := halves(snd, samples, 1)
	if math.Abs(first-440) > 2*float64(snd.SampleRate)/float64(snd.Tone) {
		t.Errorf("an unchanging price sounds at %.1f Hz, want 440 Hz (the middle of 220–880)", first)
	}
	for i, v := range samples {
		if v > math.MaxInt16 || v < -math.MaxInt16 {
			t.Fatalf("sample %d = %d is outside 16 bits", i, v)
		}
	}
}
