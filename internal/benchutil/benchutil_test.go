/*
Copyright 2026 The Plexus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package benchutil

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestPercentiles(t *testing.T) {
	g := NewWithT(t)
	var s Samples
	g.Expect(s.P(50)).To(BeZero())
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	g.Expect(s.P(50)).To(Equal(50 * time.Millisecond))
	g.Expect(s.P(99)).To(Equal(99 * time.Millisecond))
	g.Expect(s.P(100)).To(Equal(100 * time.Millisecond))
	g.Expect(s[0]).To(Equal(100*time.Millisecond), "P does not sort the caller's slice")
	g.Expect(MS(1500 * time.Microsecond)).To(Equal("1.50ms"))
}

func TestLastTiming(t *testing.T) {
	g := NewWithT(t)
	log := "x [verbose] ADD c1 ns/p: Timing: total=10ms delegates=8ms resolve=1ms\n" +
		"x [verbose] DEL c1 ns/p: Timing: total=5ms delegates=4.5ms cache-load=70µs api=2\n"
	tm, err := LastTiming(log)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tm.Total).To(Equal(5 * time.Millisecond))
	g.Expect(tm.Phases).To(Equal(map[string]time.Duration{"cache-load": 70 * time.Microsecond}), "api=2 is not a duration")
	g.Expect(tm.Delegates).To(Equal(4500 * time.Microsecond))
	g.Expect(tm.Line).To(HavePrefix("total=5ms"))
	_, err = LastTiming("no timing here")
	g.Expect(err).To(MatchError(ContainSubstring("no timing line")))
	_, err = LastTiming("Timing: total=abc")
	g.Expect(err).To(HaveOccurred())
}
