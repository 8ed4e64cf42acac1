package main

import (
	"errors"
	"io"
	"math"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// Sound is how a series is turned into sound: one tone per trading day, its pitch on a log
// scale from LowHz (the period's lowest close) to HighHz (the highest), each followed by a
// short silence. At the period's high the second half of the tone jumps an octave up, at its
// low an octave down, so both stand out from the days around them.
type Sound struct {
	SampleRate int     // samples per second (mono, 16-bit PCM)
	Tone       int     // samples of sound per day
	Gap        int     // samples of silence after each tone
	LowHz      float64 // pitch of the lowest close
	HighHz     float64 // pitch of the highest close
	Fade       int     // samples of fade in and out, against clicks
	Amplitude  float64 // peak, as a fraction of full scale
}

// DefaultSound plays 150 ms per day with 30 ms gaps at 22050 Hz, from 220 Hz to 880 Hz (A3 to A5).
var DefaultSound = Sound{SampleRate: 22050, Tone: 3307, Gap: 662, LowHz: 220, HighHz: 880, Fade: 220, Amplitude: 0.5}

// BitDepth is the sample size of the WAV files.
const BitDepth = 16

// Pitch is the frequency of a close within the period's range [lo, hi].
func (snd Sound) Pitch(close, lo, hi int) float64 {
	if hi == lo {
		return math.Sqrt(snd.LowHz * snd.HighHz) // the middle of the scale
	}
	x := float64(close-lo) / float64(hi-lo)
	return snd.LowHz * math.Pow(snd.HighHz/snd.LowHz, x)
}

// Samples renders the series as PCM samples (mono, full scale ±32767).
func (snd Sound) Samples(s *Series) []int {
	hi, lo := highLow(s.Prices)
	hiClose, loClose := s.Prices[hi].Close, s.Prices[lo].Close
	per := snd.Tone + snd.Gap
	out := make([]int, 0, per*len(s.Prices))
	for i, p := range s.Prices {
		f := snd.Pitch(p.Close, loClose, hiClose)
		second := f // the pitch of the tone's second half
		switch i {
		case hi:
			second = f * 2
		case lo:
			second = f / 2
		}
		out = snd.tone(out, f, second)
		out = append(out, make([]int, snd.Gap)...)
	}
	return out
}

// tone appends one tone: first half at f1, second half at f2, with a continuous phase.
func (snd Sound) tone(out []int, f1, f2 float64) []int {
	peak := snd.Amplitude * math.MaxInt16
	phase := 0.0
	for n := range snd.Tone {
		f := f1
		if n >= snd.Tone/2 {
			f = f2
		}
		env := 1.0
		if n < snd.Fade {
			env = float64(n) / float64(snd.Fade)
		} else if rest := snd.Tone - 1 - n; rest < snd.Fade {
			env = float64(rest) / float64(snd.Fade)
		}
		out = append(out, int(math.Round(peak*env*math.Sin(phase))))
		phase += 2 * math.Pi * f / float64(snd.SampleRate)
	}
	return out
}

// WriteWAV writes the series as a RIFF/WAVE file (PCM, mono, 16-bit) to w.
func (snd Sound) WriteWAV(w io.WriteSeeker, s *Series) error {
	enc := wav.NewEncoder(w, snd.SampleRate, BitDepth, 1, 1)
	buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: 1, SampleRate: snd.SampleRate}, Data: snd.Samples(s), SourceBitDepth: BitDepth}
	if err := enc.Write(buf); err != nil {
		return err
	}
	return enc.Close()
}

// memFile is an in-memory io.WriteSeeker: the WAV encoder seeks back to fill in the sizes
// in the header once it knows them.
type memFile struct {
	b   []byte
	pos int
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.pos + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	m.pos += copy(m.b[m.pos:], p)
	return len(p), nil
}

func (m *memFile) Seek(offset int64, whence int) (int64, error) {
	var base int
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = m.pos
	case io.SeekEnd:
		base = len(m.b)
	default:
		return 0, errors.New("memFile: bad whence")
	}
	n := base + int(offset)
	if n < 0 {
		return 0, errors.New("memFile: negative position")
	}
	m.pos = n
	return int64(n), nil
}

// WAV returns the series as the bytes of a WAV file.
func (snd Sound) WAV(s *Series) ([]byte, error) {
	m := &memFile{}
	if err := snd.WriteWAV(m, s); err != nil {
		return nil, err
	}
	return m.b, nil
}
